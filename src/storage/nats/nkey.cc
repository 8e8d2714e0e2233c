// NATS nkeys (base32 + CRC-16 framing of ed25519 keys), signing with
// OpenSSL's Ed25519, and the `.creds` file format.
#include "storage/nats/nkey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/text.h"
#include "storage/hash.h"

namespace litekeep::storage::nats {
namespace {

constexpr uint8_t kSeedPrefix = 18 << 3;  // 'S'
constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-16/XMODEM (polynomial 0x1021, initial value 0), as nkeys checks it.
uint16_t Crc16(const uint8_t* data, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::string Base32(const std::vector<uint8_t>& bytes) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(acc << (5 - bits)) & 31];
  return out;
}

// Decodes unpadded base32; false on a letter outside the alphabet.
bool Unbase32(std::string_view text, std::vector<uint8_t>* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) return false;
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out->push_back(static_cast<uint8_t>(acc >> (bits - 8)));
      bits -= 8;
    }
  }
  return true;
}

// Appends the CRC of bytes, little-endian, and encodes them.
std::string Frame(std::vector<uint8_t> bytes) {
  const uint16_t crc = Crc16(bytes.data(), bytes.size());
  bytes.push_back(static_cast<uint8_t>(crc & 0xff));
  bytes.push_back(static_cast<uint8_t>(crc >> 8));
  std::string out = Base32(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return out;
}

// Decodes framed text and checks its CRC; on success *raw holds the bytes
// without the CRC. what names the kind of text for messages.
base::Status Unframe(std::string_view text, std::string_view what,
                     std::vector<uint8_t>* raw) {
  if (!Unbase32(text, raw)) {
    return base::InvalidArgumentError(
        std::string(what) +
        " is not an nkey (letters A-Z and digits 2-7 only)");
  }
  if (raw->size() < 4) {
    return base::InvalidArgumentError(std::string(what) +
                                      " is too short to be an nkey");
  }
  const size_t n = raw->size() - 2;
  const uint16_t want = static_cast<uint16_t>((*raw)[n] | ((*raw)[n + 1] << 8));
  if (Crc16(raw->data(), n) != want) {
    OPENSSL_cleanse(raw->data(), raw->size());
    return base::InvalidArgumentError(
        std::string(what) + " has a bad checksum (mistyped or truncated)");
  }
  raw->resize(n);
  return base::Status::Ok();
}

bool KnownType(uint8_t prefix) {
  return prefix == static_cast<uint8_t>(NkeyType::kAccount) ||
         prefix == static_cast<uint8_t>(NkeyType::kServer) ||
         prefix == static_cast<uint8_t>(NkeyType::kOperator) ||
         prefix == static_cast<uint8_t>(NkeyType::kUser);
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<Pkey> PrivateKey(const std::array<uint8_t, 32>& seed) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(),
                                        seed.size()));
  if (key == nullptr) {
    return base::InternalError("OpenSSL has no Ed25519 (EVP_PKEY_ED25519)");
  }
  return key;
}

// URL-safe or standard Base64 without padding, decoded.
Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  return Base64Decode(s);
}

}  // namespace

std::string_view NkeyTypeName(NkeyType type) {
  switch (type) {
    case NkeyType::kAccount:
      return "account";
    case NkeyType::kServer:
      return "server";
    case NkeyType::kOperator:
      return "operator";
    case NkeyType::kUser:
      return "user";
  }
  return "unknown";
}

std::string EncodePublicKey(NkeyType type, const std::array<uint8_t, 32>& key) {
  std::vector<uint8_t> bytes = {static_cast<uint8_t>(type)};
  bytes.insert(bytes.end(), key.begin(), key.end());
  return Frame(std::move(bytes));
}

Result<std::array<uint8_t, 32>> DecodePublicKey(std::string_view text,
                                                NkeyType type) {
  const std::string what =
      "the " + std::string(NkeyTypeName(type)) + " public key";
  std::vector<uint8_t> raw;
  LK_RETURN_IF_ERROR(Unframe(text, what, &raw));
  if (raw.size() != 33 || !KnownType(raw[0])) {
    return base::InvalidArgumentError(what + " is not a public nkey");
  }
  if (raw[0] != static_cast<uint8_t>(type)) {
    return base::InvalidArgumentError(
        what + " is a " +
        std::string(NkeyTypeName(static_cast<NkeyType>(raw[0]))) +
        " key, not a " + std::string(NkeyTypeName(type)) + " key");
  }
  std::array<uint8_t, 32> key;
  std::copy(raw.begin() + 1, raw.end(), key.begin());
  return key;
}

KeyPair::~KeyPair() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

Result<KeyPair> KeyPair::FromSeed(std::string_view seed) {
  std::vector<uint8_t> raw;
  LK_RETURN_IF_ERROR(Unframe(seed, "the seed", &raw));
  const bool is_seed = raw.size() == 34 && (raw[0] & 0xf8) == kSeedPrefix;
  const uint8_t prefix =
      is_seed ? static_cast<uint8_t>(((raw[0] & 7) << 5) | (raw[1] >> 3)) : 0;
  if (!is_seed || !KnownType(prefix)) {
    const bool is_public = raw.size() == 33 && KnownType(raw[0]);
    OPENSSL_cleanse(raw.data(), raw.size());
    return base::InvalidArgumentError(
        is_public ? "the seed is a public key; the seed (starting with S, "
                    "e.g. SU… for a user) is needed to sign"
                  : "the seed is not an nkey seed");
  }
  KeyPair kp;
  kp.type_ = static_cast<NkeyType>(prefix);
  std::copy(raw.begin() + 2, raw.end(), kp.seed_.begin());
  OPENSSL_cleanse(raw.data(), raw.size());
  LK_ASSIGN_OR_RETURN(Pkey key, PrivateKey(kp.seed_));
  std::array<uint8_t, 32> pub;
  size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 ||
      len != pub.size()) {
    return base::InternalError("OpenSSL could not derive an Ed25519 key");
  }
  kp.public_key_ = EncodePublicKey(kp.type_, pub);
  return kp;
}

Result<KeyPair> KeyPair::Generate(NkeyType type) {
  std::array<uint8_t, 32> seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return base::InternalError("no random bytes for a key");
  }
  std::vector<uint8_t> bytes = {
      static_cast<uint8_t>(kSeedPrefix | (static_cast<uint8_t>(type) >> 5)),
      static_cast<uint8_t>((static_cast<uint8_t>(type) & 31) << 3)};
  bytes.insert(bytes.end(), seed.begin(), seed.end());
  OPENSSL_cleanse(seed.data(), seed.size());
  std::string text = Frame(std::move(bytes));
  auto kp = FromSeed(text);
  OPENSSL_cleanse(text.data(), text.size());
  return kp;
}

std::string KeyPair::EncodedSeed() const {
  std::vector<uint8_t> bytes = {
      static_cast<uint8_t>(kSeedPrefix | (static_cast<uint8_t>(type_) >> 5)),
      static_cast<uint8_t>((static_cast<uint8_t>(type_) & 31) << 3)};
  bytes.insert(bytes.end(), seed_.begin(), seed_.end());
  return Frame(std::move(bytes));
}

Result<std::string> KeyPair::Sign(std::string_view data) const {
  LK_ASSIGN_OR_RETURN(Pkey key, PrivateKey(seed_));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      len != 64) {
    return base::InternalError("Ed25519 signing failed in OpenSSL");
  }
  return sig;
}

Result<UserCreds> ParseCreds(std::string_view text, std::string_view where) {
  // Lines, trimmed; a block is a marker line (---…---), one content line,
  // and another marker line.
  std::vector<std::string> lines;
  for (size_t pos = 0; pos <= text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    lines.push_back(base::Trim(text.substr(pos, eol - pos)));
    pos = eol + 1;
  }
  auto marker = [](std::string_view l) {
    return l.size() >= 6 && l.substr(0, 3) == "---" &&
           l.substr(l.size() - 3) == "---";
  };
  std::vector<std::string> blocks;
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    if (marker(lines[i]) && !lines[i + 1].empty() && !marker(lines[i + 1]) &&
        marker(lines[i + 2])) {
      blocks.push_back(lines[i + 1]);
      i += 2;
    }
  }
  for (std::string& l : lines) OPENSSL_cleanse(l.data(), l.size());
  struct Wipe {
    std::vector<std::string>* v;
    ~Wipe() {
      for (std::string& b : *v) OPENSSL_cleanse(b.data(), b.size());
    }
  } wipe{&blocks};
  const std::string w(where);
  if (blocks.empty()) {
    return base::InvalidArgumentError(
        w +
        ": not a NATS credentials file (no \"-----BEGIN NATS USER "
        "JWT-----\" block)");
  }
  if (blocks.size() < 2) {
    return base::InvalidArgumentError(
        w + ": has no \"-----BEGIN USER NKEY SEED-----\" block after the JWT");
  }
  UserCreds c;
  c.jwt = blocks[0];
  c.seed = blocks[1];
  if (std::count(c.jwt.begin(), c.jwt.end(), '.') != 2) {
    return base::InvalidArgumentError(
        w + ": the first block is not a JWT (three dot-separated parts)");
  }
  auto kp = KeyPair::FromSeed(c.seed);
  if (!kp.ok()) {
    return base::InvalidArgumentError(w + ": " + kp.status().message());
  }
  if (kp->type() != NkeyType::kUser) {
    return base::InvalidArgumentError(w + ": the seed is an " +
                                      std::string(NkeyTypeName(kp->type())) +
                                      " seed; a user seed (SU…) is needed");
  }
  return c;
}

base::Status CheckUserJwt(std::string_view jwt, const KeyPair& seed,
                          int64_t now_unix, std::string_view where) {
  const std::string w(where);
  const size_t a = jwt.find('.');
  const size_t b = a == std::string_view::npos ? a : jwt.find('.', a + 1);
  if (b == std::string_view::npos ||
      jwt.find('.', b + 1) != std::string_view::npos) {
    return base::InvalidArgumentError(
        w + ": the user JWT is not a JWT (three dot-separated parts)");
  }
  auto claims_text = Base64UrlDecode(jwt.substr(a + 1, b - a - 1));
  auto claims = claims_text.ok()
                    ? nlohmann::json::parse(*claims_text, nullptr, false)
                    : nlohmann::json();
  if (!claims.is_object()) {
    return base::InvalidArgumentError(
        w + ": the user JWT's claims are not readable JSON");
  }
  std::string type = claims.value("type", std::string());
  if (claims.contains("nats") && claims["nats"].is_object()) {
    type = claims["nats"].value("type", type);
  }
  if (type != "user") {
    return base::InvalidArgumentError(
        w + ": the JWT is " +
        (type.empty()
             ? "not typed"
             : (type[0] == 'a' || type[0] == 'o' ? "an " : "a ") + type) +
        " JWT; a user JWT is needed");
  }
  const std::string sub = claims.value("sub", std::string());
  if (sub != seed.public_key()) {
    return base::InvalidArgumentError(
        w + ": the user JWT is for " + (sub.empty() ? "no subject" : sub) +
        " but the seed is the key of " + seed.public_key());
  }
  if (claims.contains("exp") && claims["exp"].is_number_integer()) {
    const int64_t exp = claims["exp"].get<int64_t>();
    if (exp > 0 && exp <= now_unix) {
      return base::PermissionDeniedError(w + ": the user JWT expired (exp " +
                                         std::to_string(exp) + ", now " +
                                         std::to_string(now_unix) + ")");
    }
  }
  return base::Status::Ok();
}

}  // namespace litekeep::storage::nats
