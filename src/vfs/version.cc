// Page indexes by tail range reads, and versions built from them.
#include "vfs/version.h"

#include <algorithm>
#include <atomic>

#include "base/age.h"
#include "base/parallel.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "storage/file_chain.h"

namespace litekeep::vfs {
namespace {

// Bytes read from the end of a file in the first request: most page indexes
// of small files fit, and files up to this size are read whole (one GET).
constexpr int64_t kFirstTail = kWholeFileBytes;

std::atomic<uint32_t> g_next_file_id{1};

}  // namespace

std::string FileName(const storage::FileInfo& f) {
  return "level " + std::to_string(f.level) + " " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

Status VerifyWholeFile(std::span<const uint8_t> bytes,
                       const std::string& name) {
  base::SpanReader in(bytes);
  ltx::Decoder dec(&in, name);
  dec.set_keep_page_index(false);
  LK_RETURN_IF_ERROR(dec.DecodeHeader());
  // Close reads and checks every frame, the index and both checksums.
  return dec.Close();
}

Result<std::vector<uint8_t>> ReadRange(storage::ReplicaClient& client,
                                       const storage::FileInfo& f,
                                       int64_t offset, int64_t len) {
  LK_ASSIGN_OR_RETURN(auto reader, client.OpenFile(f.level, f.min_txid,
                                                   f.max_txid, offset, len));
  std::vector<uint8_t> buf(static_cast<size_t>(len));
  Status s = reader->ReadFull(buf);
  if (!s.ok()) return s.WithContext("read " + FileName(f));
  return buf;
}

namespace {

// When a file failed its checks because it is an age file (an encrypted
// replica opened without identities), says so instead.
Status ExplainAgeFile(storage::ReplicaClient& client,
                      const storage::FileInfo& f, Status s) {
  if (s.code() != base::Code::kCorrupt) return s;
  const auto magic = static_cast<int64_t>(base::kAgeMagic.size()) + 1;
  auto head = ReadRange(client, f, 0, std::min(f.size, magic));
  if (!head.ok() ||
      !base::LooksLikeAge(
          {reinterpret_cast<const char*>(head->data()), head->size()})) {
    return s;
  }
  return base::FailedPreconditionError(
      client.Describe() + ": " + FileName(f) +
      ": the replica is age-encrypted and no age identity is configured: set "
      "LITEKEEP_AGE_IDENTITIES or LITEKEEP_AGE_IDENTITY_FILE (docs/vfs.md, "
      "\"Encrypted replicas\")");
}

}  // namespace

Result<std::shared_ptr<const FileIndex>> IndexCache::Fetch(
    const storage::FileInfo& f) {
  auto r = FetchIndex(f);
  if (r.ok()) return r;
  return ExplainAgeFile(*client_, f, r.status());
}

Result<std::shared_ptr<const FileIndex>> IndexCache::FetchIndex(
    const storage::FileInfo& f) {
  const std::string name = FileName(f);
  if (f.size <
      static_cast<int64_t>(ltx::kHeaderSize + 6 + 1 + 8 + ltx::kTrailerSize)) {
    return base::CorruptError(name + ": file too small (" +
                              std::to_string(f.size) + " bytes)");
  }
  int64_t first = std::min(f.size, kFirstTail);
  LK_ASSIGN_OR_RETURN(std::vector<uint8_t> tail,
                      ReadRange(*client_, f, f.size - first, first));
  std::span<const uint8_t> last(tail.data() + tail.size() - 24, 24);
  LK_ASSIGN_OR_RETURN(
      uint64_t need,
      ltx::PageIndexTailLength(last, static_cast<uint64_t>(f.size), name));
  if (need > tail.size()) {
    LK_ASSIGN_OR_RETURN(
        tail, ReadRange(*client_, f, f.size - static_cast<int64_t>(need),
                        static_cast<int64_t>(need)));
  }
  std::vector<uint8_t> header_bytes;
  if (first == f.size) {
    // The whole file is here: check it all before trusting its index.
    LK_RETURN_IF_ERROR(VerifyWholeFile(tail, name));
    header_bytes.assign(tail.begin(), tail.begin() + ltx::kHeaderSize);
  } else {
    LK_ASSIGN_OR_RETURN(header_bytes,
                        ReadRange(*client_, f, 0, ltx::kHeaderSize));
  }
  LK_ASSIGN_OR_RETURN(ltx::Header h, ltx::Header::Decode(header_bytes));
  Status valid = h.Validate();
  if (!valid.ok()) return valid.WithContext(name);
  LK_RETURN_IF_ERROR(ltx::CheckHeaderRange({h.min_txid, h.max_txid},
                                           {f.min_txid, f.max_txid}, name));
  std::span<const uint8_t> t(tail);
  if (t.size() > need) t = t.subspan(t.size() - need);
  LK_ASSIGN_OR_RETURN(
      auto entries,
      ltx::DecodePageIndexFromTail(t, static_cast<uint64_t>(f.size), name));
  auto fi = std::make_shared<FileIndex>();
  fi->info = f;
  fi->id = g_next_file_id.fetch_add(1);
  fi->page_size = h.page_size;
  fi->commit = h.commit;
  fi->timestamp_ms = h.timestamp_ms;
  fi->entries = std::move(entries);
  for (const auto& e : fi->entries) {
    if (e.pgno > h.commit || e.size > 0xffffffffu) {
      return base::CorruptError(name + ": page index entry for page " +
                                std::to_string(e.pgno) + " is invalid");
    }
  }
  return std::shared_ptr<const FileIndex>(std::move(fi));
}

Result<std::vector<std::shared_ptr<const FileIndex>>> IndexCache::Get(
    const std::vector<storage::FileInfo>& files) {
  std::vector<std::shared_ptr<const FileIndex>> out(files.size());
  std::vector<size_t> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < files.size(); ++i) {
      const auto& f = files[i];
      auto it = cache_.find({f.level, f.min_txid, f.max_txid});
      if (it != cache_.end() && it->second->info.size == f.size) {
        out[i] = it->second;
      } else {
        todo.push_back(i);
      }
    }
  }
  std::vector<Status> errors(files.size());
  base::ParallelFor(todo.size(), parallelism_, [&](size_t k) {
    const size_t i = todo[k];
    auto r = Fetch(files[i]);
    if (r.ok()) {
      out[i] = std::move(*r);
    } else {
      errors[i] = r.status();
    }
  });
  for (const auto& e : errors) {
    if (!e.ok()) return e;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i : todo) {
    const auto& f = files[i];
    cache_[{f.level, f.min_txid, f.max_txid}] = out[i];
  }
  return out;
}

Result<std::shared_ptr<const Version>> ApplyFiles(
    const Version* base,
    const std::vector<std::shared_ptr<const FileIndex>>& files) {
  auto v = std::make_shared<Version>();
  if (base != nullptr) *v = *base;
  for (const auto& f : files) {
    if (v->page_size != 0 && f->page_size != v->page_size) {
      return base::CorruptError(
          FileName(f->info) + ": page size " + std::to_string(f->page_size) +
          " differs from the database's " + std::to_string(v->page_size));
    }
    // Every page up to commit must exist before anything is allocated.
    storage::PageSupply supply(v->commit, v->page_size);
    supply.StartFile(f->info.min_txid == 1, f->page_size, f->commit,
                     FileName(f->info));
    for (const auto& e : f->entries) LK_RETURN_IF_ERROR(supply.AddPage(e.pgno));
    LK_RETURN_IF_ERROR(supply.FinishFile());
    v->page_size = f->page_size;
    v->files.push_back(f);
    auto file_no = static_cast<uint32_t>(v->files.size());
    v->commit = f->commit;
    v->pages.resize(f->commit);
    for (const auto& e : f->entries) {
      v->pages[e.pgno - 1] = {file_no, static_cast<uint32_t>(e.size), e.offset};
    }
    v->txid = f->info.max_txid;
  }
  return std::shared_ptr<const Version>(std::move(v));
}

}  // namespace litekeep::vfs
