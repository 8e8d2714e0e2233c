// Replication loop with backoff and a final sync.
#include "replicate/runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ltx/file_name.h"

namespace litekeep::replicate {

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
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

// Compaction is best effort: a failure is logged and retried later, and
// never stops replication.
void RunCompaction(const Replicator& r, const RunnerOptions& options) {
  if (options.compactor == nullptr || options.once) return;
  auto report = options.compactor->RunDue(Clock::now());
  if (!report.ok()) {
    spdlog::warn("{}: compaction: {}", r.db_path(), report.status().message());
  }
}

}  // namespace

Status RunReplicator(Replicator& replicator, const RunnerOptions& options,
                     StopSignal& stop) {
  std::chrono::milliseconds backoff{0};
  Status last;
  for (;;) {
    auto synced = replicator.Sync();
    if (synced.ok()) {
      LogSync(replicator, *synced);
      Status cp = replicator.MaybeCheckpoint();
      if (!cp.ok() && !cp.retryable()) {
        spdlog::warn("{}: checkpoint: {}", replicator.db_path(), cp.message());
      }
      backoff = std::chrono::milliseconds(0);
      last = Status::Ok();
      RunCompaction(replicator, options);
    } else {
      last = synced.status();
      backoff = std::min<std::chrono::milliseconds>(
          std::max(backoff * 2, options.sync_interval), std::chrono::seconds(30));
      spdlog::error("{}: sync failed (retrying in {} ms): {}",
                    replicator.db_path(), backoff.count(),
                    synced.status().message());
    }
    if (options.once) return last;
    if (stop.WaitFor(std::max(options.sync_interval, backoff))) break;
  }
  // Final sync: ship whatever was committed before the stop.
  auto final_sync = replicator.Sync();
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
