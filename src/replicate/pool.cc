// The replication pool: workers, the inotify watcher and the timer heap.
#include "replicate/pool.h"

#include <malloc.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/io.h"
#include "base/log_context.h"
#include "ltx/file_name.h"
#include "replicate/sync_observer.h"

namespace litekeep::replicate {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;
using Ms = std::chrono::milliseconds;

// After reading a batch of inotify events, the watcher lets new ones gather
// in the kernel for this long before it reads again. The kernel merges an
// event identical to the last one queued and wakes no reader for it, so an
// application committing thousands of times a second costs one wake-up per
// window instead of one per WAL write (each wake-up also preempts the
// application on a small machine: docs/architecture.md, "Checkpoints").
// Wake-on-change syncs start at most this much later.
constexpr int kEventCoalesceMs = 5;

struct ReplicationPool::Entry {
  PoolJob* job = nullptr;
  Phase phase = Phase::kPreparing;
  bool syncing = false;         // a sync task is queued or running
  bool compacting = false;      // a compaction task is queued or running
  bool dirty = false;           // the WAL was written since the last sync began
  bool wake_on_change = false;  // sync at the next WAL write
  bool watched = false;         // its directory is watched
  bool wants_events = false;    // counted in its directory's `wanting`
  std::string dir;              // its directory (when watched)
  bool finishing = false;       // the final sync is queued or running
  SteadyTime sync_at = SteadyTime::max();
  SteadyTime compact_at = SteadyTime::max();
  SteadyTime last_change{};
  Ms backoff{0};
  std::unique_ptr<SyncObserver> observer;
  // Runtime control (Detach, SyncNow, Info).
  bool detaching = false;       // Detach asked for the final sync
  Status final_status;          // set when phase becomes kDone
  uint64_t sync_requests = 0;   // SyncNow calls so far
  uint64_t sync_served = 0;     // requests a finished sync has answered
  uint64_t open_attempts = 0;   // preparations begun
  uint64_t failed_opens = 0;    // preparations that did not open it
  bool open_requested = false;  // SyncNow waits: try again without delay
  Result<SyncResult> last_sync = base::InternalError("no sync yet");
  TxId replicated_txid = 0;
  TimePoint last_ok{};
};

namespace {

SteadyTime ToSteady(TimePoint t) {
  if (t == TimePoint::max()) return SteadyTime::max();
  const auto now = Clock::now();
  const auto left = std::chrono::duration_cast<Ms>(t - now);
  return SteadyClock::now() + std::max(left, Ms(0));
}

}  // namespace

ReplicationPool::ReplicationPool(PoolOptions options, StopSignal& stop)
    : options_(options), stop_(stop) {
  if (options_.workers <= 0) {
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    options_.workers = std::clamp(2 * cores, 2, 8);
  }
  if (options_.max_open == 0) options_.max_open = 1;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) {
    spdlog::warn(
        "inotify is unavailable ({}); databases are polled every "
        "sync-interval and never go idle",
        std::strerror(errno));
  }
  watcher_ = std::thread([this] { WatcherLoop(); });
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ReplicationPool::~ReplicationPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  work_cv_.notify_all();
  Wake();
  for (auto& t : workers_) t.join();
  if (watcher_.joinable()) watcher_.join();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ReplicationPool::Wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) {
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
}

size_t ReplicationPool::Add(PoolJob* job) {
  size_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto e = std::make_unique<Entry>();
    e->job = job;
    entries_.push_back(std::move(e));
    id = entries_.size() - 1;
    if (!stop_seen_) {
      DispatchLocked(id, Task::kSync);
      return id;
    }
  }
  job->Finished(Status::Ok());
  std::lock_guard<std::mutex> lock(mu_);
  entries_[id]->phase = Phase::kDone;
  ++finished_;
  done_cv_.notify_all();
  return id;
}

Status ReplicationPool::Detach(size_t id, Ms timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  Entry& e = *entries_[id];
  if (e.phase != Phase::kDone && !e.detaching) {
    e.detaching = true;
    waiting_open_.erase(
        std::remove(waiting_open_.begin(), waiting_open_.end(), id),
        waiting_open_.end());
    if (!e.syncing) {
      e.syncing = true;
      sync_ready_.push_back(id);
      work_cv_.notify_one();
    }
  }
  if (!done_cv_.wait_for(lock, timeout,
                         [&] { return e.phase == Phase::kDone; })) {
    return base::UnavailableError("the final sync did not finish within " +
                                  std::to_string(timeout.count()) +
                                  " ms (it goes on)");
  }
  return e.final_status;
}

Result<ReplicationPool::SyncOutcome> ReplicationPool::SyncNow(size_t id,
                                                              Ms timeout) {
  const SteadyTime deadline = SteadyClock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  Entry& e = *entries_[id];
  if (e.phase == Phase::kDone || e.detaching || stop_seen_) {
    return base::FailedPreconditionError("database is not open (stopped)");
  }
  if (e.phase == Phase::kPreparing) {
    // Just registered or started: try to open it now and wait for that
    // attempt, so that a sync right after a register is answered.
    // Preparations run one at a time: the one after any that is under way
    // now fails as number attempts_before + 1.
    const uint64_t attempts_before = e.open_attempts;
    e.open_requested = true;
    DispatchLocked(id, Task::kSync);
    done_cv_.wait_until(lock, deadline, [&] {
      return e.phase != Phase::kPreparing || e.failed_opens > attempts_before ||
             stop_seen_ || e.detaching;
    });
    if (e.phase == Phase::kDone || e.detaching || stop_seen_) {
      return base::FailedPreconditionError("database is not open (stopped)");
    }
    if (e.phase == Phase::kPreparing) {
      return base::FailedPreconditionError(
          "database is not open yet (it does not exist, or it is held back: "
          "see the log)");
    }
  }
  const uint64_t ticket = ++e.sync_requests;
  DispatchLocked(id, Task::kSync);
  if (!done_cv_.wait_until(lock, deadline, [&] {
        return e.sync_served >= ticket || e.phase == Phase::kDone;
      })) {
    return base::UnavailableError("the sync did not finish within " +
                                  std::to_string(timeout.count()) +
                                  " ms (it goes on)");
  }
  if (e.sync_served < ticket) {
    return base::FailedPreconditionError("database was stopped");
  }
  if (!e.last_sync.ok()) return e.last_sync.status();
  return SyncOutcome{e.last_sync->txid, e.replicated_txid};
}

ReplicationPool::JobInfo ReplicationPool::Info(size_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry& e = *entries_[id];
  JobInfo info;
  info.open = e.phase == Phase::kActive || e.phase == Phase::kIdle;
  info.done = e.phase == Phase::kDone;
  info.replicated_txid = e.replicated_txid;
  info.last_sync = e.last_ok;
  return info;
}

size_t ReplicationPool::open_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void ReplicationPool::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock,
                [this] { return stop_seen_ && finished_ == entries_.size(); });
}

void ReplicationPool::ScheduleLocked(size_t id, Task task, SteadyTime at) {
  Entry& e = *entries_[id];
  SteadyTime& slot = task == Task::kSync ? e.sync_at : e.compact_at;
  if (at >= slot) return;
  slot = at;
  const bool earliest = timers_.empty() || at < timers_.top().at;
  timers_.push(Timer{at, id, task});
  if (earliest) Wake();
}

void ReplicationPool::ClosedOneLocked() {
  --open_;
  if (!waiting_open_.empty() && !stop_seen_) {
    const size_t id = waiting_open_.front();
    waiting_open_.pop_front();
    DispatchLocked(id, Task::kSync);
  }
}

void ReplicationPool::DispatchLocked(size_t id, Task task) {
  Entry& e = *entries_[id];
  if (e.phase == Phase::kDone) return;
  if (task == Task::kSync) {
    e.sync_at = SteadyTime::max();
    if (e.syncing) {
      // Runs again as soon as the current one is done.
      e.dirty = true;
      return;
    }
    e.syncing = true;
    sync_ready_.push_back(id);
  } else {
    e.compact_at = SteadyTime::max();
    if (e.compacting) return;
    e.compacting = true;
    compact_ready_.push_back(id);
  }
  work_cv_.notify_one();
}

namespace {

// Directory events every watch has; IN_MODIFY is added only while one of the
// directory's databases needs to hear of writes. While it is set, every
// write(2) of the application to a file in that directory runs inotify's
// event code in the application's own process (an allocation and a queue
// merge): measured at about 6 % of the application's CPU in a tight commit
// loop (docs/benchmarks.md, "Write overhead").
constexpr uint32_t kDirEvents = IN_CREATE | IN_MOVED_TO;

}  // namespace

void ReplicationPool::WatchLocked(size_t id) {
  Entry& e = *entries_[id];
  if (e.watched || inotify_fd_ < 0) return;
  const std::string& db = e.job->replicator().db_path();
  const std::string dir = base::DirName(db);
  auto it = dir_watch_.find(dir);
  if (it == dir_watch_.end()) {
    const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kDirEvents);
    if (wd < 0) {
      spdlog::warn(
          "{}: cannot watch {} ({}); it is polled every sync-interval and "
          "never goes idle (raise fs.inotify.max_user_watches?)",
          db, dir, std::strerror(errno));
      return;
    }
    it = dir_watch_.emplace(dir, DirWatch{wd, 0, false}).first;
  }
  watches_[it->second.wd][base::BaseName(db) + "-wal"].push_back(id);
  e.dir = dir;
  e.watched = true;
}

void ReplicationPool::SetWantsEventsLocked(Entry& e, bool want) {
  if (!e.watched || e.wants_events == want) return;
  e.wants_events = want;
  DirWatch& d = dir_watch_[e.dir];
  d.wanting = want ? d.wanting + 1 : d.wanting - 1;
  const bool modify = d.wanting > 0;
  if (modify == d.modify) return;
  // Same directory, same watch: inotify_add_watch replaces its mask.
  const int wd = ::inotify_add_watch(inotify_fd_, e.dir.c_str(),
                                     kDirEvents | (modify ? IN_MODIFY : 0));
  if (wd < 0) {
    if (!modify) return;  // events we do not need: harmless
    // Without write events none of this directory's databases may go or
    // stay idle: poll them all from now on.
    spdlog::warn(
        "{}: cannot watch for writes ({}); its databases are polled every "
        "sync-interval and never go idle",
        e.dir, std::strerror(errno));
    auto names = watches_.find(d.wd);
    if (names != watches_.end()) {
      for (auto& [name, ids] : names->second) {
        for (size_t other : ids) {
          Entry& o = *entries_[other];
          o.watched = false;
          OnWalEventLocked(other);
        }
      }
    }
    return;
  }
  d.modify = modify;
  if (wd != d.wd) {
    // The directory was replaced under us: a new watch.
    auto node = watches_.extract(d.wd);
    if (!node.empty()) {
      node.key() = wd;
      watches_.insert(std::move(node));
    }
    d.wd = wd;
  }
}

void ReplicationPool::RefreshWantsEventsLocked(Entry& e) {
  SetWantsEventsLocked(e, e.phase == Phase::kIdle ||
                              (e.phase == Phase::kActive && e.wake_on_change));
}

void ReplicationPool::OnWalEventLocked(size_t id) {
  Entry& e = *entries_[id];
  if (e.phase == Phase::kPreparing || e.phase == Phase::kDone) return;
  e.dirty = true;
  if ((e.phase == Phase::kIdle || e.wake_on_change) && !stop_seen_) {
    ScheduleLocked(id, Task::kSync, SteadyClock::now());
  }
}

void ReplicationPool::MarkAllDirtyLocked() {
  for (size_t id = 0; id < entries_.size(); ++id) OnWalEventLocked(id);
}

void ReplicationPool::ReadEvents() {
  if (inotify_fd_ < 0) return;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
    if (n <= 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        spdlog::debug("inotify queue overflowed: checking every database");
        MarkAllDirtyLocked();
        continue;
      }
      if (ev->len == 0) continue;
      auto dir = watches_.find(ev->wd);
      if (dir == watches_.end()) continue;
      auto file = dir->second.find(ev->name);
      if (file == dir->second.end()) continue;
      for (size_t id : file->second) OnWalEventLocked(id);
    }
  }
}

void ReplicationPool::WatcherLoop() {
  for (;;) {
    int timeout_ms = 200;  // also how soon a stop is noticed
    // Writes made before the stop are in the inotify queue already: read
    // them first, so an idle database written just before the stop gets its
    // final sync.
    if (stop_.stopped()) ReadEvents();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) return;
      if (stop_.stopped() && !stop_seen_) {
        // Stop: every database makes its final sync (an idle one only if
        // its WAL was written since it went idle).
        stop_seen_ = true;
        waiting_open_.clear();
        for (size_t id : compact_ready_) entries_[id]->compacting = false;
        compact_ready_.clear();
        for (size_t id = 0; id < entries_.size(); ++id) {
          Entry& e = *entries_[id];
          if (e.phase == Phase::kDone) continue;
          e.sync_at = SteadyTime::max();
          if (!e.syncing) {
            e.syncing = true;
            sync_ready_.push_back(id);
          }
        }
        work_cv_.notify_all();
        done_cv_.notify_all();
      }
      const auto now = SteadyClock::now();
      while (!timers_.empty() && timers_.top().at <= now) {
        const Timer t = timers_.top();
        timers_.pop();
        Entry& e = *entries_[t.id];
        const SteadyTime want =
            t.task == Task::kSync ? e.sync_at : e.compact_at;
        if (want != t.at || stop_seen_) continue;  // superseded
        DispatchLocked(t.id, t.task);
      }
      if (!timers_.empty()) {
        const auto left = std::chrono::duration_cast<Ms>(timers_.top().at -
                                                         SteadyClock::now());
        timeout_ms = static_cast<int>(
            std::clamp<int64_t>(left.count() + 1, 0, timeout_ms));
      }
    }
    TrimIfDue();
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, 2, timeout_ms);
    if (rc <= 0) continue;
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof(v));
    }
    if (fds[0].revents & POLLIN) {
      ReadEvents();
      // Let further writes merge in the kernel's queue (see
      // kEventCoalesceMs); a stop or a new database still wakes us.
      ::poll(&fds[1], 1, kEventCoalesceMs);
    }
  }
}

void ReplicationPool::TrimIfDue() {
  // Closed connections free their caches, but glibc keeps the freed heap:
  // after many databases went idle, give it back (at most every 10 s).
  const auto now = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_since_trim_ == 0 || now - last_trim_ < std::chrono::seconds(10))
      return;
    closed_since_trim_ = 0;
    last_trim_ = now;
  }
  ::malloc_trim(0);
}

void ReplicationPool::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  const size_t compaction_cap =
      std::max<size_t>(1, static_cast<size_t>(options_.workers) / 2);
  for (;;) {
    work_cv_.wait(lock, [&] {
      return shutdown_ || !sync_ready_.empty() ||
             (!compact_ready_.empty() && compacting_ < compaction_cap);
    });
    if (shutdown_) return;
    if (!sync_ready_.empty()) {
      const size_t id = sync_ready_.front();
      sync_ready_.pop_front();
      lock.unlock();
      RunSync(id);
      lock.lock();
    } else {
      const size_t id = compact_ready_.front();
      compact_ready_.pop_front();
      ++compacting_;
      lock.unlock();
      RunCompaction(id);
      lock.lock();
      --compacting_;
      if (!compact_ready_.empty()) work_cv_.notify_one();
    }
  }
}

void ReplicationPool::RunCompaction(size_t id) {
  Entry* e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = entries_[id].get();
  }
  const RunnerOptions& ro = e->job->runner_options();
  CompactionScheduler& compactor = *ro.compactor;
  TimePoint next = TimePoint::max();
  if (!stop_.stopped()) {
    base::ScopedLogContext log_context(e->job->replicator().db_path(),
                                       ro.replica_name);
    auto report = compactor.RunDue(Clock::now());
    if (!report.ok()) {
      spdlog::warn("{}: compaction: {}", e->job->replicator().db_path(),
                   report.status().message());
    } else {
      e->job->Compacted(*report);
    }
    next = compactor.NextUsefulDue(Clock::now());
  }
  std::lock_guard<std::mutex> lock(mu_);
  e->compacting = false;
  done_cv_.notify_all();
  if (next != TimePoint::max() && !stop_seen_ && !e->detaching) {
    ScheduleLocked(id, Task::kCompact,
                   std::max(ToSteady(next), SteadyClock::now() + Ms(50)));
  }
}

void ReplicationPool::RunSync(size_t id) {
  Entry* e;
  Phase phase;
  bool stopping;
  uint64_t ticket;     // SyncNow requests this sync answers
  bool asked = false;  // a SyncNow waits for this preparation
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = entries_[id].get();
    phase = e->phase;
    stopping = stop_seen_ || e->detaching;
    ticket = e->sync_requests;
    if (phase == Phase::kDone) {
      e->syncing = false;
      return;
    }
    if (!stopping && phase != Phase::kActive && open_ >= options_.max_open) {
      // No file descriptors to spare: wait until another database goes idle.
      e->syncing = false;
      waiting_open_.push_back(id);
      return;
    }
    // At a stop, FinalSync decides by it whether an idle database was
    // written since it went idle: keep it.
    if (!stopping) e->dirty = false;
    if (phase == Phase::kPreparing && !stopping) {
      ++e->open_attempts;
      asked = e->open_requested;
      e->open_requested = false;
    }
  }
  PoolJob& job = *e->job;
  if (stopping) {
    FinalSync(*e);
    return;
  }
  if (phase == Phase::kPreparing) {
    Ms retry{1000};
    const bool ready = job.Prepare(&retry, asked);
    std::lock_guard<std::mutex> lock(mu_);
    e->syncing = false;
    if (!ready) {
      ++e->failed_opens;
      done_cv_.notify_all();
      if (e->open_requested && !stop_seen_ && !e->detaching) {
        DispatchLocked(id, Task::kSync);  // SyncNow waits for a later try
      } else if (!stop_seen_ && !e->detaching) {
        ScheduleLocked(id, Task::kSync, SteadyClock::now() + retry);
      } else {
        e->syncing = true;
        sync_ready_.push_back(id);
        work_cv_.notify_one();
      }
      return;
    }
    e->phase = Phase::kActive;
    done_cv_.notify_all();
    ++open_;
    e->replicated_txid = job.replicator().replicated_txid();
    e->observer = std::make_unique<SyncObserver>(
        job.replicator(), job.runner_options().replica_name,
        job.runner_options().metrics);
    e->observer->OnStart();
    e->last_change = SteadyClock::now();
    WatchLocked(id);
    e->syncing = true;
    sync_ready_.push_front(id);  // its first sync before other preparations
    work_cv_.notify_one();
    return;
  }
  Replicator& r = job.replicator();
  const RunnerOptions& ro = job.runner_options();
  base::ScopedLogContext log_context(r.db_path(), ro.replica_name);
  const TimePoint started = Clock::now();
  Result<SyncResult> synced = base::InternalError("not run");
  if (phase == Phase::kIdle) {
    Status resumed = r.Resume();
    if (!resumed.ok()) {
      synced = resumed;
    } else {
      e->observer->OnIdle(false);
      std::lock_guard<std::mutex> lock(mu_);
      e->phase = phase = Phase::kActive;
      ++open_;
    }
  }
  if (phase == Phase::kActive) synced = r.Sync();
  e->observer->OnSync(synced, started);
  bool shipped = false;
  if (synced.ok()) {
    shipped = synced->txid != 0;
    if (shipped) {
      spdlog::debug("{}: wrote TXID {} ({} pages, {} bytes{})", r.db_path(),
                    ltx::FormatTxId(synced->txid), synced->pages, synced->bytes,
                    synced->snapshot ? ", snapshot" : "");
    }
    Status cp = r.MaybeCheckpoint();
    if (!cp.ok()) {
      if (cp.retryable()) {
        spdlog::debug("{}: checkpoint postponed: {}", r.db_path(),
                      cp.message());
      } else {
        spdlog::warn("{}: checkpoint: {}", r.db_path(), cp.message());
      }
    }
    e->backoff = Ms(0);
  } else {
    e->backoff = std::min<Ms>(std::max(e->backoff * 2, ro.sync_interval),
                              std::chrono::seconds(30));
    spdlog::error("{}: sync failed (retrying in {} ms): {}", r.db_path(),
                  e->backoff.count(), synced.status().message());
  }
  const auto now = SteadyClock::now();
  bool dirty;
  size_t open_now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty = e->dirty;
    if (shipped || dirty) e->last_change = now;
    open_now = open_;
  }
  // Idle: nothing new for idle_after (sooner when descriptors run short).
  bool suspended = false;
  const Ms idle_after =
      open_now * 10 >= options_.max_open * 9 ? Ms(0) : options_.idle_after;
  if (synced.ok() && !shipped && !dirty && e->watched &&
      now - e->last_change >= idle_after) {
    {
      // Hear of every write from before Suspend's checks on: a write before
      // them fails the checks, a write after them wakes the idle database.
      std::lock_guard<std::mutex> lock(mu_);
      SetWantsEventsLocked(*e, true);
    }
    auto s = r.Suspend();
    suspended = s.ok() && *s;
    if (!s.ok()) {
      spdlog::debug("{}: cannot go idle: {}", r.db_path(),
                    s.status().message());
    }
  }
  if (synced.ok() && !suspended &&
      (ro.sync_interval.count() == 0 ? !shipped : r.wants_fast_follow())) {
    // It waits for the next write (below): listen first, then look for a
    // write made between this sync's look at the WAL and now, which made no
    // event; the WAL index shows it.
    {
      std::lock_guard<std::mutex> lock(mu_);
      e->wake_on_change = true;
      RefreshWantsEventsLocked(*e);
    }
    if (r.MaybeHasNewFrames()) {
      std::lock_guard<std::mutex> lock(mu_);
      e->dirty = true;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    e->syncing = false;
    e->last_sync = synced;
    if (synced.ok()) {
      e->replicated_txid = r.replicated_txid();
      e->last_ok = Clock::now();
    }
    e->sync_served = std::max(e->sync_served, ticket);
    done_cv_.notify_all();
    if (stop_seen_ || e->detaching) {
      e->syncing = true;
      sync_ready_.push_back(id);
      work_cv_.notify_one();
      return;
    }
    if (suspended) {
      e->observer->OnIdle(true);
      e->phase = Phase::kIdle;
      ++closed_since_trim_;
      ClosedOneLocked();
      e->wake_on_change = true;
      if (e->dirty) ScheduleLocked(id, Task::kSync, now);
    } else if (!synced.ok()) {
      e->wake_on_change = false;
      ScheduleLocked(id, Task::kSync, now + e->backoff);
    } else if (ro.sync_interval.count() == 0 && shipped) {
      // Wake-on-change while the application writes: poll the WAL every
      // few milliseconds instead of hearing of each write, which would cost
      // the application (kDirEvents); listen again once a sync finds
      // nothing new.
      e->wake_on_change = false;
      ScheduleLocked(id, Task::kSync, now + Ms(kEventCoalesceMs));
    } else if (ro.sync_interval.count() == 0) {
      e->wake_on_change = true;
      ScheduleLocked(id, Task::kSync,
                     e->dirty ? now : now + ro.monitor_interval);
    } else {
      // The read transaction may block the application's checkpoints: sync
      // at the next WAL write rather than a whole sync-interval later.
      e->wake_on_change = r.wants_fast_follow();
      ScheduleLocked(
          id, Task::kSync,
          e->wake_on_change && e->dirty ? now : now + ro.sync_interval);
    }
    // A SyncNow that came while this sync ran gets one of its own.
    if (e->sync_requests > e->sync_served) ScheduleLocked(id, Task::kSync, now);
    if (synced.ok() && ro.compactor != nullptr &&
        (shipped || e->compact_at == SteadyTime::max()) && !e->compacting) {
      // New files make compaction steps useful; NextUsefulDue decides when.
      ScheduleLocked(id, Task::kCompact, now);
    }
    RefreshWantsEventsLocked(*e);
  }
}

void ReplicationPool::FinalSync(Entry& e) {
  PoolJob& job = *e.job;
  Phase phase;
  bool dirty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    phase = e.phase;
    dirty = e.dirty;
  }
  Status final_status = Status::Ok();
  if (phase == Phase::kActive ||
      (phase == Phase::kIdle && (dirty || !e.watched))) {
    Replicator& r = job.replicator();
    const RunnerOptions& ro = job.runner_options();
    base::ScopedLogContext log_context(r.db_path(), ro.replica_name);
    const auto deadline = SteadyClock::now() + ro.shutdown_sync_timeout;
    Result<SyncResult> final_sync = base::InternalError("final sync not run");
    for (int attempt = 1;; ++attempt) {
      const TimePoint started = Clock::now();
      Status resumed = r.Resume();
      final_sync = resumed.ok() ? r.Sync() : Result<SyncResult>(resumed);
      e.observer->OnSync(final_sync, started);
      if (final_sync.ok() || stop_.forced() ||
          SteadyClock::now() + ro.shutdown_sync_interval > deadline) {
        break;
      }
      spdlog::warn("{}: final sync attempt {} failed (retrying in {} ms): {}",
                   r.db_path(), attempt, ro.shutdown_sync_interval.count(),
                   final_sync.status().message());
      if (stop_.WaitForForce(ro.shutdown_sync_interval)) {
        spdlog::warn("{}: second signal: final sync retries stopped",
                     r.db_path());
        break;
      }
    }
    e.observer->OnStop();
    if (!final_sync.ok()) {
      spdlog::error("{}: final sync failed: {}", r.db_path(),
                    final_sync.status().message());
      final_status = final_sync.status();
    } else {
      spdlog::info("{}: stopped at TXID {}", r.db_path(),
                   ltx::FormatTxId(r.replicated_txid()));
    }
    std::lock_guard<std::mutex> lock(mu_);
    e.replicated_txid = r.replicated_txid();
    if (final_sync.ok()) e.last_ok = Clock::now();
  } else if (phase == Phase::kIdle) {
    e.observer->OnStop();
    spdlog::info("{}: stopped at TXID {}", job.replicator().db_path(),
                 ltx::FormatTxId(job.replicator().replicated_txid()));
  }
  {
    // Compaction of this database may still run: wait for it.
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return !e.compacting; });
  }
  bool detached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    detached = e.detaching;
  }
  // A detached job may be destroyed once Detach returns: its metrics go
  // with it.
  if (detached) e.observer.reset();
  job.Finished(final_status);
  std::lock_guard<std::mutex> lock(mu_);
  if (e.phase == Phase::kActive) ClosedOneLocked();
  e.final_status = final_status;
  e.phase = Phase::kDone;
  SetWantsEventsLocked(e, false);
  e.syncing = false;
  ++finished_;
  done_cv_.notify_all();
}

}  // namespace litekeep::replicate
