// AWS Signature Version 4 signing and the OpenSSL hashing helpers.
#include "storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace litekeep::storage::s3 {
namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims leading/trailing whitespace and collapses runs of spaces to one.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr);
  return HexEncode({digest, len});
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (unsigned char c : text) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hexval(text[i + 1]) >= 0 &&
        hexval(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hexval(text[i + 1]) * 16 + hexval(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string AmzDate(TimePoint t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  return DigestHex(EVP_sha256(), data);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Md5Base64(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return Base64Encode({digest, len});
}

std::string Md5Hex(std::string_view data) { return DigestHex(EVP_md5(), data); }

StreamHash::StreamHash() {
  auto* sha = EVP_MD_CTX_new();
  auto* md5 = EVP_MD_CTX_new();
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  EVP_DigestInit_ex(md5, EVP_md5(), nullptr);
  sha_ = sha;
  md5_ = md5;
}

StreamHash::~StreamHash() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_));
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(md5_));
}

void StreamHash::Update(std::span<const uint8_t> data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(sha_), data.data(), data.size());
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(md5_), data.data(), data.size());
}

void StreamHash::Finish(std::string* sha256_hex, std::string* md5_base64) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(sha_), digest, &len);
  if (sha256_hex) *sha256_hex = HexEncode({digest, len});
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(md5_), digest, &len);
  if (md5_base64) *md5_base64 = Base64Encode({digest, len});
}

SignedRequest SignV4(const SigningRequest& request,
                     const Credentials& credentials, std::string_view region,
                     std::string_view service, TimePoint now) {
  SignedRequest out;
  const std::string amz_date = AmzDate(now);
  const std::string date = amz_date.substr(0, 8);

  // Headers to sign: the caller's plus ours, lower-cased, grouped by name in
  // order of appearance (duplicates join with ','), sorted by name.
  KeyValues all = request.headers;
  out.added_headers.emplace_back("X-Amz-Date", amz_date);
  if (request.content_sha256_header) {
    out.added_headers.emplace_back("x-amz-content-sha256",
                                   request.payload_hash);
  }
  if (!credentials.session_token.empty() && request.sign_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token",
                                   credentials.session_token);
  }
  for (const auto& h : out.added_headers) all.push_back(h);
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : all) {
    std::string key = ToLower(name);
    std::string v = CanonicalHeaderValue(value);
    auto it = canonical.find(key);
    if (it == canonical.end()) {
      canonical.emplace(std::move(key), std::move(v));
    } else {
      it->second += ',';
      it->second += v;
    }
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ':' + value + '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  // Query: encode names and values, sort by name then value.
  std::vector<std::pair<std::string, std::string>> q;
  q.reserve(request.query.size());
  for (const auto& [k, v] : request.query) {
    q.emplace_back(UriEncode(k, true), UriEncode(v, true));
  }
  std::sort(q.begin(), q.end());
  std::string canonical_query;
  for (const auto& [k, v] : q) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += k + '=' + v;
  }

  std::string path =
      request.path.empty() ? "/" : UriEncode(request.path, false);

  out.canonical_request = request.method + '\n' + path + '\n' +
                          canonical_query + '\n' + canonical_headers + '\n' +
                          signed_headers + '\n' + request.payload_hash;

  const std::string scope = date + '/' + std::string(region) + '/' +
                            std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + '\n' + scope + '\n' +
                       Sha256Hex(out.canonical_request);

  std::string k = HmacSha256("AWS4" + credentials.secret_access_key, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  const std::string sig = HmacSha256(k, out.string_to_sign);
  out.signature =
      HexEncode({reinterpret_cast<const uint8_t*>(sig.data()), sig.size()});
  out.authorization =
      "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + '/' + scope +
      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;

  if (!credentials.session_token.empty() && !request.sign_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token",
                                   credentials.session_token);
  }
  out.added_headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace litekeep::storage::s3
