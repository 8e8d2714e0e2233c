// AgeReplica: encryption on write, decryption on read, size translation in
// listings. See age_replica.h and docs/encryption.md.
#include "storage/age_replica.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/parallel.h"
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
                   std::unique_ptr<base::Reader> age, int64_t length)
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
  std::unique_ptr<base::Reader> age_;
  int64_t left_;
};

// Bytes already in memory, owned.
class BytesReader : public base::Reader {
 public:
  explicit BytesReader(std::vector<uint8_t> bytes)
      : bytes_(std::move(bytes)), in_(bytes_) {}
  Result<size_t> Read(std::span<uint8_t> dst) override { return in_.Read(dst); }

 private:
  std::vector<uint8_t> bytes_;
  base::SpanReader in_;
};

// Reads and drops n bytes of in (fewer at its end).
Status Skip(base::Reader& in, int64_t n) {
  std::array<uint8_t, 16384> skip;
  while (n > 0) {
    size_t want = static_cast<size_t>(
        std::min<int64_t>(n, static_cast<int64_t>(skip.size())));
    LK_ASSIGN_OR_RETURN(size_t got, in.Read(std::span(skip).first(want)));
    if (got == 0) break;  // past the end: an empty read, as on a plain file
    n -= static_cast<int64_t>(got);
  }
  return Status::Ok();
}

// The first request for a header: most headers (up to 40 recipients) and
// the payload nonce fit; a longer one is read again with the most a header
// may take.
constexpr int64_t kHeaderProbe = 4096;
constexpr int64_t kHeaderMax = 64 * 1024 + 16;

}  // namespace

AgeReplica::AgeReplica(std::shared_ptr<ReplicaClient> inner,
                       std::vector<base::AgeRecipient> recipients,
                       std::vector<base::AgeIdentity> identities)
    : ForwardingReplicaClient(std::move(inner)),
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

void AgeReplica::SetExactSizes(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  exact_sizes_ = on;
}

Status AgeReplica::NeedIdentity(const std::string& name) const {
  if (!identities_.empty()) return Status::Ok();
  return base::FailedPreconditionError(
      name +
      ": the replica is age-encrypted but no identity is configured "
      "(age: identities)");
}

Result<std::vector<FileInfo>> AgeReplica::ListFiles(int level) {
  LK_ASSIGN_OR_RETURN(auto files, inner().ListFiles(level));
  bool exact;
  {
    std::lock_guard<std::mutex> lock(mu_);
    exact = exact_sizes_;
  }
  if (!exact) {
    size_t k = std::max<size_t>(recipients_.size(), 1);
    for (FileInfo& f : files) {
      int64_t n = PlaintextSize(f.size, k);
      f.size = n >= 0 ? n : std::max<int64_t>(0, f.size - HeaderSize(k) - 32);
    }
    return files;
  }
  std::vector<Status> errors(files.size());
  std::vector<int64_t> sizes(files.size(), -1);
  base::ParallelFor(files.size(), 16, [&](size_t i) {
    const FileInfo& f = files[i];
    auto p = PayloadOf({level, f.min_txid, f.max_txid}, f.size, false);
    if (!p.ok()) {
      errors[i] = p.status();
      return;
    }
    sizes[i] = (*p)->PlaintextSize(f.size);
    if (sizes[i] < 0) {
      errors[i] = base::CorruptError(
          FileName(level, f.min_txid, f.max_txid) + ": " +
          std::to_string(f.size) +
          " stored bytes are not a whole age payload after its header (cut "
          "or extended)");
    }
  });
  for (const Status& e : errors) {
    if (!e.ok()) return e;
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Forget the headers of this level's files that are gone.
  for (auto it = headers_.lower_bound({level, 0, 0});
       it != headers_.end() && std::get<0>(it->first) == level;) {
    const FileKey& key = it->first;
    bool listed = std::any_of(files.begin(), files.end(), [&](const auto& f) {
      return f.min_txid == std::get<1>(key) && f.max_txid == std::get<2>(key);
    });
    it = listed ? std::next(it) : headers_.erase(it);
  }
  for (size_t i = 0; i < files.size(); ++i) files[i].size = sizes[i];
  return files;
}

Result<std::shared_ptr<const base::AgePayload>> AgeReplica::PayloadOf(
    const FileKey& key, int64_t stored_size, bool fresh) {
  const auto& [level, min_txid, max_txid] = key;
  const std::string name = FileName(level, min_txid, max_txid);
  if (!fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = headers_.find(key);
    if (it != headers_.end() &&
        (stored_size < 0 || it->second.stored_size == stored_size)) {
      return it->second.payload;
    }
  }
  LK_RETURN_IF_ERROR(NeedIdentity(name));
  std::shared_ptr<const base::AgePayload> payload;
  Status last;
  for (int64_t probe : {kHeaderProbe, kHeaderMax}) {
    if (stored_size >= 0) probe = std::min(probe, stored_size);
    LK_ASSIGN_OR_RETURN(auto in,
                        inner().OpenFile(level, min_txid, max_txid, 0, probe));
    auto r = base::AgeReader::Open(in.get(), identities_, name, &payload);
    if (r.ok()) break;
    last = r.status();
    // A header longer than the probe reads as cut: read more, once.
    if (last.code() != base::Code::kCorrupt || probe == stored_size) {
      return last;
    }
  }
  if (payload == nullptr) return last;
  std::lock_guard<std::mutex> lock(mu_);
  headers_[key] = Header{stored_size, payload};
  return payload;
}

Result<std::vector<uint8_t>> AgeReplica::ReadChunks(
    const FileKey& key, const base::AgePayload& payload, int64_t offset,
    int64_t length) {
  const auto& [level, min_txid, max_txid] = key;
  constexpr auto kChunk = static_cast<int64_t>(base::kAgeChunkSize);
  constexpr auto kSealed = static_cast<int64_t>(base::kAgeSealedChunkSize);
  const int64_t first = offset / kChunk;
  const int64_t last = (offset + length - 1) / kChunk;
  // One byte past the last chunk wanted says whether it is the final one.
  LK_ASSIGN_OR_RETURN(
      auto in,
      inner().OpenFile(level, min_txid, max_txid,
                       static_cast<int64_t>(payload.offset()) + first * kSealed,
                       (last - first + 1) * kSealed + 1));
  auto plain = payload.Decrypt(in.get(), static_cast<uint64_t>(first),
                               FileName(level, min_txid, max_txid));
  const int64_t skip = offset - first * kChunk;
  std::vector<uint8_t> out(static_cast<size_t>(skip + length));
  size_t have = 0;
  while (have < out.size()) {
    LK_ASSIGN_OR_RETURN(size_t n, plain->Read(std::span(out).subspan(have)));
    if (n == 0) break;  // the file ends first: a short read, as on plain files
    have += n;
  }
  out.resize(std::max<size_t>(have, static_cast<size_t>(skip)));
  out.erase(out.begin(), out.begin() + skip);
  return out;
}

Result<std::unique_ptr<base::Reader>> AgeReplica::Decrypt(
    std::unique_ptr<base::Reader> in, const std::string& name, int64_t offset,
    int64_t length, std::shared_ptr<const base::AgePayload>* payload) {
  LK_RETURN_IF_ERROR(NeedIdentity(name));
  LK_ASSIGN_OR_RETURN(
      auto age, base::AgeReader::Open(in.get(), identities_, name, payload));
  LK_RETURN_IF_ERROR(Skip(*age, offset));
  return std::unique_ptr<base::Reader>(
      new DecryptingReader(std::move(in), std::move(age), length));
}

Result<std::unique_ptr<base::Reader>> AgeReplica::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  const FileKey key{level, min_txid, max_txid};
  const std::string name = FileName(level, min_txid, max_txid);
  if (length == 0) {
    return std::unique_ptr<base::Reader>(new BytesReader({}));
  }
  std::shared_ptr<const base::AgePayload> payload;
  if (offset > 0 || length > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = headers_.find(key);
    if (it != headers_.end()) payload = it->second.payload;
  }
  if (payload != nullptr && length > 0) {
    auto bytes = ReadChunks(key, *payload, offset, length);
    if (bytes.ok()) {
      return std::unique_ptr<base::Reader>(new BytesReader(std::move(*bytes)));
    }
    if (bytes.status().code() != base::Code::kCorrupt) return bytes.status();
    // The file may have been replaced since its header was read (same
    // name, new key): read it from its start, which decides.
    std::lock_guard<std::mutex> lock(mu_);
    headers_.erase(key);
  } else if (payload != nullptr) {
    constexpr auto kChunk = static_cast<int64_t>(base::kAgeChunkSize);
    const int64_t first = offset / kChunk;
    LK_ASSIGN_OR_RETURN(
        auto in, inner().OpenFile(level, min_txid, max_txid,
                                  static_cast<int64_t>(payload->offset()) +
                                      first * static_cast<int64_t>(
                                                  base::kAgeSealedChunkSize),
                                  -1));
    auto plain = payload->Decrypt(in.get(), static_cast<uint64_t>(first), name);
    LK_RETURN_IF_ERROR(Skip(*plain, offset - first * kChunk));
    return std::unique_ptr<base::Reader>(
        new DecryptingReader(std::move(in), std::move(plain), -1));
  }
  LK_ASSIGN_OR_RETURN(auto in, inner().OpenFile(level, min_txid, max_txid));
  LK_ASSIGN_OR_RETURN(auto out,
                      Decrypt(std::move(in), name, offset, length, &payload));
  std::lock_guard<std::mutex> lock(mu_);
  // Kept only for readers whose listings prune them (SetExactSizes).
  if (exact_sizes_ && headers_.find(key) == headers_.end()) {
    headers_[key] = Header{-1, payload};
  }
  return out;
}

Result<std::unique_ptr<base::Reader>> AgeReplica::OpenObject(
    const std::string& key) {
  LK_ASSIGN_OR_RETURN(auto in, inner().OpenObject(key));
  return Decrypt(std::move(in), key, 0, -1, nullptr);
}

Status AgeReplica::WriteFile(const FileInfo& info, base::Reader& data) {
  return Write(info, data, nullptr);
}

Status AgeReplica::WriteFileFenced(const FileInfo& info, base::Reader& data,
                                   const PublishFence& fence) {
  return Write(info, data, &fence);
}

Status AgeReplica::Write(const FileInfo& info, base::Reader& data,
                         const PublishFence* fence) {
  std::string name = FileName(info.level, info.min_txid, info.max_txid);
  if (recipients_.empty()) {
    return base::FailedPreconditionError(
        "write " + name + " to " + Describe() +
        ": the replica is age-encrypted but no recipient is configured "
        "(age: recipients)");
  }
  EncryptingReader enc(&data);
  LK_RETURN_IF_ERROR(enc.Init(recipients_));
  FileInfo stored = info;
  stored.size = EncryptedSize(info.size, recipients_.size());
  return fence != nullptr ? inner().WriteFileFenced(stored, enc, *fence)
                          : inner().WriteFile(stored, enc);
}

}  // namespace litekeep::storage
