// The VFS's database: read path, freshness, time travel, hydration, writes.
#include "vfs/database.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/rfc3339.h"
#include "config/config.h"
#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/file_name.h"
#include "restore/executor.h"
#include "restore/planner.h"
#include "storage/registry.h"
#include "vfs/frame.h"

namespace litekeep::vfs {
namespace {

std::atomic<bool> g_writer_open{false};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsLive(const std::string& v) {
  std::string s = Lower(v);
  return s.empty() || s == "live" || s == "now" || s == "latest" ||
         s == "reset";
}

std::string FileName(const FileIndex& f) {
  return "level " + std::to_string(f.info.level) + " " +
         ltx::FormatFileName(f.info.min_txid, f.info.max_txid);
}

}  // namespace

Database::Database(VfsOptions options)
    : options_(std::move(options)), cache_(options_.cache_bytes) {}

Result<std::unique_ptr<Database>> Database::Open(const VfsOptions& options) {
  SetLogLevel(options.log_level);
  if (options.write_enabled && g_writer_open.exchange(true)) {
    return base::FailedPreconditionError(
        "litekeep vfs: a write-enabled database is already open in this "
        "process (one writer only)");
  }
  std::unique_ptr<Database> db(new Database(options));
  Status s = db->Init();
  if (!s.ok()) return s;
  return db;
}

Status Database::Init() {
  auto rc = config::ParseReplicaUrl(options_.replica_url);
  if (!rc.ok()) return rc.status().WithContext("litekeep vfs: replica URL");
  LK_ASSIGN_OR_RETURN(client_, storage::NewReplicaClient(*rc));
  indexes_ = std::make_unique<IndexCache>(client_.get(),
                                          options_.index_parallelism);
  auto v = BuildVersion(std::nullopt, std::nullopt);
  if (!v.ok()) {
    if (!(options_.write_enabled && v.status().code() == base::Code::kNotFound)) {
      return v.status();
    }
    // Write mode on an empty replica: a new, empty database.
    v = std::shared_ptr<const Version>(std::make_shared<Version>());
  }
  current_ = live_ = *v;
  poll_wait_ = options_.poll_interval;
  last_poll_ = std::chrono::steady_clock::now();
  Log(LogLevel::kInfo, "opened " + client_->Describe() + " at TXID " +
                           ltx::FormatTxId(current_->txid));
  if (options_.write_enabled) {
    write_commit_ = current_->commit;
    write_page_size_ = current_->page_size;
    syncer_ = std::thread([this] { SyncLoop(); });
  } else {
    poller_ = std::thread([this] { PollLoop(); });
  }
  if (!options_.hydration_path.empty()) {
    hydrator_ = std::thread([this] { Hydrate(); });
  }
  return Status::Ok();
}

Database::~Database() {
  Close().IgnoreError();
  if (options_.write_enabled) g_writer_open = false;
}

Status Database::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return write_error_;
    stop_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (syncer_.joinable()) syncer_.join();
  if (hydrator_.joinable()) hydrator_.join();
  if (options_.write_enabled) {
    Status s = SyncOnce();
    if (!s.ok()) Log(LogLevel::kError, "final sync failed: " + s.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    if (write_error_.ok() && !s.ok()) write_error_ = s;
    return write_error_;
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Version>> Database::BuildVersion(
    const std::optional<TxId>& txid, const std::optional<TimePoint>& when) {
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(*client_));
  restore::Target target;
  target.txid = txid;
  target.timestamp = when;
  LK_ASSIGN_OR_RETURN(restore::Plan plan,
                      restore::MakePlan(files, target, client_->Describe()));
  LK_ASSIGN_OR_RETURN(auto idx, indexes_->Get(plan.files));
  return ApplyFiles(nullptr, idx);
}

// ---- read path -------------------------------------------------------------

Status Database::FetchRun(const Version& v, Pgno pgno, int window,
                          std::span<uint8_t> out) {
  const PageLoc first = v.pages[pgno - 1];
  const FileIndex& file = *v.files[first.file - 1];
  Pgno end = pgno + 1;  // exclusive
  uint64_t len = first.size;
  while (static_cast<int>(end - pgno) < window && end <= v.commit) {
    const PageLoc& next = v.pages[end - 1];
    if (next.file != first.file || next.offset != first.offset + len ||
        cache_.Contains(file.id, end)) {
      break;
    }
    len += next.size;
    ++end;
  }
  LK_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                      ReadRange(*client_, file.info,
                                static_cast<int64_t>(first.offset),
                                static_cast<int64_t>(len)));
  std::vector<uint8_t> page(v.page_size);
  uint64_t at = 0;
  for (Pgno p = pgno; p < end; ++p) {
    const PageLoc& loc = v.pages[p - 1];
    LK_RETURN_IF_ERROR(DecodeFrame(
        std::span<const uint8_t>(bytes.data() + at, loc.size), p, page,
        FileName(file)));
    cache_.Put(file.id, p, page);
    if (p == pgno) std::memcpy(out.data(), page.data(), out.size());
    at += loc.size;
  }
  return Status::Ok();
}

Status Database::GetPage(const Version& v, Pgno pgno, std::span<uint8_t> out) {
  bool from_overlay = false;
  if (options_.write_enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = overlay_.find(pgno); it != overlay_.end()) {
      std::memcpy(out.data(), it->second.first.data(), out.size());
      from_overlay = true;
    }
  }
  if (!from_overlay) {
    if (pgno == 0 || pgno > v.pages.size() || v.pages[pgno - 1].file == 0) {
      if (pgno == ltx::LockPgno(v.page_size) || pgno > v.pages.size()) {
        std::memset(out.data(), 0, out.size());
        return Status::Ok();
      }
      return base::CorruptError("litekeep vfs: page " + std::to_string(pgno) +
                                " of TXID " + ltx::FormatTxId(v.txid) +
                                " is in no LTX file");
    }
    const PageLoc& loc = v.pages[pgno - 1];
    const FileIndex& file = *v.files[loc.file - 1];
    std::shared_ptr<base::File> local;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (hydrated_ && file.info.max_txid <= hydrated_txid_) local = hydrated_;
    }
    if (local) {
      LK_RETURN_IF_ERROR(local->ReadFullAt(
          out.data(), out.size(),
          static_cast<int64_t>(pgno - 1) * v.page_size));
    } else if (!cache_.Get(file.id, pgno, out)) {
      // Sequential scans grow the read-ahead window; random reads fetch one.
      readahead_ = pgno == last_pgno_ + 1
                       ? std::min(readahead_ * 2, options_.prefetch_pages)
                       : 1;
      LK_RETURN_IF_ERROR(FetchRun(v, pgno, readahead_, out));
    }
  }
  last_pgno_ = pgno;
  if (pgno == 1 && !from_overlay && out.size() >= 100) {
    // Rollback-journal mode (no WAL, no shm) and a change counter that
    // moves with the TXID, so SQLite drops its cache when the version does.
    out[18] = 1;
    out[19] = 1;
    base::PutBE32(out.data() + 24, static_cast<uint32_t>(v.txid));
    base::PutBE32(out.data() + 92, static_cast<uint32_t>(v.txid));
  }
  return Status::Ok();
}

int64_t Database::FileSize() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.write_enabled) {
    return int64_t{write_commit_} * write_page_size_;
  }
  return int64_t{current_->commit} * current_->page_size;
}

Status Database::Read(void* buf, int amt, int64_t offset, bool* short_read) {
  std::shared_ptr<const Version> v;
  uint32_t page_size;
  int64_t size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = current_;
    page_size = options_.write_enabled ? write_page_size_ : v->page_size;
    size = options_.write_enabled ? int64_t{write_commit_} * page_size
                                  : int64_t{v->commit} * page_size;
  }
  auto* dst = static_cast<uint8_t*>(buf);
  *short_read = false;
  int64_t end = offset + amt;
  if (end > size) {
    *short_read = true;
    int64_t keep = std::max<int64_t>(0, size - offset);
    std::memset(dst + keep, 0, static_cast<size_t>(amt - keep));
    end = size;
  }
  if (offset >= end) return Status::Ok();
  std::vector<uint8_t> page(page_size);
  for (int64_t at = offset; at < end;) {
    auto pgno = static_cast<Pgno>(at / page_size + 1);
    int64_t page_start = int64_t{pgno - 1} * page_size;
    LK_RETURN_IF_ERROR(GetPage(*v, pgno, page));
    int64_t from = at - page_start;
    int64_t n = std::min<int64_t>(page_size - from, end - at);
    std::memcpy(dst + (at - offset), page.data() + from, static_cast<size_t>(n));
    at += n;
  }
  return Status::Ok();
}

// ---- write mode --------------------------------------------------------------

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
    std::memcpy(page.data() + from, src + (at - offset), static_cast<size_t>(n));
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
  auto pages = static_cast<uint32_t>((size + write_page_size_ - 1) /
                                     write_page_size_);
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
  ltx::Header h;
  h.flags = ltx::kHeaderFlagNoChecksum;
  h.page_size = ps;
  h.commit = commit;
  h.min_txid = txid;
  h.max_txid = txid;
  TimePoint now = Clock::now();
  h.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       now.time_since_epoch())
                       .count();
  std::string bytes;
  base::StringWriter sw(&bytes);
  ltx::Encoder enc(&sw);
  LK_RETURN_IF_ERROR(enc.EncodeHeader(h));
  std::vector<uint8_t> page(ps);
  const Pgno lock_pgno = ltx::LockPgno(ps);
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
    if (p == lock_pgno) continue;
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
    if (p == 1) {
      // Ship page 1 as SQLite wrote it (rollback-journal mode).
    }
    LK_RETURN_IF_ERROR(enc.EncodePage(p, page));
    if (have) shipped.emplace_back(p, gen);
  }
  LK_RETURN_IF_ERROR(enc.Close(0));
  std::span<const uint8_t> file(reinterpret_cast<const uint8_t*>(bytes.data()),
                                bytes.size());
  storage::FileInfo info{0, txid, txid, static_cast<int64_t>(bytes.size()), now};
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
  LK_ASSIGN_OR_RETURN(fi->entries,
                      ltx::DecodePageIndexFromTail(file, file.size(),
                                                   FileName(*fi)));
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

// ---- locks and freshness -----------------------------------------------------

void Database::PokeIfIdleLocked() {
  auto now = std::chrono::steady_clock::now();
  if (!options_.write_enabled && !pinned_ &&
      now - last_poll_ >= options_.poll_interval &&
      poll_wait_ > options_.poll_interval) {
    // An active reader: poll soon again even after an idle back-off.
    poke_ = true;
    cv_.notify_all();
  }
}

Status Database::Lock(LockLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  if (level == LockLevel::kShared && lock_ == LockLevel::kNone) {
    // Between transactions: switch versions here and only here.
    const auto& want = pinned_ ? pinned_ : live_;
    if (!options_.write_enabled && want != current_) current_ = want;
    PokeIfIdleLocked();
  }
  if (level >= LockLevel::kReserved && !write_error_.ok()) {
    return write_error_;
  }
  lock_ = level;
  return Status::Ok();
}

void Database::Unlock(LockLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  lock_ = level;
}

Status Database::Poll() {
  std::shared_ptr<const Version> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = live_;
  }
  LK_ASSIGN_OR_RETURN(auto l0, client_->ListFiles(0));
  TxId newest = 0;
  for (const auto& f : l0) newest = std::max(newest, f.max_txid);
  if (newest == live->txid) return Status::Ok();
  std::shared_ptr<const Version> next;
  auto chain = ChainAfter(live->txid, l0);
  if (!chain.empty() && chain.back().max_txid == newest) {
    LK_ASSIGN_OR_RETURN(auto idx, indexes_->Get(chain));
    LK_ASSIGN_OR_RETURN(next, ApplyFiles(live.get(), idx));
  } else {
    // A gap in L0 (compacted or restarted replica): plan from scratch.
    LK_ASSIGN_OR_RETURN(next, BuildVersion(std::nullopt, std::nullopt));
    if (next->txid == live->txid) return Status::Ok();
  }
  Log(LogLevel::kDebug, "replica advanced to TXID " + ltx::FormatTxId(next->txid));
  std::lock_guard<std::mutex> lock(mu_);
  live_ = next;
  poll_wait_ = std::chrono::milliseconds(0);  // reset back-off below
  return Status::Ok();
}

void Database::PollLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, poll_wait_, [this] { return stop_ || poke_; });
    if (stop_) break;
    poke_ = false;
    last_poll_ = std::chrono::steady_clock::now();
    TxId before = live_->txid;
    lock.unlock();
    Status s = Poll();
    lock.lock();
    poll_error_ = s;
    if (!s.ok()) {
      Log(LogLevel::kWarn, "poll failed: " + s.ToString());
    }
    if (live_->txid != before || poke_) {
      poll_wait_ = options_.poll_interval;
    } else {
      // Idle: back off (doubling) so idle readers cost few requests.
      poll_wait_ = std::min(
          options_.poll_max_interval,
          std::max(options_.poll_interval, poll_wait_ * 2));
    }
  }
}

// ---- hydration -----------------------------------------------------------------

void Database::Hydrate() {
  std::shared_ptr<const Version> v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = live_;
  }
  if (v->files.empty()) return;
  restore::Plan plan;
  for (const auto& f : v->files) {
    plan.files.push_back(f->info);
    plan.total_bytes += f->info.size;
  }
  plan.txid = v->txid;
  restore::ExecuteOptions eo;
  eo.output = options_.hydration_path;
  eo.force = true;
  eo.integrity = restore::IntegrityCheck::kNone;
  auto r = restore::Execute(*client_, plan, eo);
  Result<base::File> f = r.ok() ? base::File::Open(options_.hydration_path,
                                                   O_RDONLY)
                                : Result<base::File>(r.status());
  std::lock_guard<std::mutex> lock(mu_);
  if (!f.ok()) {
    hydration_error_ = f.status().ToString();
    Log(LogLevel::kError, "hydration failed: " + hydration_error_);
    return;
  }
  hydrated_ = std::make_shared<base::File>(std::move(*f));
  hydrated_txid_ = v->txid;
  Log(LogLevel::kInfo, "hydrated " + options_.hydration_path + " at TXID " +
                           ltx::FormatTxId(v->txid));
}

// ---- pragmas -------------------------------------------------------------------

std::string Database::Stats() {
  auto rc = client_->request_counts();
  std::lock_guard<std::mutex> lock(mu_);
  std::string s;
  s += "txid=" + ltx::FormatTxId(current_->txid);
  s += " live_txid=" + ltx::FormatTxId(live_->txid);
  s += " pinned=" + std::string(pinned_ ? "1" : "0");
  s += " page_size=" + std::to_string(current_->page_size);
  s += " pages=" + std::to_string(current_->commit);
  s += " files=" + std::to_string(current_->files.size());
  s += " get=" + std::to_string(rc.get);
  s += " list=" + std::to_string(rc.list);
  s += " head=" + std::to_string(rc.head);
  s += " put=" + std::to_string(rc.put);
  s += " cache_hits=" + std::to_string(cache_.hits());
  s += " cache_misses=" + std::to_string(cache_.misses());
  s += " cache_bytes=" + std::to_string(cache_.bytes());
  s += " hydrated=" + std::string(hydrated_ ? "1" : "0");
  s += " hydrated_txid=" + ltx::FormatTxId(hydrated_txid_);
  s += " dirty_pages=" + std::to_string(dirty_.size());
  s += " syncs=" + std::to_string(syncs_);
  s += " write_error=\"" + write_error_.message() + "\"";
  s += " poll_error=\"" + poll_error_.message() + "\"";
  return s;
}

std::optional<Result<std::string>> Database::Pragma(const std::string& name,
                                                    const char* value) {
  std::string n = Lower(name);
  if (n == "litekeep_stats") return Result<std::string>(Stats());
  if (n != "litekeep_time" && n != "litekeep_txid") return std::nullopt;
  if (value == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    // Inside a transaction: what it reads; else what the next one will read.
    PokeIfIdleLocked();
    const auto& v = lock_ != LockLevel::kNone || options_.write_enabled
                        ? current_
                        : (pinned_ ? pinned_ : live_);
    if (n == "litekeep_txid") return Result<std::string>(ltx::FormatTxId(v->txid));
    if (v->files.empty()) return Result<std::string>(std::string());
    return Result<std::string>(base::FormatRfc3339(
        TimePoint(std::chrono::milliseconds(v->files.back()->timestamp_ms))));
  }
  if (options_.write_enabled) {
    return Result<std::string>(base::FailedPreconditionError(
        "litekeep vfs: " + n + " is not available in write mode"));
  }
  if (IsLive(value)) {
    std::lock_guard<std::mutex> lock(mu_);
    pinned_ = nullptr;
    poke_ = true;
    cv_.notify_all();
    return Result<std::string>(std::string("live"));
  }
  Result<std::shared_ptr<const Version>> v = base::InternalError("unset");
  if (n == "litekeep_txid") {
    auto txid = ltx::ParseTxId(value);
    if (!txid.ok()) return Result<std::string>(txid.status());
    v = BuildVersion(*txid, std::nullopt);
  } else {
    auto when = ParseTimeSpec(value, Clock::now());
    if (!when.ok()) return Result<std::string>(when.status());
    v = BuildVersion(std::nullopt, *when);
  }
  if (!v.ok()) return Result<std::string>(v.status());
  std::lock_guard<std::mutex> lock(mu_);
  pinned_ = *v;
  return Result<std::string>(ltx::FormatTxId(pinned_->txid));
}

}  // namespace litekeep::vfs
