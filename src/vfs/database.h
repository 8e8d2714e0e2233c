// One database opened through the litekeep VFS: serves SQLite's reads from
// the replica (page cache, coalesced ranged GETs, sequential prefetch),
// keeps it fresh by polling for new LTX files (applied only when SQLite
// starts a read transaction), travels in time, hydrates a local copy in the
// background, and in write mode buffers SQLite's writes and ships them as L0
// files. docs/vfs.md describes the behaviour users see. One file per job:
// database.cc (open, close, versions, locks), read.cc, poll.cc,
// time_travel.cc, hydrate.cc, write.cc, stats.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "storage/replica_client.h"
#include "vfs/options.h"
#include "vfs/page_cache.h"
#include "vfs/version.h"

namespace litekeep::vfs {

// SQLite's lock levels (sqlite3.h SQLITE_LOCK_*).
enum class LockLevel {
  kNone = 0,
  kShared = 1,
  kReserved = 2,
  kPending = 3,
  kExclusive = 4
};

class Database {
 public:
  // Connects to the replica and builds the newest version (or, in write
  // mode, an empty database when the replica is empty). Starts the poller,
  // hydrator and syncer threads the options ask for.
  static Result<std::unique_ptr<Database>> Open(const VfsOptions& options);
  // Stops the threads; in write mode syncs what is left first (errors are
  // logged; call Close to see them).
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  bool writable() const { return options_.write_enabled; }

  // xRead: fills buf with amt bytes at offset. A read past the end of the
  // database sets *short_read and zero-fills the part past the end.
  Status Read(void* buf, int amt, int64_t offset, bool* short_read);
  int64_t FileSize();
  Status Write(const void* buf, int amt, int64_t offset);
  Status Truncate(int64_t size);
  // Lock changes SQLite made (already granted). Acquiring SHARED from NONE
  // switches to the newest (or pinned) version; returns an error when a
  // write transaction is refused (write mode after a failed sync).
  Status Lock(LockLevel level);
  void Unlock(LockLevel level);
  LockLevel lock_level() const { return lock_; }

  // PRAGMA litekeep_*: nullopt when name is not ours; else the result row
  // text (may be empty) or an error.
  std::optional<Result<std::string>> Pragma(const std::string& name,
                                            const char* value);

  // Final sync (write mode); returns its error.
  Status Close();

 private:
  explicit Database(VfsOptions options);

  Status Init();
  // The page into out (page_size bytes) for version v; page 1 is patched.
  Status GetPage(const Version& v, Pgno pgno, std::span<uint8_t> out);
  // Fetches pages pgno.. (up to window, contiguous in one file, not cached)
  // with one ranged GET, caches them, and copies page pgno into out.
  Status FetchRun(const Version& v, Pgno pgno, int window,
                  std::span<uint8_t> out);
  // A new version of the live replica (newest of plan), from scratch.
  Result<std::shared_ptr<const Version>> BuildVersion(
      const std::optional<TxId>& txid, const std::optional<TimePoint>& when);
  Status Poll();
  // Wakes the poller when it is backed off and a reader is active.
  void PokeIfIdleLocked();
  void PollLoop();
  void Hydrate();
  Status SyncOnce();
  void SyncLoop();
  std::string Stats();

  VfsOptions options_;
  std::unique_ptr<storage::ReplicaClient> client_;
  std::unique_ptr<IndexCache> indexes_;
  PageCache cache_;

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool stop_ = false;
  LockLevel lock_ = LockLevel::kNone;
  std::shared_ptr<const Version> current_;  // what SQLite reads
  std::shared_ptr<const Version> live_;     // newest live version known
  std::shared_ptr<const Version> pinned_;   // time travel target, or null
  std::chrono::milliseconds poll_wait_{0};
  std::chrono::steady_clock::time_point last_poll_{};
  bool poke_ = false;
  Status poll_error_;

  // Sequential-read detection (SQLite calls are serialized per file).
  Pgno last_pgno_ = 0;
  int readahead_ = 1;

  // Hydration: pages whose file has max TXID <= hydrated_txid_ are read
  // from hydrated_.
  std::shared_ptr<base::File> hydrated_;
  TxId hydrated_txid_ = 0;
  Status hydration_error_;  // the last failed attempt, until one succeeds

  // Write mode: pages written and not yet shipped, by page number, with a
  // generation so a sync drops only what it shipped.
  std::map<Pgno, std::pair<std::vector<uint8_t>, uint64_t>> overlay_;
  std::set<Pgno> dirty_;
  bool size_dirty_ = false;
  uint32_t write_commit_ = 0;  // database size in pages (write mode)
  uint32_t write_page_size_ = 0;
  uint64_t write_gen_ = 0;
  Status write_error_;  // sticky: a refused or failed sync
  std::mutex sync_mu_;  // one sync at a time
  uint64_t syncs_ = 0;

  std::thread poller_, hydrator_, syncer_;
};

}  // namespace litekeep::vfs
