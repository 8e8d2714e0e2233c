// AWS Signature Version 4 for S3 requests, written from the public
// specification: canonical request, string to sign, signing key and the
// Authorization header; plus the hashing helpers the S3 client needs
// (SHA-256, HMAC-SHA256, MD5, Base64) on top of OpenSSL.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/types.h"
#include "storage/http.h"

namespace litekeep::storage::s3 {

using storage::KeyValues;

// Credentials used to sign. The secret never leaves this struct except as
// input to HMAC; nothing prints it.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// The payload hash S3 accepts when the body is not hashed.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of zero bytes, lower-case hex.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// What is signed. Paths and query parts are given decoded (raw bytes); the
// signer applies S3's URI encoding exactly once.
struct SigningRequest {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // raw absolute path, e.g. "/bucket/my key.ltx"
  KeyValues query;     // raw (name, value); a bare name has value ""
  KeyValues headers;   // must include Host; every header given is signed
  // Lower-case hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash = std::string(kEmptyPayloadSha256);
  // Add (and sign) x-amz-content-sha256: S3 requires it on every request.
  bool content_sha256_header = true;
  // Sign X-Amz-Security-Token when a session token is present; when false
  // the token header is added after signing (some services want that).
  bool sign_session_token = true;
};

// The result of signing: every intermediate value (for tests) and the
// headers to add to the request.
struct SignedRequest {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // value of the Authorization header
  // Headers to send in addition to SigningRequest::headers:
  // X-Amz-Date, x-amz-content-sha256 (if asked), X-Amz-Security-Token (if
  // any) and Authorization.
  KeyValues added_headers;
};

// Signs a request at time `now` for (region, service). Deterministic:
// same inputs give the same signature.
SignedRequest SignV4(const SigningRequest& request,
                     const Credentials& credentials, std::string_view region,
                     std::string_view service, TimePoint now);

// AWS URI encoding: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX
// (upper-case hex); '/' is kept when encode_slash is false.
std::string UriEncode(std::string_view text, bool encode_slash);
// Reverses %XX escapes (a malformed escape is kept literally).
std::string UriDecode(std::string_view text);

// "YYYYMMDDTHHMMSSZ" in UTC.
std::string AmzDate(TimePoint t);

// Lower-case hex of bytes.
std::string HexEncode(std::span<const uint8_t> bytes);
// SHA-256 of data as lower-case hex.
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
// Standard Base64 (with padding).
std::string Base64Encode(std::span<const uint8_t> bytes);
// Base64 of the raw MD5 of data (the Content-MD5 header value).
std::string Md5Base64(std::string_view data);
// MD5 of data as lower-case hex (S3's ETag of a single-part object).
std::string Md5Hex(std::string_view data);

// Incremental SHA-256 and MD5 over a stream of chunks.
class StreamHash {
 public:
  StreamHash();
  ~StreamHash();
  StreamHash(const StreamHash&) = delete;
  StreamHash& operator=(const StreamHash&) = delete;
  void Update(std::span<const uint8_t> data);
  // Finishes both digests; call once.
  void Finish(std::string* sha256_hex, std::string* md5_base64);

 private:
  void* sha_ = nullptr;  // EVP_MD_CTX*
  void* md5_ = nullptr;  // EVP_MD_CTX*
};

}  // namespace litekeep::storage::s3
