// NATS nkeys and user credentials (docs/storage_layout.md, "NATS logins"):
// ed25519 keys written as base32 (RFC 4648, no padding) of a prefix byte,
// the 32 key bytes and a CRC-16/XMODEM in little-endian order; seeds
// ("SU…") carry a two-byte prefix. A KeyPair signs the server's login nonce;
// ParseCreds reads a `.creds` file (a user JWT and the user's seed). Seeds
// are secrets: no message here ever quotes one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace litekeep::storage::nats {

// The role a key belongs to: its prefix byte (the first base32 letter).
enum class NkeyType : uint8_t {
  kAccount = 0,         // 'A'
  kServer = 13 << 3,    // 'N'
  kOperator = 14 << 3,  // 'O'
  kUser = 20 << 3,      // 'U'
};

// "user", "account", …: for messages.
std::string_view NkeyTypeName(NkeyType type);

// The public key text ("U…", 56 letters) of raw ed25519 public key bytes.
std::string EncodePublicKey(NkeyType type, const std::array<uint8_t, 32>& key);

// The raw bytes of a public key of the given type. Errors say what is wrong
// (length, alphabet, checksum, role) without quoting the text.
Result<std::array<uint8_t, 32>> DecodePublicKey(std::string_view text,
                                                NkeyType type);

// An ed25519 key pair from a seed. Holds the seed in memory (wiped when
// destroyed); never prints it.
class KeyPair {
 public:
  // From seed text ("SU…", "SA…", "SO…"). Errors say what is wrong (not a
  // seed, bad checksum, unknown role) without quoting the text.
  static Result<KeyPair> FromSeed(std::string_view seed);
  // A fresh random key pair of the type (for tests and tools).
  static Result<KeyPair> Generate(NkeyType type);

  KeyPair(const KeyPair& other) = default;
  KeyPair& operator=(const KeyPair& other) = default;
  ~KeyPair();

  NkeyType type() const { return type_; }
  // The public key text ("U…").
  const std::string& public_key() const { return public_key_; }
  // The seed text ("SU…"): a secret, for writing credentials files only.
  std::string EncodedSeed() const;
  // The raw 64-byte ed25519 signature of data.
  Result<std::string> Sign(std::string_view data) const;

 private:
  KeyPair() = default;

  NkeyType type_ = NkeyType::kUser;
  std::array<uint8_t, 32> seed_{};
  std::string public_key_;
};

// A user JWT and the seed that proves it (nats.go's UserJWTAndSeed).
struct UserCreds {
  std::string jwt;
  std::string seed;  // secret
};

// Parses the text of a NATS `.creds` file: the first framed block
// ("-----BEGIN NATS USER JWT-----" … "------END NATS USER JWT------") is
// the JWT, the next ("-----BEGIN USER NKEY SEED-----" …) the seed. Errors
// start with `where` (the file) and say what is wrong.
Result<UserCreds> ParseCreds(std::string_view text, std::string_view where);

// Checks that a user JWT and seed belong together: the JWT has three
// parts, its claims are a user's ("nats":{"type":"user"}), its subject is
// the seed's public key, and it has not expired (now_unix). Errors start
// with `where` and name the keys (public keys only).
base::Status CheckUserJwt(std::string_view jwt, const KeyPair& seed,
                          int64_t now_unix, std::string_view where);

}  // namespace litekeep::storage::nats
