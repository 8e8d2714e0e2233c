// AgeReplica: encryption on write, decryption on read, size translation in
// listings. See age_replica.h and docs/encryption.md.
#include "storage/age_replica.h"

#include <algorithm>
#include <array>
#include <utility>

#include "ltx/file_name.h"

namespace litekeep::storage {
namespace {

// Bytes of an age header with k X25519 stanzas: the version line (22), per
// stanza "-> X25519 <43>\n<43>\n" (98), and "--- <43>\n" (48).
int64_t HeaderSize(size_t k) { return 22 + 98 * static_cast<int64_t>(k) + 48; }

// How errors name a file: "ltx/<level>/<min>-<max>.ltx"
// (docs/storage_layout.md).
std::string FileName(int level, TxId min_txid, TxId max_txid) {
  return "ltx/" + std::to_string(level) + "/" +
         ltx::FormatFileName(min_txid, max_txid);
}

// Encrypts a plaintext reader as it is read: a sealed chunk at a time.
class EncryptingReader : public base::Reader {
 public:
  explicit EncryptingReader(base::Reader* in) : in_(in), out_(&buf_) {}
  Status Init(std::span<const base::AgeRecipient> recipients) {
    LK_ASSIGN_OR_RETURN(writer_, base::AgeWriter::Create(&out_, recipients));
    return Status::Ok();
  }
  Result<size_t> Read(std::span<uint8_t> dst) override {
    while (pos_ == buf_.size()) {
      if (done_ || dst.empty()) return size_t{0};
      buf_.clear();
      pos_ = 0;
      LK_ASSIGN_OR_RETURN(size_t n, in_->Read(chunk_));
      if (n == 0) {
        LK_RETURN_IF_ERROR(writer_->Finish());
        done_ = true;
      } else {
        LK_RETURN_IF_ERROR(writer_->Write(std::span(chunk_).first(n)));
      }
    }
    size_t n = std::min(dst.size(), buf_.size() - pos_);
    std::copy_n(buf_.data() + pos_, n, dst.data());
    pos_ += n;
    return n;
  }

 private:
  base::Reader* in_;
  std::string buf_;
  base::StringWriter out_;
  std::unique_ptr<base::AgeWriter> writer_;
  std::array<uint8_t, base::kAgeChunkSize> chunk_;
  size_t pos_ = 0;
  bool done_ = false;
};

// Plaintext of an age object from offset, for at most length bytes (< 0:
// to the end). Owns the stored-bytes reader.
class DecryptingReader : public base::Reader {
 public:
  DecryptingReader(std::unique_ptr<base::Reader> in,
                   std::unique_ptr<base::AgeReader> age, int64_t length)
      : in_(std::move(in)), age_(std::move(age)), left_(length) {}
  Result<size_t> Read(std::span<uint8_t> dst) override {
    if (left_ == 0) return size_t{0};
    if (left_ > 0 && dst.size() > static_cast<uint64_t>(left_)) {
      dst = dst.first(static_cast<size_t>(left_));
    }
    LK_ASSIGN_OR_RETURN(size_t n, age_->Read(dst));
    if (left_ > 0) left_ -= static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<base::Reader> in_;
  std::unique_ptr<base::AgeReader> age_;
  int64_t left_;
};

}  // namespace

AgeReplica::AgeReplica(std::shared_ptr<ReplicaClient> inner,
                       std::vector<base::AgeRecipient> recipients,
                       std::vector<base::AgeIdentity> identities)
    : inner_(std::move(inner)),
      recipients_(std::move(recipients)),
      identities_(std::move(identities)) {}

int64_t AgeReplica::EncryptedSize(int64_t n, size_t k) {
  return HeaderSize(k) + static_cast<int64_t>(base::AgeWriter::PayloadSize(
                             static_cast<uint64_t>(n)));
}

int64_t AgeReplica::PlaintextSize(int64_t s, size_t k) {
  // Payload: 16-byte nonce, then n bytes in c >= 1 chunks of 16-byte tags.
  int64_t m = s - HeaderSize(k) - 16;
  if (m < 16) return -1;
  constexpr int64_t kSealed = base::kAgeChunkSize + 16;
  int64_t c = (m + kSealed - 1) / kSealed;
  int64_t n = m - 16 * c;
  return n >= 0 && EncryptedSize(n, k) == s ? n : -1;
}

Result<std::vector<FileInfo>> AgeReplica::ListFiles(int level) {
  LK_ASSIGN_OR_RETURN(auto files, inner_->ListFiles(level));
  size_t k = std::max<size_t>(recipients_.size(), 1);
  for (FileInfo& f : files) {
    int64_t n = PlaintextSize(f.size, k);
    f.size = n >= 0 ? n : std::max<int64_t>(0, f.size - HeaderSize(k) - 32);
  }
  return files;
}

Result<std::unique_ptr<base::Reader>> AgeReplica::Decrypt(
    std::unique_ptr<base::Reader> in, const std::string& name, int64_t offset,
    int64_t length) {
  if (identities_.empty()) {
    return base::FailedPreconditionError(
        name +
        ": the replica is age-encrypted but no identity is configured "
        "(age: identities)");
  }
  LK_ASSIGN_OR_RETURN(auto age,
                      base::AgeReader::Open(in.get(), identities_, name));
  // Ranged reads decrypt from the start and skip (64 KiB chunks at a time).
  std::array<uint8_t, 16384> skip;
  while (offset > 0) {
    size_t want = static_cast<size_t>(
        std::min<int64_t>(offset, static_cast<int64_t>(skip.size())));
    LK_ASSIGN_OR_RETURN(size_t n, age->Read(std::span(skip).first(want)));
    if (n == 0) break;  // past the end: an empty read, as on a plain file
    offset -= static_cast<int64_t>(n);
  }
  return std::unique_ptr<base::Reader>(
      new DecryptingReader(std::move(in), std::move(age), length));
}

Result<std::unique_ptr<base::Reader>> AgeReplica::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  LK_ASSIGN_OR_RETURN(auto in, inner_->OpenFile(level, min_txid, max_txid));
  return Decrypt(std::move(in), FileName(level, min_txid, max_txid), offset,
                 length);
}

Result<std::unique_ptr<base::Reader>> AgeReplica::OpenObject(
    const std::string& key) {
  LK_ASSIGN_OR_RETURN(auto in, inner_->OpenObject(key));
  return Decrypt(std::move(in), key, 0, -1);
}

Status AgeReplica::WriteFile(const FileInfo& info, base::Reader& data) {
  std::string name = FileName(info.level, info.min_txid, info.max_txid);
  if (recipients_.empty()) {
    return base::FailedPreconditionError(
        "write " + name + " to " + inner_->Describe() +
        ": the replica is age-encrypted but no recipient is configured "
        "(age: recipients)");
  }
  EncryptingReader enc(&data);
  LK_RETURN_IF_ERROR(enc.Init(recipients_));
  FileInfo stored = info;
  stored.size = EncryptedSize(info.size, recipients_.size());
  return inner_->WriteFile(stored, enc);
}

Status AgeReplica::DeleteFiles(const std::vector<FileInfo>& files) {
  // Deletion goes by name; sizes do not matter.
  return inner_->DeleteFiles(files);
}

}  // namespace litekeep::storage
