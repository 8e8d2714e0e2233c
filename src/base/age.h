// The age v1 file format (age-encryption.org/v1), X25519 recipients only:
// key parsing (Bech32 "age1..." recipients and "AGE-SECRET-KEY-1..."
// identities), a streaming encrypting Writer and decrypting Reader, and
// whole-buffer helpers. The cryptography is OpenSSL's (X25519, HKDF-SHA256,
// ChaCha20-Poly1305, HMAC-SHA256); this file writes only the format. What it
// protects against and how keys are handled: docs/encryption.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::base {

// A public X25519 key files are encrypted to.
struct AgeRecipient {
  std::array<uint8_t, 32> key{};
  // The "age1..." Bech32 form.
  std::string Encode() const;
};

// A private X25519 key that decrypts files encrypted to its recipient.
struct AgeIdentity {
  std::array<uint8_t, 32> secret{};
  AgeRecipient recipient;  // derived from secret
  // The "AGE-SECRET-KEY-1..." Bech32 form (a secret: never log it).
  std::string Encode() const;
};

// Parses "age1..."; errors name the key (it is public) and the problem.
Result<AgeRecipient> ParseAgeRecipient(std::string_view text);
// Parses "AGE-SECRET-KEY-1..."; errors never contain the key itself.
Result<AgeIdentity> ParseAgeIdentity(std::string_view text);
// Parses an identity file as age-keygen writes it: one key per line, blank
// lines and lines starting with '#' ignored. At least one key is required.
Result<std::vector<AgeIdentity>> ParseAgeIdentities(std::string_view text);
// Parses recipients the same way (one "age1..." a line).
Result<std::vector<AgeRecipient>> ParseAgeRecipients(std::string_view text);
// A fresh random identity.
Result<AgeIdentity> GenerateAgeIdentity();

// The first line of every age v1 file.
inline constexpr std::string_view kAgeMagic = "age-encryption.org/v1";
// Payload plaintext chunk size (the STREAM construction's 64 KiB).
inline constexpr size_t kAgeChunkSize = 64 * 1024;

// Encrypts a stream to one or more recipients. Memory is bounded by one
// chunk. The header is written by Create; Finish seals the last chunk and
// must be called exactly once (without it the output is truncated, and any
// reader refuses it).
class AgeWriter : public Writer {
 public:
  static Result<std::unique_ptr<AgeWriter>> Create(
      Writer* out, std::span<const AgeRecipient> recipients);
  ~AgeWriter() override;
  Status Write(std::span<const uint8_t> data) override;
  Status Finish();

  // The ciphertext size for a plaintext of n bytes, excluding the header.
  static uint64_t PayloadSize(uint64_t n);

 private:
  AgeWriter(Writer* out, std::array<uint8_t, 32> payload_key);
  Status SealChunk(bool last);

  Writer* out_;
  std::array<uint8_t, 32> key_;
  std::vector<uint8_t> buf_;  // plaintext not yet sealed (<= one chunk)
  std::vector<uint8_t> sealed_;
  uint64_t counter_ = 0;
  bool finished_ = false;
};

class AgePayload;

// Decrypts an age stream. Open reads and checks the header (the header MAC
// included); Read returns plaintext only after its chunk authenticated, and
// fails kCorrupt on any tampering or truncation. A file no identity can open
// fails kPermissionDenied "no identity matches". name (an object or path)
// prefixes error messages.
class AgeReader : public Reader {
 public:
  // payload, when given, receives what ranged reads of the same file need
  // (AgePayload).
  static Result<std::unique_ptr<AgeReader>> Open(
      Reader* in, std::span<const AgeIdentity> identities,
      std::string name = "age file",
      std::shared_ptr<const AgePayload>* payload = nullptr);
  ~AgeReader() override;
  Result<size_t> Read(std::span<uint8_t> buf) override;

 private:
  friend class AgePayload;
  AgeReader(Reader* in, std::string name) : in_(in), name_(std::move(name)) {}
  Status NextChunk();

  Reader* in_;
  std::string name_;
  std::array<uint8_t, 32> key_{};
  std::vector<uint8_t> cipher_;  // ciphertext read ahead, not yet opened
  std::vector<uint8_t> plain_;   // opened plaintext not yet returned
  size_t plain_pos_ = 0;
  uint64_t counter_ = 0;
  bool eof_in_ = false;
  bool done_ = false;
};

// Random access to one age file's payload, from its header read once
// (AgeReader::Open): plaintext chunk i (bytes [i * 64 KiB, (i + 1) * 64 KiB))
// is stored sealed at offset() + i * kAgeSealedChunkSize, so a plaintext
// range needs only the chunks that cover it (docs/encryption.md, "Ranged
// reads"). Holds the payload key (a secret: cleansed when destroyed).
inline constexpr size_t kAgeSealedChunkSize = kAgeChunkSize + 16;

class AgePayload {
 public:
  ~AgePayload();
  AgePayload(const AgePayload&) = delete;
  AgePayload& operator=(const AgePayload&) = delete;

  // Offset of the first sealed chunk: the header's and the nonce's length.
  uint64_t offset() const { return offset_; }
  // The plaintext size of the file when it is stored_size bytes long; -1
  // when no plaintext size gives that (a cut or padded file).
  int64_t PlaintextSize(int64_t stored_size) const;
  // Decrypts chunks first, first + 1, ... read from in, which yields the
  // stored bytes from offset() + first * kAgeSealedChunkSize on: up to the
  // end of the file, or at least one byte past the last chunk wanted (the
  // byte that tells it is not the final chunk; the final chunk's nonce
  // differs, so a cut or extended file fails authentication). Errors as
  // AgeReader's, naming `name` and the chunk.
  std::unique_ptr<Reader> Decrypt(Reader* in, uint64_t first,
                                  std::string name) const;

 private:
  friend class AgeReader;
  AgePayload() = default;
  std::array<uint8_t, 32> key_{};
  uint64_t offset_ = 0;
};

// Encrypts a whole buffer.
Result<std::string> AgeEncrypt(std::string_view plaintext,
                               std::span<const AgeRecipient> recipients);
// Decrypts a whole buffer.
Result<std::string> AgeDecrypt(std::string_view ciphertext,
                               std::span<const AgeIdentity> identities,
                               std::string name = "age file");
// True when data starts with the age v1 header line.
bool LooksLikeAge(std::string_view data);

}  // namespace litekeep::base
