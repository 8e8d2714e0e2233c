// Replication jobs: one thread per database.
#include "cli/replicate_jobs.h"

#include <spdlog/spdlog.h>

#include "base/io.h"
#include "cli/common.h"
#include "cli/compaction_config.h"
#include "ltx/file_name.h"
#include "replicate/discovery.h"
#include "restore/executor.h"
#include "restore/planner.h"

namespace litekeep::cli {
namespace {

// The replicator's options for a job: the database's settings where the
// config gives them, ReplicatorOptions' own defaults for the rest.
replicate::ReplicatorOptions ReplicatorOptionsFor(const JobSpec& spec) {
  const config::DbConfig& db = spec.db;
  replicate::ReplicatorOptions o{.db_path = spec.db_path,
                                 .meta_dir = db.meta_path};
  if (db.busy_timeout) o.busy_timeout = *db.busy_timeout;
  if (db.min_checkpoint_page_count) {
    o.min_checkpoint_page_count = *db.min_checkpoint_page_count;
  }
  if (db.truncate_page_n) o.truncate_page_n = *db.truncate_page_n;
  if (db.checkpoint_interval) o.checkpoint_interval = *db.checkpoint_interval;
  return o;
}

}  // namespace

Result<bool> RestoreIfMissing(const std::string& db_path,
                              storage::ReplicaClient& replica) {
  if (base::PathExists(db_path)) return false;
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(replica));
  if (files.empty()) {
    spdlog::info("{}: does not exist and {} has no backup; starting fresh",
                 db_path, replica.Describe());
    return false;
  }
  LK_ASSIGN_OR_RETURN(auto plan,
                      restore::MakePlan(files, {}, replica.Describe()));
  restore::ExecuteOptions opts;
  opts.output = db_path;
  LK_ASSIGN_OR_RETURN(auto result, restore::Execute(replica, plan, opts));
  spdlog::info("{}: restored from {} at TXID {}", db_path, replica.Describe(),
               ltx::FormatTxId(result.txid));
  return true;
}

Status JobSet::Add(const JobSpec& spec) {
  auto replica = OpenReplica(spec.replica);
  if (!replica.ok()) {
    return replica.status().WithContext("replica for " + spec.db_path);
  }
  Job job;
  job.spec = spec;
  job.replica = *replica;
  job.replicator = std::make_unique<replicate::Replicator>(
      ReplicatorOptionsFor(spec), job.replica);

  bool opened = false;
  if (spec.restore_if_missing) {
    auto restored = RestoreIfMissing(spec.db_path, *job.replica);
    if (!restored.ok()) {
      Status s = restored.status().WithContext("restore " + spec.db_path);
      if (fail_fast_) return s;
      spdlog::error("{}", s.message());
    }
  }
  Status s = job.replicator->Open();
  if (s.ok()) {
    opened = true;
    spdlog::info("replicating {} to {}", spec.db_path,
                 config::Redacted(spec.replica));
  } else if (fail_fast_) {
    return s;
  } else {
    spdlog::warn("{} (will retry)", s.message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(job));
  Job* j = &jobs_.back();
  j->thread = std::thread([this, j, opened] { RunJob(j, opened); });
  return Status::Ok();
}

void JobSet::RunJob(Job* job, bool opened) {
  // Keep trying to open a database that is not there yet (the application
  // may create it later), with a capped backoff.
  std::chrono::milliseconds wait = job->spec.db.monitor_interval;
  while (!opened) {
    if (stop_.WaitFor(wait)) return;
    job->replicator = std::make_unique<replicate::Replicator>(
        ReplicatorOptionsFor(job->spec), job->replica);
    Status s = job->replicator->Open();
    if (s.ok()) {
      opened = true;
      spdlog::info("replicating {} to {}", job->spec.db_path,
                   config::Redacted(job->spec.replica));
    } else {
      wait = std::min<std::chrono::milliseconds>(wait * 2,
                                                 std::chrono::seconds(30));
      if (wait >= std::chrono::seconds(30))
        spdlog::warn("{} (will retry)", s.message());
    }
  }
  const replicate::CompactionOptions co = CompactionOptionsFor(
      *cfg_, job->spec.db, job->spec.replica, job->replicator->meta_dir());
  job->compactor = std::make_unique<replicate::Compactor>(job->replica, co);
  const auto& vi = job->spec.replica.validation_interval;
  if (!once_ && vi && vi->count() > 0) {
    BackgroundVerifyOptions vo;
    vo.db = job->spec.db_path;
    vo.replica = config::Redacted(job->spec.replica);
    vo.interval = *vi;
    if (co.retention_enabled && co.retention.count() > 0)
      vo.retention = co.retention;
    vo.snapshot_interval = co.snapshot_interval;
    vo.metrics = metrics_;
    job->verifier = std::make_unique<BackgroundVerifier>(job->replica, vo);
    job->verifier->Start();
  }
  replicate::RunnerOptions ro;
  ro.compactor = job->compactor.get();
  ro.sync_interval = job->spec.replica.sync_interval;
  ro.monitor_interval = job->spec.db.monitor_interval;
  ro.once = once_;
  ro.metrics = metrics_;
  ro.replica_name = config::Redacted(job->spec.replica);
  if (cfg_ != nullptr) {  // docs/config.md, `shutdown-sync-timeout`
    ro.shutdown_sync_timeout = cfg_->shutdown_sync_timeout;
    ro.shutdown_sync_interval = cfg_->shutdown_sync_interval;
  }
  job->result = replicate::RunReplicator(*job->replicator, ro, stop_);
  if (job->verifier) job->verifier->Stop();
  job->replicator->Close();
}

bool JobSet::Has(const std::string& db_path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& j : jobs_) {
    if (j.spec.db_path == db_path) return true;
  }
  return false;
}

size_t JobSet::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

void JobSet::JoinAll() {
  // Join without holding the lock: the directory watcher may still add jobs.
  for (;;) {
    std::thread* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& j : jobs_) {
        if (j.thread.joinable()) {
          next = &j.thread;
          break;
        }
      }
    }
    if (next == nullptr) return;
    next->join();
  }
}

Status JobSet::Result() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& j : jobs_) {
    if (!j.result.ok()) return j.result;
  }
  return Status::Ok();
}

Result<std::vector<JobSpec>> SpecsFromConfig(const config::Config& cfg) {
  std::vector<JobSpec> out;
  for (const auto& db : cfg.dbs) {
    if (db.replicas.size() != 1) {
      return base::InvalidArgumentError(
          "database " + (db.path.empty() ? db.dir : db.path) + " in " +
          cfg.source + " has " + std::to_string(db.replicas.size()) +
          " replicas; litekeep replicates each database to exactly one "
          "replica (as Litestream 0.5)");
    }
    if (!db.path.empty()) {
      out.push_back(
          {db.path, db, db.replicas.front(), db.restore_if_db_not_exists});
      continue;
    }
    LK_ASSIGN_OR_RETURN(
        auto found, replicate::FindDatabases(db.dir, db.pattern, db.recursive));
    for (const auto& path : found) {
      out.push_back(
          {path, db,
           replicate::ReplicaForDatabase(db.replicas.front(), db.dir, path),
           false});
    }
  }
  return out;
}

}  // namespace litekeep::cli
