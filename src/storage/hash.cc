// The shared hashing and encoding helpers (storage/hash.h) on OpenSSL.
#include "storage/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

namespace litekeep::storage {
namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
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

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out = Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return base::InvalidArgumentError(
        "not Base64 (length " + std::to_string(text.size()) +
        " is not a multiple of 4; value not shown)");
  }
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) {
    return base::InvalidArgumentError("not Base64 (value not shown)");
  }
  // EVP_DecodeBlock counts padding as zero bytes.
  size_t len = static_cast<size_t>(n);
  if (text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
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

}  // namespace litekeep::storage
