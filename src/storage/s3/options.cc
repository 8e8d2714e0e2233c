// ReplicaSettings -> S3Options, and the storage class / encryption headers.
#include "storage/s3/options.h"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "base/text.h"
#include "storage/url.h"

namespace litekeep::storage::s3 {
namespace {

// A 32-byte key given raw or in base64 (44 characters). Errors never show
// the key.
Result<std::string> DecodeCustomerKey(const std::string& text,
                                      const std::string& where) {
  if (text.size() == 32) return text;
  std::string b64 = base::Trim(text);
  if (b64.size() == 44) {
    unsigned char out[33] = {};
    int n =
        EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(b64.data()),
                        static_cast<int>(b64.size()));
    // 44 base64 characters decode to 33 bytes with one '=' of padding.
    if (n == 33 && b64.back() == '=' && b64[42] != '=') {
      return std::string(reinterpret_cast<char*>(out), 32);
    }
  }
  return base::InvalidArgumentError(
      where +
      ": an SSE-C key must be 32 bytes, raw or base64-encoded (44 "
      "characters); got " +
      std::to_string(text.size()) + " bytes (value not shown)");
}

}  // namespace

Result<S3Options> OptionsFromSettings(const ReplicaSettings& s) {
  S3Options o;
  o.bucket = s.bucket;
  o.path = s.path;
  o.region = s.region;
  o.endpoint = s.endpoint;
  if (s.force_path_style || !s.endpoint.empty()) {
    o.force_path_style = s.force_path_style || !s.endpoint.empty();
  }
  o.skip_verify = s.skip_verify;
  o.ca_bundle = s.ca_bundle;
  o.access_key_id = s.access_key_id;
  o.secret_access_key = s.secret_access_key;
  o.session_token = s.session_token;
  o.profile = s.profile;
  if (s.sign_payload) o.sign_payload = *s.sign_payload;
  if (s.require_content_md5) o.content_md5 = *s.require_content_md5;
  if (s.part_size) o.part_size = *s.part_size;
  if (s.concurrency) {
    if (*s.concurrency < 1 || *s.concurrency > 1024) {
      return base::InvalidArgumentError(
          "concurrency: must be between 1 and 1024, got " +
          std::to_string(*s.concurrency));
    }
    o.concurrency = static_cast<int>(*s.concurrency);
  }
  if (o.part_size < (1 << 20) && s.part_size) {
    return base::InvalidArgumentError(
        "part-size: must be at least 1MiB (5MiB on AWS), got " +
        std::to_string(o.part_size) + " bytes");
  }
  o.storage_class = s.storage_class;
  for (char c : o.storage_class) {
    if (!(std::isupper(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return base::InvalidArgumentError(
          "storage-class: \"" + o.storage_class +
          "\" is not an S3 storage class (e.g. STANDARD, STANDARD_IA, "
          "INTELLIGENT_TIERING, GLACIER_IR)");
    }
  }

  // Server-side encryption.
  std::string sse = base::Lower(s.sse);
  if (sse == "aes256" || sse == "sse-s3") {
    o.sse = Sse::kS3;
  } else if (sse == "aws:kms" || sse == "sse-kms" || sse == "kms") {
    o.sse = Sse::kKms;
  } else if (!sse.empty()) {
    return base::InvalidArgumentError(
        "sse: expected AES256 or aws:kms, got \"" + s.sse + "\"");
  }
  if (!s.sse_kms_key_id.empty()) {
    if (o.sse == Sse::kS3) {
      return base::InvalidArgumentError(
          "sse-kms-key-id: set with sse: AES256; a KMS key needs sse: aws:kms "
          "(or no sse at all)");
    }
    o.sse = Sse::kKms;
    o.sse_kms_key_id = s.sse_kms_key_id;
  }
  const bool customer =
      !s.sse_customer_key.empty() || !s.sse_customer_key_path.empty();
  if (!s.sse_customer_key.empty() && !s.sse_customer_key_path.empty()) {
    return base::InvalidArgumentError(
        "sse-customer-key and sse-customer-key-path are both set; use one");
  }
  if (!s.sse_customer_algorithm.empty() &&
      s.sse_customer_algorithm != "AES256") {
    return base::InvalidArgumentError(
        "sse-customer-algorithm: only AES256 exists, got \"" +
        s.sse_customer_algorithm + "\"");
  }
  if (!s.sse_customer_algorithm.empty() && !customer) {
    return base::InvalidArgumentError(
        "sse-customer-algorithm is set but no key: set sse-customer-key or "
        "sse-customer-key-path");
  }
  if (customer && o.sse != Sse::kNone) {
    return base::InvalidArgumentError(
        "SSE-C (sse-customer-key) cannot be combined with sse / "
        "sse-kms-key-id: choose one kind of server-side encryption");
  }
  if (!s.sse_customer_key.empty()) {
    LK_ASSIGN_OR_RETURN(
        o.sse_customer_key,
        DecodeCustomerKey(s.sse_customer_key, "sse-customer-key"));
  } else if (!s.sse_customer_key_path.empty()) {
    std::ifstream in(s.sse_customer_key_path, std::ios::binary);
    if (!in) {
      return base::InvalidArgumentError("sse-customer-key-path: cannot read " +
                                        s.sse_customer_key_path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    LK_ASSIGN_OR_RETURN(
        o.sse_customer_key,
        DecodeCustomerKey(text.str(),
                          "sse-customer-key-path " + s.sse_customer_key_path));
  }
  return o;
}

base::Status CheckSettings(ReplicaSettings* s) {
  if (s->bucket.empty()) {
    return base::InvalidArgumentError(
        "s3 replica has no bucket (set `bucket:` or `url: "
        "s3://BUCKET/path`)");
  }
  s->endpoint = EnsureEndpointScheme(s->endpoint);
  if (!s->endpoint.empty()) {
    size_t start = s->endpoint.find("://") + 3;
    size_t end = s->endpoint.find_first_of("/?#", start);
    std::string authority = s->endpoint.substr(start, end - start);
    if (authority.find('@') != std::string::npos) {
      return base::InvalidArgumentError(
          "endpoint " + RedactUrlText(s->endpoint) +
          " carries credentials; S3 stores take access-key-id and "
          "secret-access-key (config keys) or AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY (environment)");
    }
    if (s->endpoint.find('?') != std::string::npos) {
      return base::InvalidArgumentError("endpoint " +
                                        RedactUrlText(s->endpoint) +
                                        " must not have a query string");
    }
  }
  return OptionsFromSettings(*s).status();
}

KeyValues CreateHeaders(const S3Options& o) {
  KeyValues h;
  if (!o.storage_class.empty()) {
    h.emplace_back("x-amz-storage-class", o.storage_class);
  }
  if (o.sse == Sse::kS3) {
    h.emplace_back("x-amz-server-side-encryption", "AES256");
  } else if (o.sse == Sse::kKms) {
    h.emplace_back("x-amz-server-side-encryption", "aws:kms");
    if (!o.sse_kms_key_id.empty()) {
      h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                     o.sse_kms_key_id);
    }
  }
  for (auto& kv : CustomerKeyHeaders(o)) h.push_back(std::move(kv));
  return h;
}

KeyValues CustomerKeyHeaders(const S3Options& o) {
  KeyValues h;
  if (o.sse_customer_key.empty()) return h;
  const auto* key = reinterpret_cast<const uint8_t*>(o.sse_customer_key.data());
  h.emplace_back("x-amz-server-side-encryption-customer-algorithm", "AES256");
  h.emplace_back("x-amz-server-side-encryption-customer-key",
                 Base64Encode({key, o.sse_customer_key.size()}));
  h.emplace_back("x-amz-server-side-encryption-customer-key-MD5",
                 Md5Base64(o.sse_customer_key));
  return h;
}

}  // namespace litekeep::storage::s3
