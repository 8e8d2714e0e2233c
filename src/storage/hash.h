// The hashing and encoding helpers the HTTP backends share (S3's SigV4, the
// Azure Shared Key signer, GCS's JWT and upload checks) on top of OpenSSL:
// URI encoding, hex, SHA-256, HMAC-SHA256, MD5, Base64 (standard and URL-safe)
// and an incremental SHA-256 + MD5.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace litekeep::storage {

// RFC 3986 encoding as AWS and Azure sign it: every byte except A-Z a-z 0-9
// - _ . ~ becomes %XX (upper-case hex); '/' is kept when encode_slash is
// false.
std::string UriEncode(std::string_view text, bool encode_slash);
// Reverses %XX escapes (a malformed escape is kept literally).
std::string UriDecode(std::string_view text);

// Lower-case hex of bytes.
std::string HexEncode(std::span<const uint8_t> bytes);
// SHA-256 of data as lower-case hex.
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
// Standard Base64 (with padding).
std::string Base64Encode(std::span<const uint8_t> bytes);
inline std::string Base64Encode(std::string_view bytes) {
  return Base64Encode(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}
// URL-safe Base64 without padding (RFC 4648 §5, as JWTs use it).
std::string Base64UrlEncode(std::string_view bytes);
// Decodes standard Base64 (padding required). The error never quotes the
// text (it may be a secret).
Result<std::string> Base64Decode(std::string_view text);
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

}  // namespace litekeep::storage
