// Follow mode (`restore -f`): keeps a restored database current with its
// replica so that applications on another machine can read it (a read
// replica). docs/follow.md says what readers may rely on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "base/status.h"
#include "base/types.h"
#include "restore/executor.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

// What the follower reports after the first restore and after each apply.
struct FollowProgress {
  TxId txid = 0;          // applied TXID: the database holds this state
  TxId replica_txid = 0;  // newest TXID the replica held at the last poll
  size_t files = 0;       // LTX files applied by this step
  Pgno pages = 0;         // database size in pages
  std::chrono::duration<double> lag{0};  // now minus the newest applied
                                         // file's creation time
  bool initial = false;  // the first restore (or the resume) of the run
};

struct FollowOptions {
  std::string output;  // the follower database
  // Poll interval while the replica changes; while it does not, the wait
  // doubles up to max_interval and snaps back on the next change.
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds max_interval{10000};
  // Replace an existing database that is not a follower's, and restore
  // fresh when the replica's history no longer continues the applied TXID.
  bool force = false;
  IntegrityCheck integrity = IntegrityCheck::kQuick;  // of a fresh restore
  int parallelism = 8;                                // of a fresh restore
  std::function<void(const FollowProgress&)> on_progress;
};

// The file beside the database that records the applied TXID.
std::string FollowStatePath(const std::string& output);

// Follows one replica into options.output. The database is kept in
// rollback-journal (DELETE) mode; every step of it that readers can see is a
// state the replica committed: the pages of each step are written while the
// follower holds SQLite's EXCLUSIVE lock on the file, then fsync'd, then the
// applied TXID is recorded atomically beside it.
class Follower {
 public:
  Follower(storage::ReplicaClient& replica, FollowOptions options);

  // Brings the database to the replica's newest state (a fresh restore, or a
  // resume from the recorded TXID), reports it, and then polls until Stop().
  // Transient replica errors are logged and retried. Returns
  // kFailedPrecondition naming the TXID when the replica's history no longer
  // continues it (and -force was not given), or the first permanent error.
  Status Run();

  // Makes Run return soon (thread-safe, also before Run starts).
  void Stop();

 private:
  bool Wait(std::chrono::milliseconds d);  // false once stopped
  Status Start();
  Status FreshRestore(const std::vector<storage::FileInfo>& files);
  // One poll: applies whatever continues the applied TXID. *changed says
  // whether the database advanced.
  Status Poll(bool* changed);
  Status Apply(const std::vector<storage::FileInfo>& chain, TxId newest);
  Status WriteState(bool applying, TxId target);

  storage::ReplicaClient& replica_;
  FollowOptions options_;
  TxId applied_ = 0;
  Pgno pages_ = 0;
  uint32_t page_size_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace litekeep::restore
