// Per-sync metrics and the status.json run record.
#include "replicate/sync_observer.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "sqlite/wal.h"

namespace litekeep::replicate {
namespace {

double Seconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// WAL bytes a sync consumed between two positions (Litestream's
// litestream_total_wal_bytes): the offset moved within one WAL generation,
// or the new generation's frames from its header on.
double WalBytesShipped(const std::optional<Position>& before,
                       const std::optional<Position>& after) {
  if (!after || after->offset == 0) return 0;
  const int64_t start = before && before->offset != 0 &&
                                before->salt1 == after->salt1 &&
                                before->salt2 == after->salt2
                            ? before->offset
                            : static_cast<int64_t>(sqlite::kWalHeaderSize);
  return after->offset > start ? static_cast<double>(after->offset - start) : 0;
}

// Litestream 0.5's per-database series (docs/metrics.md, "Litestream's
// series"); `litestream-metrics: false` drops them.
void DescribeLitestreamDbMetrics(metrics::Registry& r) {
  using metrics::Type;
  r.Describe("litestream_db_size", Type::kGauge,
             "The current size of the real DB");
  r.Describe("litestream_wal_size", Type::kGauge,
             "The current size of the real WAL");
  r.Describe("litestream_total_wal_bytes", Type::kCounter,
             "Total number of WAL bytes shipped (litekeep: read from the WAL "
             "into LTX files)");
  r.Describe("litestream_txid", Type::kGauge,
             "The current transaction ID (litekeep: the newest TXID in the "
             "replica)");
  r.Describe("litestream_sync_count", Type::kCounter,
             "Number of sync operations performed");
  r.Describe("litestream_sync_error_count", Type::kCounter,
             "Number of sync errors that have occurred");
  r.Describe("litestream_sync_seconds", Type::kCounter,
             "Time spent syncing, in seconds");
  r.Describe("litestream_disk_full", Type::kGauge,
             "Whether replication is paused because the local disk is full");
  r.Describe("litekeep_auto_recover_total", Type::kCounter,
             "Times damaged local state was dropped at start (auto-recover; "
             "the next sync wrote a snapshot).");
  r.Describe("litestream_checkpoint_count", Type::kCounter,
             "Number of checkpoint operations performed");
  r.Describe("litestream_checkpoint_error_count", Type::kCounter,
             "Number of checkpoint errors that have occurred");
  r.Describe("litestream_checkpoint_seconds", Type::kCounter,
             "Time spent checkpointing WAL, in seconds");
}

}  // namespace

void DescribeReplicationMetrics(metrics::Registry& r) {
  using metrics::Type;
  r.Describe("litekeep_replica_lag_seconds", Type::kGauge,
             "Seconds since the replica last held every committed transaction "
             "(0 when it holds them all).");
  r.Describe("litekeep_replication_blocked", Type::kGauge,
             "1 while a database is not replicated, by reason "
             "(restore_failed, lineage, locked, db_replaced, db_deleted, "
             "lease); /healthz fails while any is 1.");
  r.Describe("litekeep_replica_idle", Type::kGauge,
             "1 while the database is idle: every committed transaction is in "
             "the replica and the replicator holds nothing open until the "
             "next write (/healthz counts it as synced).");
  r.Describe("litekeep_replica_lag_txids", Type::kGauge,
             "Local TXID minus replicated TXID.");
  r.Describe("litekeep_local_txid", Type::kGauge,
             "TXID of the database's committed state (replicated + 1 while "
             "commits wait for the next sync).");
  r.Describe("litekeep_replicated_txid", Type::kGauge,
             "Newest TXID durably in the replica.");
  r.Describe(
      "litekeep_last_sync_timestamp_seconds", Type::kGauge,
      "Start time of the last successful sync (Unix seconds; 0: none yet).");
  r.Describe("litekeep_last_sync_duration_seconds", Type::kGauge,
             "Duration of the last sync attempt.");
  r.Describe("litekeep_wal_size_bytes", Type::kGauge, "Size of the -wal file.");
  r.Describe("litekeep_uploaded_bytes_total", Type::kCounter,
             "LTX bytes uploaded to the replica.");
  r.Describe("litekeep_uploaded_files_total", Type::kCounter,
             "LTX files uploaded to the replica.");
  r.Describe("litekeep_syncs_total", Type::kCounter, "Successful syncs.");
  r.Describe(
      "litekeep_sync_errors_total", Type::kCounter,
      "Failed syncs by error kind (unavailable, io_error, corrupt, ...).");
  r.Describe("litekeep_snapshots_total", Type::kCounter,
             "Snapshots (full images) written.");
  r.Describe("litekeep_last_snapshot_timestamp_seconds", Type::kGauge,
             "When this process last wrote a snapshot (Unix seconds).");
  r.Describe("litekeep_checkpoints_total", Type::kCounter,
             "Checkpoints run by litekeep, by mode (passive, truncate).");
  r.Describe("litekeep_checkpoint_restarts_put_off_total", Type::kCounter,
             "Checkpoints that released the write lock before a slow disk "
             "finished flushing, leaving the WAL's restart to a later one.");
  r.Describe("litekeep_replica_requests_total", Type::kCounter,
             "Requests to the replica's storage by kind (list, get, put, "
             "delete, head).");
  r.Describe("litekeep_storage_requests_total", Type::kCounter,
             "Requests to the replica's storage by kind (list, get, put, "
             "delete, head) and outcome (ok, error).");
  DescribeLitestreamDbMetrics(r);
}

SyncObserver::SyncObserver(Replicator& replicator, std::string replica_name,
                           metrics::Registry* registry)
    : replicator_(replicator),
      db_(replicator.db_path()),
      replica_(std::move(replica_name)),
      registry_(registry) {
  db_labels_ = {{"db", db_}};
  labels_ = {{"db", db_}, {"replica", replica_}};
  position_ = replicator_.position();
  if (registry_ != nullptr) {
    DescribeReplicationMetrics(*registry_);
    registry_->Set("litekeep_last_sync_timestamp_seconds", labels_, 0);
    registry_->Set("litekeep_replica_idle", labels_, 0);
    for (const char* n :
         {"litekeep_uploaded_bytes_total", "litekeep_uploaded_files_total",
          "litekeep_syncs_total", "litekeep_snapshots_total"}) {
      registry_->Add(n, labels_, 0);
    }
    for (const char* n :
         {"litestream_total_wal_bytes", "litestream_sync_count",
          "litestream_sync_error_count", "litestream_sync_seconds"}) {
      registry_->Add(n, db_labels_, 0);
    }
    collector_id_ =
        registry_->AddCollector([this](metrics::Registry& r) { Collect(r); });
  }
}

SyncObserver::~SyncObserver() {
  if (registry_ != nullptr) registry_->RemoveCollector(collector_id_);
}

void SyncObserver::OnStart() {
  std::lock_guard<std::mutex> lock(mu_);
  started_ = Clock::now();
  record_ = RunRecord{};
  record_.pid = ::getpid();
  record_.started = started_;
  SaveRecord();
}

void SyncObserver::OnSync(const Result<SyncResult>& result, TimePoint started) {
  const double took =
      std::chrono::duration<double>(Clock::now() - started).count();
  std::lock_guard<std::mutex> lock(mu_);
  if (registry_ != nullptr) {
    registry_->Set("litekeep_last_sync_duration_seconds", labels_, took);
    registry_->Add("litestream_sync_seconds", db_labels_, took);
    registry_->Add(
        result.ok() ? "litestream_sync_count" : "litestream_sync_error_count",
        db_labels_, 1);
    // Litestream's disk-full gauge: 1 while syncs fail for want of space
    // (the local state directory's disk, or a file replica's).
    const bool full =
        !result.ok() && result.status().message().find(std::strerror(ENOSPC)) !=
                            std::string::npos;
    registry_->Set("litestream_disk_full", db_labels_, full ? 1 : 0);
    // The database replaced or deleted under the replicator (lineage guard),
    // or the replica lease lost or expired.
    const std::string blocked = replicator_.blocked();
    for (const char* reason : {"db_replaced", "db_deleted", "lease"}) {
      metrics::Labels l = labels_;
      l.emplace_back("reason", reason);
      registry_->Set("litekeep_replication_blocked", l,
                     blocked == reason ? 1 : 0);
    }
  }
  if (!result.ok()) {
    if (registry_ != nullptr) {
      metrics::Labels l = labels_;
      std::string kind;
      for (char c : base::CodeName(result.status().code())) {
        if (c != '/') kind += c == ' ' ? '_' : c;
      }
      l.emplace_back("kind", kind);
      registry_->Add("litekeep_sync_errors_total", l, 1);
    }
    if (record_.last_error != result.status().message()) {
      record_.last_error = result.status().message();
      record_.last_error_at = Clock::now();
      SaveRecord();
    }
    return;
  }
  last_ok_ = started;
  const std::optional<Position> before = position_;
  position_ = replicator_.position();
  if (registry_ != nullptr) {
    registry_->Add("litestream_total_wal_bytes", db_labels_,
                   WalBytesShipped(before, position_));
    registry_->Add("litekeep_syncs_total", labels_, 1);
    registry_->Set("litekeep_last_sync_timestamp_seconds", labels_,
                   Seconds(started));
    if (result->txid != 0) {
      registry_->Add("litekeep_uploaded_bytes_total", labels_,
                     static_cast<double>(result->bytes));
      registry_->Add("litekeep_uploaded_files_total", labels_, 1);
    }
    if (result->snapshot) {
      registry_->Add("litekeep_snapshots_total", labels_, 1);
      registry_->Set("litekeep_last_snapshot_timestamp_seconds", labels_,
                     Seconds(Clock::now()));
    }
  }
  if (!record_.last_error.empty() || record_.last_ok == TimePoint{}) {
    record_.last_error.clear();
    record_.last_ok = started;
    SaveRecord();
  }
}

void SyncObserver::OnIdle(bool idle) {
  if (registry_ != nullptr) {
    registry_->Set("litekeep_replica_idle", labels_, idle ? 1 : 0);
  }
}

void SyncObserver::OnStop() {
  std::lock_guard<std::mutex> lock(mu_);
  record_.stopped = Clock::now();
  if (last_ok_ != TimePoint{}) record_.last_ok = last_ok_;
  SaveRecord();
}

void SyncObserver::SaveRecord() {
  Status s = SaveRunRecord(replicator_.meta_dir(), record_);
  if (!s.ok()) {
    spdlog::debug("{}: cannot write status.json: {}", db_, s.message());
  }
}

void SyncObserver::Collect(metrics::Registry& r) {
  std::optional<Position> pos;
  TimePoint last_ok, started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pos = position_;
    last_ok = last_ok_;
    started = started_;
  }
  const LocalStatus local = ComputeLocalStatus(db_, pos);
  double lag = 0;
  if (local.pending) {
    const TimePoint since = last_ok != TimePoint{} ? last_ok : started;
    lag = std::max(0.0,
                   std::chrono::duration<double>(Clock::now() - since).count());
  }
  r.Set("litekeep_replica_lag_seconds", labels_, lag);
  r.Set("litekeep_replica_lag_txids", labels_,
        static_cast<double>(local.local_txid - local.replicated_txid));
  r.Set("litekeep_local_txid", db_labels_,
        static_cast<double>(local.local_txid));
  r.Set("litekeep_replicated_txid", labels_,
        static_cast<double>(local.replicated_txid));
  r.Set("litekeep_wal_size_bytes", db_labels_,
        static_cast<double>(local.wal_size));
  r.Set("litestream_wal_size", db_labels_, static_cast<double>(local.wal_size));
  r.Set("litestream_txid", db_labels_,
        static_cast<double>(local.replicated_txid));
  std::error_code ec;
  const auto db_size = std::filesystem::file_size(db_, ec);
  if (!ec)
    r.Set("litestream_db_size", db_labels_, static_cast<double>(db_size));
  r.Set("litekeep_auto_recover_total", db_labels_,
        static_cast<double>(replicator_.auto_recoveries()));
  const auto cp = replicator_.checkpoint_counts();
  for (auto [mode, n, errors, seconds] :
       {std::tuple{"passive", cp.passive, cp.passive_errors,
                   cp.passive_seconds},
        std::tuple{"truncate", cp.truncate, cp.truncate_errors,
                   cp.truncate_seconds}}) {
    metrics::Labels l = db_labels_;
    l.emplace_back("mode", mode);
    r.Set("litekeep_checkpoints_total", l, static_cast<double>(n));
    // Litestream names the mode as the PRAGMA takes it.
    metrics::Labels ls = db_labels_;
    ls.emplace_back("mode",
                    std::string(mode) == "passive" ? "PASSIVE" : "TRUNCATE");
    r.Set("litestream_checkpoint_count", ls, static_cast<double>(n));
    r.Set("litestream_checkpoint_error_count", ls, static_cast<double>(errors));
    r.Set("litestream_checkpoint_seconds", ls, seconds);
  }
  r.Set("litekeep_checkpoint_restarts_put_off_total", db_labels_,
        static_cast<double>(replicator_.restarts_put_off()));
  const auto rc = replicator_.replica().request_counts();
  for (auto [kind, n] : {std::pair{"list", rc.list}, std::pair{"get", rc.get},
                         std::pair{"put", rc.put}, std::pair{"delete", rc.del},
                         std::pair{"head", rc.head}}) {
    metrics::Labels l = labels_;
    l.emplace_back("kind", kind);
    r.Set("litekeep_replica_requests_total", l, static_cast<double>(n));
  }
  for (auto [kind, n, errors] : {std::tuple{"list", rc.list, rc.list_errors},
                                 std::tuple{"get", rc.get, rc.get_errors},
                                 std::tuple{"put", rc.put, rc.put_errors},
                                 std::tuple{"delete", rc.del, rc.del_errors},
                                 std::tuple{"head", rc.head, rc.head_errors}}) {
    for (auto [outcome, v] : {std::pair{"ok", n >= errors ? n - errors : 0},
                              std::pair{"error", errors}}) {
      metrics::Labels l = labels_;
      l.emplace_back("kind", kind);
      l.emplace_back("outcome", outcome);
      r.Set("litekeep_storage_requests_total", l, static_cast<double>(v));
    }
  }
}

}  // namespace litekeep::replicate
