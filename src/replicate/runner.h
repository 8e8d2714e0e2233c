// Drives one Replicator in a thread of its own: sync every sync interval
// (and at start), run the checkpoint policy, retry with backoff after errors,
// and do a final sync on stop; compaction runs beside it in a second thread.
// `replicate -once` uses it; otherwise replicate::ReplicationPool (pool.h)
// drives every database on shared threads with the same rules. Also the
// StopSignal and RunnerOptions both use.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "metrics/registry.h"
#include "replicate/compaction_scheduler.h"
#include "replicate/replicator.h"

namespace litekeep::replicate {

// A stop flag that sleeping loops can wait on. Force() (a second signal)
// also stops the retries of the final sync.
class StopSignal {
 public:
  void Stop();
  void Force();
  bool stopped() const { return stopped_.load(); }
  bool forced() const { return forced_.load(); }
  // Sleeps up to d; returns true if stopped.
  bool WaitFor(std::chrono::milliseconds d);
  // Sleeps up to d; returns true if forced.
  bool WaitForForce(std::chrono::milliseconds d);

 private:
  std::atomic<bool> stopped_{false};
  std::atomic<bool> forced_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

struct RunnerOptions {
  // Time between syncs. 0 means wake-on-change: sync as soon as the WAL is
  // written (inotify), and at least every monitor_interval.
  std::chrono::milliseconds sync_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds monitor_interval{std::chrono::seconds(1)};
  bool once = false;  // one sync, then return
  // Metrics registry (optional, docs/metrics.md) and the replica's
  // printable name for labels. status.json is written either way.
  metrics::Registry* metrics = nullptr;
  std::string replica_name;
  // Compaction and retention when set (not owned): run in a thread of
  // their own, started after the first successful sync, so a long merge
  // or snapshot never delays a sync.
  CompactionScheduler* compactor = nullptr;
  // A failed final sync is retried every shutdown_sync_interval until
  // shutdown_sync_timeout has passed or the stop is forced (docs/config.md,
  // `shutdown-sync-timeout`). 0: one attempt.
  std::chrono::milliseconds shutdown_sync_timeout{0};
  std::chrono::milliseconds shutdown_sync_interval{500};
};

// Runs until stop; returns the status of the final sync.
Status RunReplicator(Replicator& replicator, const RunnerOptions& options,
                     StopSignal& stop);

}  // namespace litekeep::replicate
