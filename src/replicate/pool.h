// Replicates many databases in one process on a bounded set of worker
// threads: one inotify descriptor watches the databases' directories, a
// timer heap holds the next sync of each database that has unreplicated
// frames and the next useful compaction step of each replica, and an idle
// database (everything replicated) holds no thread, no timer, no SQLite
// connection and no read transaction until its WAL is written again.
// docs/architecture.md ("Idle databases") explains why this cannot lose a
// transaction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "replicate/runner.h"

namespace litekeep::replicate {

// One database as the pool drives it (the CLI's replication jobs implement
// it). The pool calls at most one method of a job at a time, except
// compactor()'s RunDue, which may run beside a sync.
class PoolJob {
 public:
  virtual ~PoolJob() = default;
  // Gets the replicator ready (restore if asked, Open, compactor). Returns
  // true once it is open; false to be called again after *retry. now: a
  // sync was asked for (the control socket), so try at once even if the
  // job's own retry schedule says later.
  virtual bool Prepare(std::chrono::milliseconds* retry, bool now) = 0;
  // Valid once Prepare returned true.
  virtual Replicator& replicator() = 0;
  virtual const RunnerOptions& runner_options() = 0;
  // Called once when the job is done: the final sync's status (Ok when it
  // stopped before it was ever opened).
  virtual void Finished(Status final_status) = 0;
  // Called after a compaction run that succeeded, on the compaction's
  // thread (e.g. to check the replica after it, `verify-compaction`).
  virtual void Compacted(const CompactionReport&) {}
};

struct PoolOptions {
  // Worker threads; 0: min(8, 2 x cores), at least 2.
  int workers = 0;
  // A database with nothing new for this long is suspended
  // (Replicator::Suspend).
  std::chrono::milliseconds idle_after{std::chrono::seconds(5)};
  // Most databases open (not suspended) at once, from the open-file limit;
  // a database that must open while this many are waits.
  size_t max_open = 1000000;
};

class ReplicationPool {
 public:
  ReplicationPool(PoolOptions options, StopSignal& stop);
  ~ReplicationPool();
  ReplicationPool(const ReplicationPool&) = delete;
  ReplicationPool& operator=(const ReplicationPool&) = delete;

  // Starts driving job (not owned; it must outlive Wait, or Detach). After
  // stop the job is finished at once. Returns the job's id for the calls
  // below.
  size_t Add(PoolJob* job);

  // Runtime control (the control socket, docs/cli.md "Control socket").
  // Detach: the job makes its final sync (the shutdown rules) and is
  // finished; the pool never touches it again once this returns Ok or its
  // final status. Unavailable when that takes longer than timeout (it
  // still finishes; call again to wait more).
  Status Detach(size_t id, std::chrono::milliseconds timeout);
  // What SyncNow did.
  struct SyncOutcome {
    TxId txid = 0;             // TXID the sync wrote; 0: nothing was new
    TxId replicated_txid = 0;  // the replica's position after it
  };
  // Runs a sync of the job now (or right after the one running) and waits
  // for it: everything committed before the call is in the replica when it
  // returns Ok. A job not open yet is tried at once and waited for (within
  // timeout). Errors: the sync's own, FailedPrecondition when the job could
  // not be opened or is detached, Unavailable after timeout.
  Result<SyncOutcome> SyncNow(size_t id, std::chrono::milliseconds timeout);
  // A job's state as the pool sees it.
  struct JobInfo {
    bool open = false;  // prepared (active or idle)
    bool done = false;  // finished (stopped or detached)
    TxId replicated_txid = 0;
    TimePoint last_sync{};  // last successful sync; epoch: none yet
  };
  JobInfo Info(size_t id);
  // Blocks until stop and every job's final sync, then stops the threads.
  void Wait();

  // Databases currently open (not suspended, not waiting); for tests.
  size_t open_count();

 private:
  enum class Phase { kPreparing, kActive, kIdle, kDone };
  enum class Task { kSync, kCompact };
  struct Entry;
  struct Timer {
    std::chrono::steady_clock::time_point at;
    size_t id;
    Task task;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void WatcherLoop();
  // Reads every queued inotify event and marks the databases written.
  void ReadEvents();
  void WorkerLoop();
  void RunSync(size_t id);
  void RunCompaction(size_t id);
  // Final sync with retries (the runner's shutdown rules); finishes the job.
  void FinalSync(Entry& e);
  // Under mu_: sets the entry's next sync (keeps an earlier one).
  void ScheduleLocked(size_t id, Task task,
                      std::chrono::steady_clock::time_point at);
  void WatchLocked(size_t id);
  // Under mu_: whether the entry needs to hear of WAL writes (idle, or
  // wake-on-change); its directory's watch includes IN_MODIFY exactly while
  // one of its entries does (docs/architecture.md, "Listening only when
  // needed").
  void SetWantsEventsLocked(Entry& e, bool want);
  void RefreshWantsEventsLocked(Entry& e);
  void DispatchLocked(size_t id, Task task);
  // A database closed (idle or done): lets the next waiting one open.
  void ClosedOneLocked();
  void MarkAllDirtyLocked();
  void OnWalEventLocked(size_t id);
  void Wake();
  // Returns freed heap to the system after databases went idle.
  void TrimIfDue();

  PoolOptions options_;
  StopSignal& stop_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::deque<size_t> sync_ready_;
  std::deque<size_t> compact_ready_;
  std::deque<size_t> waiting_open_;  // to open once one closes (max_open)
  size_t compacting_ = 0;
  size_t open_ = 0;
  size_t finished_ = 0;
  size_t closed_since_trim_ = 0;
  std::chrono::steady_clock::time_point last_trim_{};
  bool stop_seen_ = false;
  bool shutdown_ = false;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  // inotify watch descriptor -> WAL file name -> entries.
  std::unordered_map<int, std::unordered_map<std::string, std::vector<size_t>>>
      watches_;
  struct DirWatch {
    int wd = -1;
    size_t wanting = 0;   // entries that want write events
    bool modify = false;  // the watch's mask includes IN_MODIFY
  };
  std::unordered_map<std::string, DirWatch> dir_watch_;
  std::thread watcher_;
  std::vector<std::thread> workers_;
};

}  // namespace litekeep::replicate
