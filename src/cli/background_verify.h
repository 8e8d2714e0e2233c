// Background verification during `replicate` (`validation-interval`, alias
// `verify-interval`): every interval, one thread per database runs the
// `-checksums` depth of restore::Verify against its replica and publishes
// the result as litekeep_verify_* metrics (docs/metrics.md). It runs beside
// the replication thread, so a compaction may delete a listed file while it
// is read; a failed pass is therefore re-run once, re-listing, before it is
// reported.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ltx/timings.h"
#include "metrics/registry.h"
#include "replicate/runner.h"
#include "restore/verify.h"
#include "storage/replica_client.h"

namespace litekeep::cli {

// Declares the litekeep_verify_* families (idempotent).
void DescribeVerifyMetrics(metrics::Registry& registry);

struct BackgroundVerifyOptions {
  std::string db;       // database path (the `db` label)
  std::string replica;  // printable replica name (the `replica` label)
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  // Listing policy inputs (now is filled at each pass); nullopt retention
  // skips the snapshot-age check.
  std::optional<std::chrono::milliseconds> retention;
  std::chrono::milliseconds snapshot_interval{ltx::kDefaultSnapshotInterval};
  metrics::Registry* metrics = nullptr;  // optional
};

// The outcome of one pass (after the retry), for tests and logs.
struct VerifyPassResult {
  bool ok = false;
  std::string error;  // why it failed: the first problems, naming objects
};

// Runs one pass now: Verify at -checksums depth, retried once on failure.
// Updates the metrics and logs a warning naming the objects on failure.
VerifyPassResult RunVerifyPass(storage::ReplicaClient& replica,
                               const BackgroundVerifyOptions& options);

class BackgroundVerifier {
 public:
  BackgroundVerifier(std::shared_ptr<storage::ReplicaClient> replica,
                     BackgroundVerifyOptions options);
  ~BackgroundVerifier();  // stops and joins
  BackgroundVerifier(const BackgroundVerifier&) = delete;
  BackgroundVerifier& operator=(const BackgroundVerifier&) = delete;

  void Start();
  // Asks the thread to stop and waits for it (a pass under way finishes
  // first).
  void Stop();

 private:
  void Loop();

  std::shared_ptr<storage::ReplicaClient> replica_;
  BackgroundVerifyOptions options_;
  replicate::StopSignal stop_;
  std::thread thread_;
};

}  // namespace litekeep::cli
