// AWS Signature Version 4 for S3 requests, written from the public
// specification: canonical request, string to sign, signing key and the
// Authorization header. The hashing helpers it uses live in storage/hash.h.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/types.h"
#include "storage/hash.h"
#include "storage/http.h"

namespace litekeep::storage::s3 {

using storage::KeyValues;
// The shared helpers (storage/hash.h), named here as the S3 code uses them.
using storage::Base64Encode;
using storage::HexEncode;
using storage::HmacSha256;
using storage::Md5Base64;
using storage::Md5Hex;
using storage::Sha256Hex;
using storage::StreamHash;
using storage::UriDecode;
using storage::UriEncode;

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

// "YYYYMMDDTHHMMSSZ" in UTC.
std::string AmzDate(TimePoint t);

}  // namespace litekeep::storage::s3
