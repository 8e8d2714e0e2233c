// The VFS's write mode: SQLite's writes buffered as an overlay of pages,
// shipped every sync interval as one L0 file (ltx/l0_builder.h) when no
// write transaction is open, and refused once the replica moved on.
#include <algorithm>
#include <cstring>

#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "ltx/l0_builder.h"
#include "storage/file_chain.h"
#include "vfs/database.h"

namespace litekeep::vfs {

Status Database::Write(const void* buf, int amt, int64_t offset) {
  if (!options_.write_enabled) {
    return base::PermissionDeniedError("litekeep vfs: database is read-only");
  }
  uint32_t ps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (write_page_size_ == 0 && offset == 0) {
      write_page_size_ = static_cast<uint32_t>(amt);
    }
    ps = write_page_size_;
  }
  if (ps == 0 || !ltx::IsValidPageSize(ps)) {
    return base::InvalidArgumentError("litekeep vfs: write before page 1");
  }
  const auto* src = static_cast<const uint8_t*>(buf);
  for (int64_t at = offset; at < offset + amt;) {
    auto pgno = static_cast<Pgno>(at / ps + 1);
    int64_t from = at - int64_t{pgno - 1} * ps;
    int64_t n = std::min<int64_t>(ps - from, offset + amt - at);
    std::vector<uint8_t> page(ps);
    if (n != ps) {
      std::shared_ptr<const Version> v;
      {
        std::lock_guard<std::mutex> lock(mu_);
        v = current_;
      }
      LK_RETURN_IF_ERROR(GetPage(*v, pgno, page));
    }
    std::memcpy(page.data() + from, src + (at - offset),
                static_cast<size_t>(n));
    std::lock_guard<std::mutex> lock(mu_);
    overlay_[pgno] = {std::move(page), ++write_gen_};
    dirty_.insert(pgno);
    write_commit_ = std::max(write_commit_, pgno);
    at += n;
  }
  return Status::Ok();
}

Status Database::Truncate(int64_t size) {
  if (!options_.write_enabled) {
    return base::PermissionDeniedError("litekeep vfs: database is read-only");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (write_page_size_ == 0) return Status::Ok();
  auto pages =
      static_cast<uint32_t>((size + write_page_size_ - 1) / write_page_size_);
  if (pages < write_commit_) {
    write_commit_ = pages;
    overlay_.erase(overlay_.upper_bound(pages), overlay_.end());
    dirty_.erase(dirty_.upper_bound(pages), dirty_.end());
    size_dirty_ = true;
  }
  return Status::Ok();
}

Status Database::SyncOnce() {
  std::lock_guard<std::mutex> one(sync_mu_);
  std::vector<std::pair<Pgno, uint64_t>> shipped;  // page, generation
  std::shared_ptr<const Version> base;
  uint32_t commit, ps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!write_error_.ok()) return write_error_;
    // Only between write transactions: the overlay is then a committed state.
    if (lock_ >= LockLevel::kReserved) return Status::Ok();
    if (dirty_.empty() && !size_dirty_) return Status::Ok();
    base = current_;
    commit = write_commit_;
    ps = write_page_size_;
    if (commit == 0) return Status::Ok();
  }
  TxId txid = base->txid + 1;
  // Refuse when someone else advanced the replica: never interleave chains.
  LK_ASSIGN_OR_RETURN(TxId remote, storage::MaxTxId(*client_));
  if (remote != base->txid) {
    Status s = base::FailedPreconditionError(
        "litekeep vfs: sync refused: replica " + client_->Describe() +
        " is at TXID " + ltx::FormatTxId(remote) + " but this writer is at " +
        ltx::FormatTxId(base->txid) +
        " (another writer?); local changes are not shipped");
    std::lock_guard<std::mutex> lock(mu_);
    write_error_ = s;
    Log(LogLevel::kError, s.message());
    return s;
  }
  const TimePoint now = Clock::now();
  const ltx::Header h =
      ltx::L0Header(txid, ps, commit,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        now.time_since_epoch())
                        .count());
  std::string bytes;
  base::StringWriter sw(&bytes);
  ltx::L0Builder builder(&sw);
  LK_RETURN_IF_ERROR(builder.Begin(h));
  std::vector<uint8_t> page(ps);
  std::vector<Pgno> pgnos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (h.IsSnapshot()) {
      for (Pgno p = 1; p <= commit; ++p) pgnos.push_back(p);
    } else {
      pgnos.assign(dirty_.begin(), dirty_.upper_bound(commit));
    }
  }
  for (Pgno p : pgnos) {
    if (p == ltx::LockPgno(ps)) continue;  // never stored: do not read it
    uint64_t gen = 0;
    bool have = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = overlay_.find(p); it != overlay_.end()) {
        std::memcpy(page.data(), it->second.first.data(), ps);
        gen = it->second.second;
        have = true;
      }
    }
    if (!have) LK_RETURN_IF_ERROR(GetPage(*base, p, page));
    LK_RETURN_IF_ERROR(builder.AddPage(p, page));
    if (have) shipped.emplace_back(p, gen);
  }
  LK_RETURN_IF_ERROR(builder.Finish());
  std::span<const uint8_t> file(reinterpret_cast<const uint8_t*>(bytes.data()),
                                bytes.size());
  storage::FileInfo info{0, txid, txid, static_cast<int64_t>(bytes.size()),
                         now};
  base::SpanReader reader(file);
  Status put = client_->WriteFile(info, reader);
  if (!put.ok()) {
    Log(LogLevel::kWarn, "sync of TXID " + ltx::FormatTxId(txid) +
                             " failed (will retry): " + put.ToString());
    return put;
  }
  // The new file becomes part of the version; shipped pages leave the
  // overlay unless SQLite wrote them again meanwhile.
  auto fi = std::make_shared<FileIndex>();
  fi->info = info;
  static std::atomic<uint32_t> next_id{0x80000000u};
  fi->id = next_id.fetch_add(1);
  fi->page_size = ps;
  fi->commit = commit;
  fi->timestamp_ms = h.timestamp_ms;
  LK_ASSIGN_OR_RETURN(fi->entries, ltx::DecodePageIndexFromTail(
                                       file, file.size(), FileName(fi->info)));
  LK_ASSIGN_OR_RETURN(auto next, ApplyFiles(base.get(), {fi}));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto [p, gen] : shipped) {
    auto it = overlay_.find(p);
    if (it != overlay_.end() && it->second.second == gen) {
      cache_.Put(fi->id, p, it->second.first);
      overlay_.erase(it);
      dirty_.erase(p);
    }
  }
  if (commit == write_commit_) size_dirty_ = false;
  current_ = live_ = next;
  ++syncs_;
  Log(LogLevel::kDebug, "synced TXID " + ltx::FormatTxId(txid) + " (" +
                            std::to_string(pgnos.size()) + " pages)");
  return Status::Ok();
}

void Database::SyncLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.sync_interval, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    SyncOnce().IgnoreError();  // logged; retried next interval
    lock.lock();
  }
}

}  // namespace litekeep::vfs
