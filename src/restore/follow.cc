// Follow mode: the first restore, the applied-TXID record, and applying new
// LTX files under SQLite's EXCLUSIVE lock (docs/follow.md).
#include "restore/follow.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/coding.h"
#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "restore/planner.h"
#include "storage/fence.h"
#include "storage/file_chain.h"

namespace litekeep::restore {
namespace {

using storage::FileInfo;

std::string ObjectName(const FileInfo& f) {
  return "level " + std::to_string(f.level) + " file " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

uint32_t Get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The database header fields the follower owns (docs/follow.md, "The
// follower database"): rollback-journal mode (file format versions 1), a
// change counter that grows on every step so that readers drop their page
// cache, and a valid in-header size.
Status PatchHeader(base::File& db, Pgno pages) {
  uint8_t h[100];
  LK_RETURN_IF_ERROR(db.ReadFullAt(h, sizeof(h), 0));
  const uint32_t counter = Get32(h + 24) + 1;
  h[18] = 1;
  h[19] = 1;
  Put32(h + 24, counter);
  Put32(h + 28, pages);
  Put32(h + 92, counter);
  return db.WriteAt(h, sizeof(h), 0);
}

// A sqlite3 connection that holds SQLite's locks on the follower database
// for the duration of one step, as a rollback-journal writer would.
class DbLock {
 public:
  ~DbLock() {
    if (db_ != nullptr) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db_);
    }
  }
  Status Open(const std::string& path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) return Error("open " + path);
    sqlite3_busy_timeout(db_, 5000);
    return Exec("PRAGMA journal_mode=DELETE");
  }
  // Waits (while readers finish) until the EXCLUSIVE lock is ours.
  Status Lock(const std::function<bool()>& stopped) {
    for (;;) {
      int rc = sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) return Status::Ok();
      if (rc != SQLITE_BUSY || stopped()) {
        return Error("lock the follower database");
      }
      spdlog::warn(
          "follow: readers hold the database for more than 5 s; "
          "still waiting for the exclusive lock");
    }
  }
  Status Unlock() { return Exec("COMMIT"); }

 private:
  Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error(sql);
    }
    return Status::Ok();
  }
  Status Error(const std::string& what) {
    std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    return base::IoError(what + ": " + m);
  }
  sqlite3* db_ = nullptr;
};

struct State {
  TxId txid = 0;
  bool applying = false;
};

Result<std::optional<State>> ReadState(const std::string& path) {
  if (!base::PathExists(path)) return std::optional<State>();
  LK_ASSIGN_OR_RETURN(std::string text, base::ReadFileToString(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("txid") ||
      !j["txid"].is_string()) {
    return base::CorruptError("follow state " + path +
                              " is not valid; restore fresh with -force");
  }
  auto txid = ltx::ParseTxId(j["txid"].get<std::string>());
  if (!txid.ok()) return txid.status().WithContext("follow state " + path);
  State s;
  s.txid = *txid;
  s.applying = j.value("applying", false);
  return std::optional<State>(s);
}

// Copies a remote replica file into an unlinked private temporary file
// beside the database, so that the exclusive lock is held for local reads
// only, never for a download.
Result<std::unique_ptr<base::Reader>> Download(storage::ReplicaClient& replica,
                                               const FileInfo& f,
                                               const std::string& dir_prefix) {
  const std::string name = ObjectName(f) + " in " + replica.Describe();
  auto opened = replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, -1);
  if (!opened.ok()) return opened.status().WithContext("open " + name);
  std::string tmpl = dir_prefix + "-litekeep-dl.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return base::ErrnoError("create a temporary file for " + name, errno);
  ::unlink(tmpl.c_str());
  base::File out(fd, tmpl);
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    auto n = (*opened)->Read(buf);
    if (!n.ok()) return n.status().WithContext("download " + name);
    if (*n == 0) break;
    LK_RETURN_IF_ERROR(out.WriteAll(buf.data(), *n));
  }
  return std::unique_ptr<base::Reader>(new base::FileReader(std::move(out)));
}

std::chrono::duration<double> LagOf(const FileInfo& f) {
  if (f.created == TimePoint{}) return std::chrono::duration<double>(0);
  return std::chrono::system_clock::now() - f.created;
}

}  // namespace

std::string FollowStatePath(const std::string& output) {
  return output + "-litekeep-follow";
}

Follower::Follower(storage::ReplicaClient& replica, FollowOptions options)
    : replica_(replica), options_(std::move(options)) {}

void Follower::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
}

bool Follower::Wait(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_; });
  return !stop_;
}

Status Follower::WriteState(bool applying, TxId target) {
  // Atomic: a private temporary file in the same directory, fsync, rename,
  // directory fsync.
  const std::string path = FollowStatePath(options_.output);
  nlohmann::json j = {{"txid", ltx::FormatTxId(applied_)},
                      {"applying", applying},
                      {"replica", replica_.Describe()}};
  if (applying) j["target_txid"] = ltx::FormatTxId(target);
  const std::string text = j.dump() + "\n";
  std::string tmpl = path + ".XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return base::ErrnoError("create a temporary file for " + path, errno);
  base::Status s;
  {
    base::File f(fd, tmpl);
    s = f.WriteAll(text.data(), text.size());
    if (s.ok()) s = f.Sync();
    if (s.ok()) s = f.Close();
  }
  if (s.ok() && ::rename(tmpl.c_str(), path.c_str()) != 0) {
    s = base::ErrnoError("rename " + tmpl + " to " + path, errno);
  }
  if (!s.ok()) {
    ::unlink(tmpl.c_str());
    return s;
  }
  return base::SyncDir(base::DirName(path));
}

Status Follower::FreshRestore(const std::vector<FileInfo>& files) {
  LK_ASSIGN_OR_RETURN(Plan plan,
                      MakePlan(files, Target{}, replica_.Describe()));
  // The restore lands beside the database under another name; the header
  // is made the follower's before the rename, so that no reader ever opens
  // the new file in the source's journal mode.
  const std::string& out = options_.output;
  const std::string staging = out + "-litekeep-restore";
  ExecuteOptions eo;
  eo.output = staging;
  eo.force = true;  // the caller decided
  eo.integrity = options_.integrity;
  eo.parallelism = options_.parallelism;
  // The record goes first so that a crash before the rename below is seen
  // as an unfinished step on the next start.
  applied_ = 0;
  LK_RETURN_IF_ERROR(WriteState(true, plan.txid));
  LK_ASSIGN_OR_RETURN(ExecuteResult r, Execute(replica_, plan, eo));
  {
    LK_ASSIGN_OR_RETURN(base::File db, base::File::Open(staging, O_RDWR));
    LK_RETURN_IF_ERROR(PatchHeader(db, r.pages));
    LK_RETURN_IF_ERROR(db.Sync());
    LK_RETURN_IF_ERROR(db.Close());
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string p = out + suffix;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      return base::ErrnoError("remove stale " + p, errno);
    }
  }
  if (::rename(staging.c_str(), out.c_str()) != 0) {
    return base::ErrnoError("rename " + staging + " to " + out, errno);
  }
  LK_RETURN_IF_ERROR(base::SyncDir(base::DirName(out)));
  applied_ = r.txid;
  pages_ = r.pages;
  page_size_ = r.page_size;
  LK_RETURN_IF_ERROR(WriteState(false, 0));
  spdlog::info("follow: restored {} to TXID {} ({} files)", options_.output,
               ltx::FormatTxId(applied_), plan.files.size());
  if (options_.on_progress) {
    FollowProgress p;
    p.txid = applied_;
    p.replica_txid = applied_;
    p.files = plan.files.size();
    p.pages = pages_;
    p.lag = LagOf(plan.files.back());
    p.initial = true;
    options_.on_progress(p);
  }
  return Status::Ok();
}

Status Follower::Start() {
  const std::string& out = options_.output;
  const std::string state_path = FollowStatePath(out);
  LK_ASSIGN_OR_RETURN(auto state, ReadState(state_path));
  LK_ASSIGN_OR_RETURN(auto files, ListAllFiles(replica_));
  const bool exists = base::PathExists(out);
  if (!exists) return FreshRestore(files);
  if (!state) {
    if (!options_.force) {
      return base::AlreadyExistsError(
          "output " + out +
          " already exists and is not a follower database (no " + state_path +
          "); use -force to replace it");
    }
    return FreshRestore(files);
  }
  if (state->applying) {
    // A previous follower stopped in the middle of a step: the file may mix
    // two states. It is ours (the record says so): rebuild it.
    spdlog::warn(
        "follow: a previous run stopped while updating {}; restoring "
        "it fresh",
        out);
    return FreshRestore(files);
  }
  applied_ = state->txid;
  {
    LK_ASSIGN_OR_RETURN(base::File db, base::File::Open(out, O_RDONLY));
    uint8_t h[100];
    LK_RETURN_IF_ERROR(db.ReadFullAt(h, sizeof(h), 0));
    page_size_ = h[16] * 256u + h[17];
    if (page_size_ == 1) page_size_ = 65536;
    pages_ = Get32(h + 28);
  }
  spdlog::info("follow: resuming {} from TXID {}", out,
               ltx::FormatTxId(applied_));
  bool changed = false;
  LK_RETURN_IF_ERROR(Poll(&changed));
  if (options_.on_progress && !changed) {
    FollowProgress p;
    p.txid = p.replica_txid = applied_;
    p.pages = pages_;
    p.initial = true;
    options_.on_progress(p);
  }
  return Status::Ok();
}

Status Follower::Poll(bool* changed) {
  *changed = false;
  // Level 0 alone first (one LIST); all levels when L0 does not continue
  // the applied TXID (compacted away) or is behind it.
  LK_ASSIGN_OR_RETURN(auto l0, replica_.ListFiles(0));
  TxId newest = 0;
  for (const auto& f : l0) newest = std::max(newest, f.max_txid);
  if (newest == applied_) return Status::Ok();
  // New files: leave out a stale writer's (docs/architecture.md, "Fencing").
  LK_ASSIGN_OR_RETURN(auto stale,
                      storage::DropStaleFiles(replica_, &l0, applied_));
  for (const auto& f : stale) spdlog::warn("skipping {}", f.Describe(replica_));
  newest = 0;
  for (const auto& f : l0) newest = std::max(newest, f.max_txid);
  if (newest == applied_) return Status::Ok();
  TxId reached = applied_;
  std::vector<FileInfo> chain;
  if (newest > applied_)
    chain = storage::GreedyChain(l0, applied_, newest, &reached);
  if (chain.empty() || reached != newest) {
    LK_ASSIGN_OR_RETURN(auto all, ListAllFiles(replica_));
    newest = 0;
    for (const auto& f : all) newest = std::max(newest, f.max_txid);
    if (newest == applied_) return Status::Ok();
    reached = applied_;
    chain.clear();
    if (newest > applied_)
      chain = storage::GreedyChain(all, applied_, newest, &reached);
    if (chain.empty()) {
      std::string why =
          newest < applied_
              ? "the replica's newest TXID is " + ltx::FormatTxId(newest) +
                    ", behind the follower's TXID " +
                    ltx::FormatTxId(applied_) + " (a new history started)"
              : "the replica no longer holds the changes after TXID " +
                    ltx::FormatTxId(applied_) +
                    " (retention removed them, or a new history started)";
      if (!options_.force) {
        return base::FailedPreconditionError(
            "cannot follow " + replica_.Describe() + " from TXID " +
            ltx::FormatTxId(applied_) + ": " + why +
            "; restore fresh with -force");
      }
      spdlog::warn("follow: {}; restoring fresh (-force)", why);
      LK_RETURN_IF_ERROR(FreshRestore(all));
      *changed = true;
      return Status::Ok();
    }
  }
  LK_RETURN_IF_ERROR(Apply(chain, newest));
  *changed = true;
  return Status::Ok();
}

Status Follower::Apply(const std::vector<FileInfo>& chain, TxId newest) {
  const std::string& out = options_.output;
  const TxId target = chain.back().max_txid;
  // Remote files are downloaded before the lock is taken; the file backend
  // is read in place.
  std::vector<std::unique_ptr<base::Reader>> local(chain.size());
  if (replica_.Type() != "file") {
    for (size_t i = 0; i < chain.size(); ++i) {
      LK_ASSIGN_OR_RETURN(local[i], Download(replica_, chain[i], out));
    }
  }
  LK_RETURN_IF_ERROR(WriteState(true, target));
  // The follower's own descriptor stays open until the lock connection is
  // closed: closing any descriptor of a file drops the process's POSIX
  // locks on it, SQLite's included.
  LK_ASSIGN_OR_RETURN(base::File db, base::File::Open(out, O_RDWR));
  {
    DbLock lock;
    LK_RETURN_IF_ERROR(lock.Open(out));
    LK_RETURN_IF_ERROR(lock.Lock([this] {
      std::lock_guard<std::mutex> l(mu_);
      return stop_;
    }));
    storage::PageSupply supply(pages_, page_size_);
    std::vector<uint8_t> page;
    for (size_t i = 0; i < chain.size(); ++i) {
      const FileInfo& f = chain[i];
      const std::string name = ObjectName(f) + " in " + replica_.Describe();
      std::unique_ptr<base::Reader> source = std::move(local[i]);
      if (!source) {
        auto opened = replica_.OpenFile(f.level, f.min_txid, f.max_txid, 0, -1);
        if (!opened.ok()) return opened.status().WithContext("open " + name);
        source = std::move(opened).value();
      }
      ltx::Decoder dec(source.get(), name);
      LK_RETURN_IF_ERROR(dec.DecodeHeader());
      const ltx::Header& h = dec.header();
      if (h.min_txid != f.min_txid || h.max_txid != f.max_txid) {
        return base::CorruptError(name +
                                  ": header TXIDs do not match its name");
      }
      if (h.page_size != page_size_) {
        // Readers cannot follow a page size change in place.
        return base::FailedPreconditionError(
            name + " changes the page size from " + std::to_string(page_size_) +
            " to " + std::to_string(h.page_size) +
            "; restart follow mode with -force to restore fresh");
      }
      supply.StartFile(h.IsSnapshot(), h.page_size, h.commit, name);
      page.resize(h.page_size);
      Pgno pgno = 0;
      for (;;) {
        LK_ASSIGN_OR_RETURN(bool more, dec.DecodePage(&pgno, page));
        if (!more) break;
        LK_RETURN_IF_ERROR(supply.AddPage(pgno));
        LK_RETURN_IF_ERROR(
            db.WriteAt(page.data(), page.size(),
                       static_cast<int64_t>(pgno - 1) * h.page_size));
      }
      LK_RETURN_IF_ERROR(dec.Close());
      LK_RETURN_IF_ERROR(supply.FinishFile());
      LK_RETURN_IF_ERROR(
          db.Truncate(static_cast<int64_t>(h.commit) * h.page_size));
      pages_ = h.commit;
    }
    LK_RETURN_IF_ERROR(PatchHeader(db, pages_));
    LK_RETURN_IF_ERROR(db.Sync());
    LK_RETURN_IF_ERROR(lock.Unlock());
  }
  LK_RETURN_IF_ERROR(db.Close());
  applied_ = target;
  LK_RETURN_IF_ERROR(WriteState(false, 0));
  FollowProgress p;
  p.txid = applied_;
  p.replica_txid = newest;
  p.files = chain.size();
  p.pages = pages_;
  p.lag = LagOf(chain.back());
  std::string levels;
  for (const auto& f : chain) {
    const std::string l = std::to_string(f.level);
    if (levels.find(l) == std::string::npos)
      levels += (levels.empty() ? "" : ",") + l;
  }
  spdlog::info("follow: applied TXID {} ({} files of level {}, lag {:.1f}s)",
               ltx::FormatTxId(applied_), chain.size(), levels, p.lag.count());
  if (options_.on_progress) options_.on_progress(p);
  return Status::Ok();
}

Status Follower::Run() {
  LK_RETURN_IF_ERROR(Start());
  auto wait = options_.interval;
  while (Wait(wait)) {
    bool changed = false;
    Status s = Poll(&changed);
    if (!s.ok()) {
      if (!s.retryable()) return s;
      spdlog::warn("follow: poll failed, retrying: {}", s.ToString());
    }
    if (changed) {
      wait = options_.interval;
    } else {
      wait = std::min(options_.max_interval,
                      std::max(options_.interval, wait * 2));
    }
  }
  return Status::Ok();
}

}  // namespace litekeep::restore
