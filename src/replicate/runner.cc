// Replication loop with backoff and a final sync.
#include "replicate/runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "base/log_context.h"
#include "ltx/file_name.h"
#include "replicate/sync_observer.h"
#include "replicate/wal_watcher.h"

namespace litekeep::replicate {

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

void StopSignal::Force() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    forced_ = true;
  }
  cv_.notify_all();
}

bool StopSignal::WaitForForce(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return forced_.load(); });
  return forced_.load();
}

bool StopSignal::WaitFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopped_.load(); });
  return stopped_.load();
}

namespace {

void LogSync(const Replicator& r, const SyncResult& s) {
  if (s.txid == 0) return;
  spdlog::debug("{}: wrote TXID {} ({} pages, {} bytes{})", r.db_path(),
                ltx::FormatTxId(s.txid), s.pages, s.bytes,
                s.snapshot ? ", snapshot" : "");
}

// Runs compaction steps as they fall due until stop. Compaction is best
// effort: a failure is logged and retried later, and never stops
// replication. It works only through the replica client (thread-safe), never
// the Replicator, so it runs beside the syncs.
void CompactionLoop(const std::string& db_path, const std::string& replica_name,
                    CompactionScheduler& compactor, StopSignal& stop) {
  base::ScopedLogContext log_context(db_path, replica_name);
  while (!stop.stopped()) {
    auto report = compactor.RunDue(Clock::now());
    if (!report.ok()) {
      spdlog::warn("{}: compaction: {}", db_path, report.status().message());
    }
    const TimePoint now = Clock::now();
    const TimePoint next = compactor.NextDue(now);
    auto wait =
        next == TimePoint::max()
            ? std::chrono::milliseconds(std::chrono::minutes(1))
            : std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
    wait = std::clamp<std::chrono::milliseconds>(
        wait, std::chrono::milliseconds(50), std::chrono::minutes(1));
    stop.WaitFor(wait);
  }
}

}  // namespace

Status RunReplicator(Replicator& replicator, const RunnerOptions& options,
                     StopSignal& stop) {
  std::chrono::milliseconds backoff{0};
  Status last;
  std::unique_ptr<WalWatcher> watcher;
  base::ScopedLogContext log_context(replicator.db_path(),
                                     options.replica_name);
  SyncObserver observer(replicator, options.replica_name, options.metrics);
  observer.OnStart();
  std::thread compaction;
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{compaction};
  for (;;) {
    TimePoint started = Clock::now();
    auto synced = replicator.Sync();
    observer.OnSync(synced, started);
    if (synced.ok()) {
      LogSync(replicator, *synced);
      Status cp = replicator.MaybeCheckpoint();
      if (!cp.ok()) {
        if (cp.retryable()) {
          spdlog::debug("{}: checkpoint postponed: {}", replicator.db_path(),
                        cp.message());
        } else {
          spdlog::warn("{}: checkpoint: {}", replicator.db_path(),
                       cp.message());
        }
      }
      backoff = std::chrono::milliseconds(0);
      last = Status::Ok();
      if (options.compactor != nullptr && !options.once &&
          !compaction.joinable()) {
        compaction = std::thread(CompactionLoop, replicator.db_path(),
                                 options.replica_name,
                                 std::ref(*options.compactor), std::ref(stop));
      }
    } else {
      last = synced.status();
      backoff = std::min<std::chrono::milliseconds>(
          std::max(backoff * 2, options.sync_interval),
          std::chrono::seconds(30));
      spdlog::error("{}: sync failed (retrying in {} ms): {}",
                    replicator.db_path(), backoff.count(),
                    synced.status().message());
    }
    if (options.once) return last;
    if (options.sync_interval.count() == 0 && backoff.count() == 0) {
      if (!watcher)
        watcher = std::make_unique<WalWatcher>(replicator.db_path());
      // Wake on a WAL write, or after monitor_interval; check stop often.
      auto until = std::chrono::steady_clock::now() + options.monitor_interval;
      while (!stop.stopped() && std::chrono::steady_clock::now() < until &&
             !watcher->Wait(std::chrono::milliseconds(100))) {
      }
      if (stop.stopped()) break;
    } else if (replicator.wants_fast_follow() && backoff.count() == 0) {
      // The read transaction may block the application's checkpoints: sync
      // at the next WAL write rather than a whole sync-interval later.
      if (!watcher) {
        watcher = std::make_unique<WalWatcher>(replicator.db_path());
      }
      auto until = std::chrono::steady_clock::now() + options.sync_interval;
      while (!stop.stopped() && std::chrono::steady_clock::now() < until &&
             !watcher->Wait(std::min<std::chrono::milliseconds>(
                 std::chrono::milliseconds(100),
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     until - std::chrono::steady_clock::now())))) {
      }
      if (stop.stopped()) break;
    } else if (stop.WaitFor(std::max(options.sync_interval, backoff))) {
      break;
    }
  }
  // Final sync: ship whatever was committed before the stop, retrying
  // until shutdown_sync_timeout unless a second signal forces the stop.
  const auto deadline =
      std::chrono::steady_clock::now() + options.shutdown_sync_timeout;
  Result<SyncResult> final_sync = base::InternalError("final sync not run");
  for (int attempt = 1;; ++attempt) {
    TimePoint final_started = Clock::now();
    final_sync = replicator.Sync();
    observer.OnSync(final_sync, final_started);
    if (final_sync.ok() || options.once || stop.forced() ||
        std::chrono::steady_clock::now() + options.shutdown_sync_interval >
            deadline) {
      break;
    }
    spdlog::warn("{}: final sync attempt {} failed (retrying in {} ms): {}",
                 replicator.db_path(), attempt,
                 options.shutdown_sync_interval.count(),
                 final_sync.status().message());
    if (stop.WaitForForce(options.shutdown_sync_interval)) {
      spdlog::warn("{}: second signal: final sync retries stopped",
                   replicator.db_path());
      break;
    }
  }
  observer.OnStop();
  if (!final_sync.ok()) {
    spdlog::error("{}: final sync failed: {}", replicator.db_path(),
                  final_sync.status().message());
    return final_sync.status();
  }
  LogSync(replicator, *final_sync);
  spdlog::info("{}: stopped at TXID {}", replicator.db_path(),
               ltx::FormatTxId(replicator.replicated_txid()));
  return Status::Ok();
}

}  // namespace litekeep::replicate
