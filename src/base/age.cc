// The age v1 format on OpenSSL primitives: Bech32 keys, the header (X25519
// stanzas and HMAC), and the STREAM payload of 64 KiB ChaCha20-Poly1305
// chunks. See age.h and docs/encryption.md.
#include "base/age.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

namespace litekeep::base {
namespace {

constexpr size_t kTagSize = 16;
constexpr size_t kSealedChunk = kAgeChunkSize + kTagSize;
constexpr size_t kMaxHeader = 64 * 1024;
constexpr std::string_view kRecipientHrp = "age";
constexpr std::string_view kIdentityHrp = "age-secret-key-";
constexpr std::string_view kX25519Info = "age-encryption.org/v1/X25519";

using Key32 = std::array<uint8_t, 32>;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// --- Bech32 (BIP 173 checksum, no length limit, as age uses it) ----------

constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t Bech32Polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                       0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint32_t b = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((b >> i) & 1) chk ^= kGen[i];
    }
  }
  return chk;
}

std::vector<uint8_t> HrpExpand(std::string_view hrp) {
  std::vector<uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

// Regroups bits; pad adds zero bits at the end (encoding), else leftover bits
// must be fewer than from and zero (decoding).
bool ConvertBits(std::span<const uint8_t> in, int from, int to, bool pad,
                 std::vector<uint8_t>* out) {
  uint32_t acc = 0;
  int bits = 0;
  const uint32_t maxv = (1u << to) - 1;
  for (uint8_t v : in) {
    if ((v >> from) != 0) return false;
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out->push_back(static_cast<uint8_t>((acc >> bits) & maxv));
    }
  }
  if (pad) {
    if (bits > 0)
      out->push_back(static_cast<uint8_t>((acc << (to - bits)) & maxv));
  } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
    return false;
  }
  return true;
}

// Encodes data under a lower-case hrp; lower-case result.
std::string Bech32Encode(std::string_view hrp, std::span<const uint8_t> data) {
  std::vector<uint8_t> five;
  ConvertBits(data, 8, 5, true, &five);
  std::vector<uint8_t> values = HrpExpand(hrp);
  values.insert(values.end(), five.begin(), five.end());
  values.insert(values.end(), 6, 0);
  uint32_t mod = Bech32Polymod(values) ^ 1;
  std::string out(hrp);
  out.push_back('1');
  for (uint8_t v : five) out.push_back(kBech32Charset[v]);
  for (int i = 0; i < 6; ++i)
    out.push_back(kBech32Charset[(mod >> (5 * (5 - i))) & 31]);
  return out;
}

// Decodes a Bech32 string; returns the lower-case hrp and the data bytes, or
// a message saying what is wrong (never the input).
Status Bech32Decode(std::string_view text, std::string* hrp,
                    std::vector<uint8_t>* data) {
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return InvalidArgumentError("invalid character");
    if (std::islower(static_cast<unsigned char>(c))) lower = true;
    if (std::isupper(static_cast<unsigned char>(c))) upper = true;
  }
  if (lower && upper) return InvalidArgumentError("mixed case");
  size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || sep + 7 > text.size()) {
    return InvalidArgumentError("not Bech32 (separator or checksum missing)");
  }
  hrp->clear();
  for (char c : text.substr(0, sep)) {
    hrp->push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::vector<uint8_t> five;
  for (char c : text.substr(sep + 1)) {
    size_t v = kBech32Charset.find(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (v == std::string_view::npos) {
      return InvalidArgumentError("invalid Bech32 character");
    }
    five.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> values = HrpExpand(*hrp);
  values.insert(values.end(), five.begin(), five.end());
  if (Bech32Polymod(values) != 1) return InvalidArgumentError("bad checksum");
  data->clear();
  if (!ConvertBits(std::span(five).first(five.size() - 6), 5, 8, false, data)) {
    return InvalidArgumentError("invalid padding");
  }
  return Status::Ok();
}

// --- Base64, standard alphabet, no padding, canonical -------------------

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string B64Encode(std::span<const uint8_t> in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : in) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

bool B64Decode(std::string_view in, std::vector<uint8_t>* out) {
  out->clear();
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    size_t v = kB64.find(c);
    if (v == std::string_view::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  // Canonical: the unused low bits are zero.
  return (acc & ((1u << bits) - 1)) == 0;
}

// --- OpenSSL primitives --------------------------------------------------

Status CryptoError(std::string_view what) {
  return InternalError("age: OpenSSL " + std::string(what) + " failed");
}

Result<Key32> Hkdf(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                   std::string_view info) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return CryptoError("HKDF fetch");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return CryptoError("HKDF context");
  OSSL_PARAM params[5];
  int n = 0;
  char digest[] = "SHA256";
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  Key32 out;
  int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (rc != 1) return CryptoError("HKDF");
  return out;
}

// ChaCha20-Poly1305 seal (encrypt=true) or open of in into out (in.size() +
// or - the tag). Open returns false on authentication failure.
bool Aead(EVP_CIPHER_CTX* ctx, bool encrypt, const Key32& key,
          const std::array<uint8_t, 12>& nonce, std::span<const uint8_t> in,
          uint8_t* out) {
  if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, key.data(),
                        nonce.data(), encrypt ? 1 : 0) != 1) {
    return false;
  }
  size_t body = encrypt ? in.size() : in.size() - kTagSize;
  if (!encrypt) {
    if (in.size() < kTagSize) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagSize,
                            const_cast<uint8_t*>(in.data() + body)) != 1) {
      return false;
    }
  }
  int len = 0;
  if (body > 0 && (EVP_CipherUpdate(ctx, out, &len, in.data(),
                                    static_cast<int>(body)) != 1 ||
                   static_cast<size_t>(len) != body)) {
    return false;
  }
  int fin = 0;
  if (EVP_CipherFinal_ex(ctx, out + body, &fin) != 1) return false;
  if (encrypt) {
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagSize,
                               out + body) == 1;
  }
  return true;
}

struct CipherCtx {
  CipherCtx() : ctx(EVP_CIPHER_CTX_new()) {}
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
  EVP_CIPHER_CTX* ctx;
};

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Pkey PrivateKey(const Key32& secret) {
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr,
                                           secret.data(), secret.size()));
}

Result<Key32> PublicOf(const Key32& secret) {
  Pkey k = PrivateKey(secret);
  Key32 pub;
  size_t len = pub.size();
  if (!k || EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &len) != 1 ||
      len != pub.size()) {
    return CryptoError("X25519 public key");
  }
  return pub;
}

// X25519(secret, peer); fails (false) for a low-order peer (all-zero result).
bool SharedSecret(const Key32& secret, const Key32& peer, Key32* out) {
  Pkey k = PrivateKey(secret);
  Pkey p(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(),
                                     peer.size()));
  if (!k || !p) return false;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(k.get(), nullptr);
  if (ctx == nullptr) return false;
  size_t len = out->size();
  bool ok = EVP_PKEY_derive_init(ctx) == 1 &&
            EVP_PKEY_derive_set_peer(ctx, p.get()) == 1 &&
            EVP_PKEY_derive(ctx, out->data(), &len) == 1 && len == out->size();
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return false;
  uint8_t any = 0;
  for (uint8_t b : *out) any |= b;
  return any != 0;
}

Result<Key32> RandomKey() {
  Key32 k;
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
    return CryptoError("RAND_bytes");
  }
  return k;
}

// The X25519 wrapping key for (shared secret, ephemeral share, recipient).
Result<Key32> WrapKey(const Key32& shared, const Key32& share,
                      const Key32& recipient) {
  std::array<uint8_t, 64> salt;
  std::copy(share.begin(), share.end(), salt.begin());
  std::copy(recipient.begin(), recipient.end(), salt.begin() + 32);
  return Hkdf(shared, salt, kX25519Info);
}

// HMAC-SHA256 of the header (through "---") under HKDF(file key, "header").
Result<std::array<uint8_t, 32>> HeaderMac(std::span<const uint8_t> file_key,
                                          std::string_view header) {
  LK_ASSIGN_OR_RETURN(Key32 mac_key, Hkdf(file_key, {}, "header"));
  std::array<uint8_t, 32> mac;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), mac_key.data(), static_cast<int>(mac_key.size()),
           reinterpret_cast<const uint8_t*>(header.data()), header.size(),
           mac.data(), &len) == nullptr ||
      len != mac.size()) {
    return CryptoError("HMAC");
  }
  return mac;
}

std::array<uint8_t, 12> ChunkNonce(uint64_t counter, bool last) {
  std::array<uint8_t, 12> n{};
  for (int i = 0; i < 8; ++i)
    n[10 - i] = static_cast<uint8_t>(counter >> (8 * i));
  n[11] = last ? 1 : 0;
  return n;
}

// One parsed header stanza.
struct Stanza {
  std::vector<std::string> args;  // args[0] is the type
  std::vector<uint8_t> body;
};

std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool ValidArg(std::string_view a) {
  if (a.empty()) return false;
  for (char c : a) {
    if (c < 33 || c > 126) return false;
  }
  return true;
}

}  // namespace

// --- Keys ----------------------------------------------------------------

std::string AgeRecipient::Encode() const {
  return Bech32Encode(kRecipientHrp, key);
}

std::string AgeIdentity::Encode() const {
  std::string s = Bech32Encode(kIdentityHrp, secret);
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Result<AgeRecipient> ParseAgeRecipient(std::string_view text) {
  std::string hrp;
  std::vector<uint8_t> data;
  Status st = Bech32Decode(text, &hrp, &data);
  if (st.ok() && hrp != kRecipientHrp) {
    st = InvalidArgumentError("not an age1... X25519 recipient");
  } else if (st.ok() && data.size() != 32) {
    st = InvalidArgumentError("wrong key length");
  } else if (st.ok() && text != Bech32Encode(kRecipientHrp, data)) {
    st = InvalidArgumentError("must be lower case");
  }
  if (!st.ok()) {
    // A recipient is public, but a secret key pasted in its place is not:
    // echo only what looks like a recipient.
    std::string shown = text.rfind("age1", 0) == 0
                            ? "\"" + std::string(text) + "\""
                            : "(" + std::to_string(text.size()) +
                                  " characters, not starting with age1)";
    return InvalidArgumentError("age recipient " + shown +
                                " is invalid: " + st.message());
  }
  AgeRecipient r;
  std::copy(data.begin(), data.end(), r.key.begin());
  return r;
}

Result<AgeIdentity> ParseAgeIdentity(std::string_view text) {
  std::string hrp;
  std::vector<uint8_t> data;
  Status st = Bech32Decode(text, &hrp, &data);
  if (st.ok() && hrp != kIdentityHrp) {
    st = InvalidArgumentError("not an AGE-SECRET-KEY-1... X25519 identity");
  } else if (st.ok() && data.size() != 32) {
    st = InvalidArgumentError("wrong key length");
  }
  AgeIdentity id;
  if (st.ok()) {
    std::copy(data.begin(), data.end(), id.secret.begin());
    if (text != id.Encode()) st = InvalidArgumentError("must be upper case");
  }
  OPENSSL_cleanse(data.data(), data.size());
  if (!st.ok()) {
    // Never echo a secret key: name only what it starts with and its length.
    std::string prefix(text.substr(0, std::min<size_t>(text.size(), 15)));
    if (prefix != "AGE-SECRET-KEY-") prefix = "(unrecognised)";
    return InvalidArgumentError("age identity " + prefix + "... (" +
                                std::to_string(text.size()) +
                                " characters) is invalid: " + st.message());
  }
  LK_ASSIGN_OR_RETURN(id.recipient.key, PublicOf(id.secret));
  return id;
}

namespace {

// Parses each key line of text (blank lines and '#' comments skipped).
template <typename T>
Result<std::vector<T>> ParseKeyLines(std::string_view text,
                                     Result<T> (*parse)(std::string_view),
                                     std::string_view what) {
  std::vector<T> out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() &&
           std::isspace(static_cast<unsigned char>(line.back()))) {
      line.remove_suffix(1);
    }
    while (!line.empty() &&
           std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') continue;
    Result<T> key = parse(line);
    if (!key.ok()) {
      return key.status().WithContext("line " + std::to_string(line_no));
    }
    out.push_back(*key);
  }
  if (out.empty())
    return InvalidArgumentError("no age " + std::string(what) + " found");
  return out;
}

}  // namespace

Result<std::vector<AgeIdentity>> ParseAgeIdentities(std::string_view text) {
  return ParseKeyLines<AgeIdentity>(text, ParseAgeIdentity, "identity");
}

Result<std::vector<AgeRecipient>> ParseAgeRecipients(std::string_view text) {
  return ParseKeyLines<AgeRecipient>(text, ParseAgeRecipient, "recipient");
}

Result<AgeIdentity> GenerateAgeIdentity() {
  AgeIdentity id;
  LK_ASSIGN_OR_RETURN(id.secret, RandomKey());
  LK_ASSIGN_OR_RETURN(id.recipient.key, PublicOf(id.secret));
  return id;
}

bool LooksLikeAge(std::string_view data) {
  return data.size() > kAgeMagic.size() &&
         data.substr(0, kAgeMagic.size()) == kAgeMagic &&
         data[kAgeMagic.size()] == '\n';
}

// --- Writer ----------------------------------------------------------------

AgeWriter::AgeWriter(Writer* out, std::array<uint8_t, 32> payload_key)
    : out_(out), key_(payload_key) {
  buf_.reserve(kAgeChunkSize);
}

AgeWriter::~AgeWriter() {
  OPENSSL_cleanse(key_.data(), key_.size());
  if (!buf_.empty()) OPENSSL_cleanse(buf_.data(), buf_.size());
}

uint64_t AgeWriter::PayloadSize(uint64_t n) {
  uint64_t chunks = n == 0 ? 1 : (n + kAgeChunkSize - 1) / kAgeChunkSize;
  return 16 + n + chunks * kTagSize;
}

Result<std::unique_ptr<AgeWriter>> AgeWriter::Create(
    Writer* out, std::span<const AgeRecipient> recipients) {
  if (recipients.empty()) {
    return InvalidArgumentError("age: no recipient to encrypt to");
  }
  LK_ASSIGN_OR_RETURN(Key32 file_key, RandomKey());
  // age uses a 16-byte file key.
  std::array<uint8_t, 16> fk;
  std::copy(file_key.begin(), file_key.begin() + 16, fk.begin());
  std::string header(kAgeMagic);
  header.push_back('\n');
  CipherCtx c;
  if (c.ctx == nullptr) return CryptoError("cipher context");
  for (const AgeRecipient& r : recipients) {
    Key32 share;
    Key32 shared;
    for (int attempt = 0;; ++attempt) {
      LK_ASSIGN_OR_RETURN(Key32 eph, RandomKey());
      LK_ASSIGN_OR_RETURN(share, PublicOf(eph));
      bool ok = SharedSecret(eph, r.key, &shared);
      OPENSSL_cleanse(eph.data(), eph.size());
      if (ok) break;
      if (attempt > 0) {
        return InvalidArgumentError("age recipient " + r.Encode() +
                                    " is a low-order point");
      }
    }
    LK_ASSIGN_OR_RETURN(Key32 wrap, WrapKey(shared, share, r.key));
    std::array<uint8_t, 32> body;
    if (!Aead(c.ctx, true, wrap, {}, fk, body.data())) {
      return CryptoError("ChaCha20-Poly1305");
    }
    header += "-> X25519 " + B64Encode(share) + "\n" + B64Encode(body) + "\n";
  }
  header += "---";
  LK_ASSIGN_OR_RETURN(auto mac, HeaderMac(fk, header));
  header += " " + B64Encode(mac) + "\n";
  std::array<uint8_t, 16> nonce;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return CryptoError("RAND_bytes");
  }
  LK_ASSIGN_OR_RETURN(Key32 payload_key, Hkdf(fk, nonce, "payload"));
  OPENSSL_cleanse(fk.data(), fk.size());
  OPENSSL_cleanse(file_key.data(), file_key.size());
  header.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  LK_RETURN_IF_ERROR(out->Write(Bytes(header)));
  return std::unique_ptr<AgeWriter>(new AgeWriter(out, payload_key));
}

Status AgeWriter::SealChunk(bool last) {
  CipherCtx c;
  if (c.ctx == nullptr) return CryptoError("cipher context");
  sealed_.resize(buf_.size() + kTagSize);
  if (!Aead(c.ctx, true, key_, ChunkNonce(counter_, last), buf_,
            sealed_.data())) {
    return CryptoError("ChaCha20-Poly1305");
  }
  ++counter_;
  buf_.clear();
  return out_->Write(sealed_);
}

Status AgeWriter::Write(std::span<const uint8_t> data) {
  if (finished_) return InternalError("age: write after Finish");
  while (!data.empty()) {
    // A full chunk is sealed only once more data follows: the last chunk
    // carries a different nonce.
    if (buf_.size() == kAgeChunkSize) LK_RETURN_IF_ERROR(SealChunk(false));
    size_t n = std::min(data.size(), kAgeChunkSize - buf_.size());
    buf_.insert(buf_.end(), data.begin(), data.begin() + n);
    data = data.subspan(n);
  }
  return Status::Ok();
}

Status AgeWriter::Finish() {
  if (finished_) return InternalError("age: Finish called twice");
  finished_ = true;
  return SealChunk(true);
}

// --- Reader ----------------------------------------------------------------

AgeReader::~AgeReader() {
  OPENSSL_cleanse(key_.data(), key_.size());
  if (!plain_.empty()) OPENSSL_cleanse(plain_.data(), plain_.size());
}

Result<std::unique_ptr<AgeReader>> AgeReader::Open(
    Reader* in, std::span<const AgeIdentity> identities, std::string name,
    std::shared_ptr<const AgePayload>* payload) {
  std::unique_ptr<AgeReader> r(new AgeReader(in, std::move(name)));
  const std::string& nm = r->name_;
  auto corrupt = [&](std::string_view why) {
    return CorruptError(nm + ": not a valid age file: " + std::string(why));
  };
  // Read until the "--- " line ends; the rest is payload read ahead.
  std::string head;
  size_t mac_line = std::string::npos;  // offset of the "---" line
  size_t header_end = std::string::npos;
  std::array<uint8_t, 4096> tmp;
  size_t scanned = 0;
  while (header_end == std::string::npos) {
    // Look for the end of the header in what we have.
    while (true) {
      size_t nl = head.find('\n', scanned);
      if (nl == std::string::npos) break;
      size_t line_start = scanned;
      scanned = nl + 1;
      if (head.compare(line_start, 3, "---") == 0 && line_start > 0) {
        mac_line = line_start;
        header_end = nl + 1;
        break;
      }
    }
    if (header_end != std::string::npos) break;
    if (head.size() > kMaxHeader) return corrupt("header too long");
    LK_ASSIGN_OR_RETURN(size_t n, in->Read(tmp));
    if (n == 0) {
      if (head.empty()) return corrupt("empty");
      return corrupt("header truncated");
    }
    head.append(reinterpret_cast<const char*>(tmp.data()), n);
    std::string first_line = std::string(kAgeMagic) + "\n";
    size_t k = std::min(head.size(), first_line.size());
    if (head.compare(0, k, first_line, 0, k) != 0) {
      if (head.rfind("-----BEGIN AGE ENCRYPTED FILE-----", 0) == 0) {
        return corrupt("ASCII-armored age files are not supported");
      }
      return corrupt("does not start with \"age-encryption.org/v1\"");
    }
  }
  r->cipher_.assign(head.begin() + static_cast<std::ptrdiff_t>(header_end),
                    head.end());
  std::string_view h(head.data(), header_end);

  // Stanzas between the version line and the MAC line.
  std::vector<Stanza> stanzas;
  std::string_view body =
      h.substr(kAgeMagic.size() + 1, mac_line - kAgeMagic.size() - 1);
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    if (line.substr(0, 3) != "-> ") return corrupt("malformed stanza line");
    Stanza s;
    s.args = SplitSpaces(line.substr(3));
    for (const std::string& a : s.args) {
      if (!ValidArg(a)) return corrupt("malformed stanza argument");
    }
    std::string b64;
    while (true) {
      if (body.empty()) return corrupt("stanza body truncated");
      size_t bl = body.find('\n');
      std::string_view bline = body.substr(0, bl);
      body.remove_prefix(bl + 1);
      if (bline.size() > 64) return corrupt("stanza body line too long");
      b64 += bline;
      if (bline.size() < 64) break;
    }
    if (!B64Decode(b64, &s.body)) return corrupt("stanza body is not base64");
    stanzas.push_back(std::move(s));
  }
  if (stanzas.empty()) return corrupt("no recipient stanza");
  std::string_view mac_text = h.substr(mac_line, header_end - 1 - mac_line);
  if (mac_text.substr(0, 4) != "--- ") return corrupt("malformed MAC line");
  std::vector<uint8_t> mac;
  if (!B64Decode(mac_text.substr(4), &mac) || mac.size() != 32) {
    return corrupt("malformed MAC");
  }

  // Unwrap the file key with the first identity that matches a stanza.
  std::array<uint8_t, 16> fk{};
  bool found = false;
  CipherCtx c;
  if (c.ctx == nullptr) return CryptoError("cipher context");
  for (const Stanza& s : stanzas) {
    if (s.args[0] != "X25519") continue;
    std::vector<uint8_t> share_bytes;
    if (s.args.size() != 2 || !B64Decode(s.args[1], &share_bytes) ||
        share_bytes.size() != 32 || s.body.size() != 32) {
      return corrupt("malformed X25519 stanza");
    }
    Key32 share;
    std::copy(share_bytes.begin(), share_bytes.end(), share.begin());
    for (const AgeIdentity& id : identities) {
      Key32 shared;
      if (!SharedSecret(id.secret, share, &shared)) continue;
      LK_ASSIGN_OR_RETURN(Key32 wrap, WrapKey(shared, share, id.recipient.key));
      OPENSSL_cleanse(shared.data(), shared.size());
      if (Aead(c.ctx, false, wrap, {}, s.body, fk.data())) {
        found = true;
        break;
      }
    }
    if (found) break;
  }
  if (!found) {
    return PermissionDeniedError(
        nm + ": no identity matches any of its " +
        std::to_string(stanzas.size()) +
        " recipient stanza(s) (wrong or missing age identity, or a tampered "
        "header)");
  }
  LK_ASSIGN_OR_RETURN(auto got, HeaderMac(fk, h.substr(0, mac_line + 3)));
  if (CRYPTO_memcmp(got.data(), mac.data(), got.size()) != 0) {
    return CorruptError(nm + ": age header MAC mismatch (tampered header)");
  }
  // The payload nonce, then the payload key.
  while (r->cipher_.size() < 16 && !r->eof_in_) {
    LK_ASSIGN_OR_RETURN(size_t n, in->Read(tmp));
    if (n == 0) r->eof_in_ = true;
    r->cipher_.insert(r->cipher_.end(), tmp.begin(), tmp.begin() + n);
  }
  if (r->cipher_.size() < 16) return corrupt("payload nonce truncated");
  LK_ASSIGN_OR_RETURN(r->key_,
                      Hkdf(fk, std::span(r->cipher_).first(16), "payload"));
  OPENSSL_cleanse(fk.data(), fk.size());
  r->cipher_.erase(r->cipher_.begin(), r->cipher_.begin() + 16);
  if (payload != nullptr) {
    std::shared_ptr<AgePayload> p(new AgePayload());
    p->key_ = r->key_;
    p->offset_ = header_end + 16;
    *payload = std::move(p);
  }
  return r;
}

// --- Random access ---------------------------------------------------------

AgePayload::~AgePayload() { OPENSSL_cleanse(key_.data(), key_.size()); }

int64_t AgePayload::PlaintextSize(int64_t stored_size) const {
  const int64_t m = stored_size - static_cast<int64_t>(offset_);
  if (m < static_cast<int64_t>(kTagSize)) return -1;
  const auto sealed = static_cast<int64_t>(kSealedChunk);
  const int64_t chunks = (m + sealed - 1) / sealed;
  const int64_t n = m - chunks * static_cast<int64_t>(kTagSize);
  if (n < 0 || AgeWriter::PayloadSize(static_cast<uint64_t>(n)) !=
                   static_cast<uint64_t>(m) + 16) {
    return -1;
  }
  return n;
}

std::unique_ptr<Reader> AgePayload::Decrypt(Reader* in, uint64_t first,
                                            std::string name) const {
  std::unique_ptr<AgeReader> r(new AgeReader(in, std::move(name)));
  r->key_ = key_;
  r->counter_ = first;
  return r;
}

Status AgeReader::NextChunk() {
  // Read one sealed chunk plus one byte, to know whether it is the last.
  size_t want = kSealedChunk + 1;
  size_t have = cipher_.size();
  cipher_.resize(std::max(want, have));
  while (have < want && !eof_in_) {
    LK_ASSIGN_OR_RETURN(
        size_t n, in_->Read(std::span(cipher_).subspan(have, want - have)));
    if (n == 0) eof_in_ = true;
    have += n;
  }
  cipher_.resize(have);
  bool last = have <= kSealedChunk;
  size_t len = last ? have : kSealedChunk;
  if (len < kTagSize || (last && len == kTagSize && counter_ > 0)) {
    return CorruptError(name_ + ": age payload truncated at chunk " +
                        std::to_string(counter_));
  }
  plain_.resize(len - kTagSize);
  CipherCtx c;
  if (c.ctx == nullptr) return CryptoError("cipher context");
  if (!Aead(c.ctx, false, key_, ChunkNonce(counter_, last),
            std::span(cipher_).first(len), plain_.data())) {
    return CorruptError(name_ + ": age payload chunk " +
                        std::to_string(counter_) +
                        " failed authentication (tampered or truncated)");
  }
  cipher_.erase(cipher_.begin(),
                cipher_.begin() + static_cast<std::ptrdiff_t>(len));
  plain_pos_ = 0;
  ++counter_;
  if (last) done_ = true;
  return Status::Ok();
}

Result<size_t> AgeReader::Read(std::span<uint8_t> buf) {
  while (plain_pos_ == plain_.size()) {
    if (done_ || buf.empty()) return size_t{0};
    LK_RETURN_IF_ERROR(NextChunk());
  }
  size_t n = std::min(buf.size(), plain_.size() - plain_pos_);
  std::memcpy(buf.data(), plain_.data() + plain_pos_, n);
  plain_pos_ += n;
  return n;
}

// --- Whole buffers ---------------------------------------------------------

Result<std::string> AgeEncrypt(std::string_view plaintext,
                               std::span<const AgeRecipient> recipients) {
  std::string out;
  StringWriter sw(&out);
  LK_ASSIGN_OR_RETURN(auto w, AgeWriter::Create(&sw, recipients));
  LK_RETURN_IF_ERROR(w->Write(Bytes(plaintext)));
  LK_RETURN_IF_ERROR(w->Finish());
  return out;
}

Result<std::string> AgeDecrypt(std::string_view ciphertext,
                               std::span<const AgeIdentity> identities,
                               std::string name) {
  SpanReader sr(Bytes(ciphertext));
  LK_ASSIGN_OR_RETURN(auto r,
                      AgeReader::Open(&sr, identities, std::move(name)));
  std::string out;
  std::array<uint8_t, 16384> buf;
  while (true) {
    LK_ASSIGN_OR_RETURN(size_t n, r->Read(buf));
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

}  // namespace litekeep::base
