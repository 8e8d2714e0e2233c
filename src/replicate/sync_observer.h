// Records what each sync of one database did: metrics (when a registry is
// given) and the run record <meta>/status.json that `litekeep status` reads
// (written on state changes only). docs/metrics.md lists the metrics.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/types.h"
#include "metrics/registry.h"
#include "replicate/local_status.h"
#include "replicate/replicator.h"

namespace litekeep::replicate {

// Declares every per-database metric family (idempotent).
void DescribeReplicationMetrics(metrics::Registry& registry);

class SyncObserver {
 public:
  // registry may be null (no metrics). replicator must outlive this.
  SyncObserver(Replicator& replicator, std::string replica_name,
               metrics::Registry* registry);
  ~SyncObserver();
  SyncObserver(const SyncObserver&) = delete;
  SyncObserver& operator=(const SyncObserver&) = delete;

  void OnStart();
  // started: when the sync began (everything committed before it is in the
  // replica once it succeeds).
  void OnSync(const Result<SyncResult>& result, TimePoint started);
  void OnStop();
  // The database went idle (everything committed is in the replica and the
  // replicator is suspended until the next write) or woke up.
  void OnIdle(bool idle);

 private:
  void Collect(metrics::Registry& r);
  void SaveRecord();

  Replicator& replicator_;
  std::string db_;
  std::string replica_;
  metrics::Registry* registry_;
  int collector_id_ = 0;
  metrics::Labels db_labels_;
  metrics::Labels labels_;  // db + replica

  std::mutex mu_;  // guards the fields below (read by the collector)
  std::optional<Position> position_;
  TimePoint last_ok_{};
  TimePoint started_{};
  RunRecord record_;
};

}  // namespace litekeep::replicate
