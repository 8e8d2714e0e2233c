// Replication jobs on the replication pool.
#include "cli/replicate_jobs.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <vector>

#include "base/duration.h"
#include "base/io.h"
#include "cli/common.h"
#include "cli/compaction_config.h"
#include "config/directory.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "replicate/discovery.h"
#include "replicate/lineage.h"
#include "replicate/metered_replica.h"
#include "replicate/replica_index.h"
#include "restore/executor.h"
#include "restore/planner.h"

namespace litekeep::cli {

Result<bool> RestoreIfMissing(const std::string& db_path,
                              const std::string& meta_dir,
                              storage::ReplicaClient& replica,
                              const std::string& record_as) {
  if (base::PathExists(db_path)) return false;
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(replica));
  if (files.empty()) {
    spdlog::info("{}: does not exist and {} has no backup; starting fresh",
                 db_path, replica.Describe());
    return false;
  }
  LK_ASSIGN_OR_RETURN(auto plan,
                      restore::MakePlan(files, {}, replica.Describe()));
  // Restored beside the database, in a private directory, then moved into
  // place only if no database appeared meanwhile (an application started
  // beside `replicate`): that one is left for the lineage guard
  // (restore::PlaceWithoutReplacing).
  restore::ExecuteOptions opts;
  opts.output = db_path;
  LK_ASSIGN_OR_RETURN(auto result, restore::Execute(replica, plan, opts));
  LK_RETURN_IF_ERROR(
      replicate::RecordRestoredLineage(
          db_path, meta_dir, record_as.empty() ? replica.Describe() : record_as,
          result.txid)
          .WithContext("record the restored state of " + db_path));
  spdlog::info("{}: restored from {} at TXID {}", db_path, replica.Describe(),
               ltx::FormatTxId(result.txid));
  return true;
}

Result<uint64_t> RestoredStateChecksum(storage::ReplicaClient& replica,
                                       TxId txid,
                                       const std::string& scratch_parent) {
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(replica));
  restore::Target target;
  target.txid = txid;
  LK_ASSIGN_OR_RETURN(auto plan,
                      restore::MakePlan(files, target, replica.Describe()));
  LK_ASSIGN_OR_RETURN(auto scratch,
                      restore::ScratchDir::Create(scratch_parent, "lineage"));
  restore::ExecuteOptions opts;
  opts.output = scratch.path() + "/state.db";
  opts.integrity = restore::IntegrityCheck::kNone;
  LK_ASSIGN_OR_RETURN(auto result, restore::Execute(replica, plan, opts));
  LK_ASSIGN_OR_RETURN(base::File f, base::File::Open(opts.output, O_RDONLY));
  ltx::DatabaseChecksum sum(result.page_size);
  std::vector<uint8_t> page(result.page_size);
  for (Pgno pgno = 1; pgno <= result.pages; ++pgno) {
    LK_RETURN_IF_ERROR(
        f.ReadFullAt(page.data(), page.size(),
                     static_cast<int64_t>(pgno - 1) * result.page_size));
    sum.AddPage(pgno, page);
  }
  return sum.Value();
}

replicate::ReplicatorOptions JobSet::OptionsFor(const JobSpec& spec) const {
  const config::DbConfig& db = spec.db;
  // Built here only, field by field; settings the config leaves unset keep
  // ReplicatorOptions' defaults.
  replicate::ReplicatorOptions o;
  o.db_path = spec.db_path;
  const std::string state = config::StateDirForDatabase(db, spec.db_path);
  o.meta_dir = state.empty() ? replicate::DefaultMetaDir(spec.db_path) : state;
  if (db.busy_timeout) o.busy_timeout = *db.busy_timeout;
  if (db.max_sync_wal_bytes) o.max_sync_wal_bytes = *db.max_sync_wal_bytes;
  if (db.min_checkpoint_page_count) {
    o.min_checkpoint_page_count = *db.min_checkpoint_page_count;
  }
  if (db.truncate_page_n) o.truncate_page_n = *db.truncate_page_n;
  if (db.checkpoint_interval) o.checkpoint_interval = *db.checkpoint_interval;
  o.new_history = spec.new_history;
  o.auto_recover = spec.replica.auto_recover.value_or(true);
  o.page_encoding =
      spec.replica.page_encoding.value_or(ltx::PageEncoding::kBlock);
  o.replica_state_checksum = [meta = o.meta_dir](storage::ReplicaClient& r,
                                                 TxId txid) {
    return RestoredStateChecksum(r, txid, meta);
  };
  return o;
}

void JobSet::SetBlocked(const Job& job, const std::string& reason) {
  if (metrics_ == nullptr) return;
  metrics_->Describe("litekeep_replication_blocked", metrics::Type::kGauge,
                     "1 while a database is not replicated, by reason "
                     "(restore_failed, lineage, locked, db_replaced, "
                     "db_deleted, lease); /healthz fails while any is 1.");
  for (const char* r : {"restore_failed", "lineage", "locked", "lease"}) {
    metrics_->Set("litekeep_replication_blocked",
                  {{"db", job.spec.db_path},
                   {"replica", config::Redacted(job.spec.replica)},
                   {"reason", r}},
                  reason == r ? 1 : 0);
  }
}

Status JobSet::BuildReplicaSet(Job* job, replicate::ReplicatorOptions* opts) {
  const JobSpec& spec = job->spec;
  std::vector<replicate::ReplicaLaneSpec> lanes;
  for (const auto& rc : spec.replicas) {
    const std::string name = config::ReplicaName(rc);
    auto store = OpenReplica(rc);
    if (!store.ok()) {
      return store.status().WithContext("replica " + name + " for " +
                                        spec.db_path);
    }
    if (metrics_ != nullptr) {
      *store = std::make_shared<replicate::MeteredReplica>(*store, metrics_);
    }
    job->stores.emplace_back(rc, *store);
    replicate::ReplicaLaneSpec lane;
    lane.name = name;
    std::shared_ptr<storage::ReplicaClient> client = *store;
    const auto ttl = rc.lease_ttl.value_or(std::chrono::seconds(30));
    if (ttl.count() > 0) {
      replicate::LeaseOptions lo;
      lo.ttl = ttl;
      lo.db_path = spec.db_path;
      lane.lease = std::make_shared<replicate::Lease>(client, lo);
      client = std::make_shared<replicate::LeasedReplica>(client, lane.lease);
    }
    // A name may hold any character: the directory takes its position and
    // the name's safe characters ("0-backup").
    std::string safe;
    for (char c : name)
      safe +=
          std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
              ? c
              : '_';
    const std::string dir = opts->meta_dir + "/replicas/" +
                            std::to_string(lanes.size()) + "-" + safe;
    lane.dir = dir;
    lane.client = std::make_shared<replicate::IndexedReplica>(
        client, replicate::ReplicaIndexOptions{dir + "/ltx"});
    if (!once_ && cfg_ != nullptr) {
      lane.compaction = CompactionOptionsFor(*cfg_, spec.db, rc, dir);
      if (replicate::LoadHistoryHold(opts->meta_dir)) {
        lane.compaction->retention_enabled = false;
      }
    }
    lanes.push_back(std::move(lane));
  }
  replicate::ReplicaSetOptions so;
  so.db_path = spec.db_path;
  so.meta_dir = opts->meta_dir;
  so.metrics = metrics_;
  // A test hook (tests/integration/multi_replica_test.cc): a small backlog
  // makes the full-image catch-up quick to reach.
  if (const char* n = std::getenv("LITEKEEP_TEST_BACKLOG_FILES")) {
    so.max_backlog_files = std::max<size_t>(1, std::strtoull(n, nullptr, 10));
  }
  job->set = std::make_shared<replicate::ReplicaSet>(so, std::move(lanes));
  job->store = job->stores.front().second;
  job->replica = job->set;
  return Status::Ok();
}

void JobSet::SetReplicaHooks(const Job& job,
                             replicate::ReplicatorOptions* opts) {
  if (!job.set) {
    opts->lease = job.lease;
    return;
  }
  opts->lease = nullptr;
  std::weak_ptr<replicate::ReplicaSet> weak = job.set;
  opts->open_replica = [weak]() -> Status {
    auto set = weak.lock();
    return set ? set->Open() : base::FailedPreconditionError("closed");
  };
  opts->ship_file = [weak](const storage::FileInfo& info,
                           const std::string& path) -> Status {
    auto set = weak.lock();
    return set ? set->ShipFile(info, path)
               : base::FailedPreconditionError("closed");
  };
  opts->wants_image = [weak]() {
    auto set = weak.lock();
    return set && set->WantsImage();
  };
}

void JobSet::CloseJob(Job* job) {
  if (job->replicator_) job->replicator_->Close();
  if (job->set) job->set->Close();
}

Status JobSet::Add(const JobSpec& spec) {
  if (spec.replicas.size() > 1) {
    Job job;
    job.owner = this;
    job.spec = spec;
    replicate::ReplicatorOptions opts = OptionsFor(spec);
    LK_RETURN_IF_ERROR(BuildReplicaSet(&job, &opts));
    SetReplicaHooks(job, &opts);
    return AddJob(std::move(job), opts);
  }
  auto replica = OpenReplica(spec.replica);
  if (!replica.ok()) {
    return replica.status().WithContext("replica for " + spec.db_path);
  }
  Job job;
  job.owner = this;
  job.spec = spec;
  // Litestream's replica operation series (docs/metrics.md).
  if (metrics_ != nullptr) {
    *replica = std::make_shared<replicate::MeteredReplica>(*replica, metrics_);
  }
  job.store = *replica;
  // One writer per replica (docs/architecture.md, "Replica lease"): every
  // write and delete of the replicator and the compactor is fenced.
  const auto ttl = spec.replica.lease_ttl.value_or(std::chrono::seconds(30));
  if (ttl.count() > 0) {
    replicate::LeaseOptions lo;
    lo.ttl = ttl;
    lo.db_path = spec.db_path;
    job.lease = std::make_shared<replicate::Lease>(*replica, lo);
    *replica = std::make_shared<replicate::LeasedReplica>(*replica, job.lease);
  }
  replicate::ReplicatorOptions opts = OptionsFor(spec);
  opts.lease = job.lease;
  // The replicator and compactor share one index of the replica and local
  // copies of recent change files (docs/architecture.md, "Requests").
  job.replica = std::make_shared<replicate::IndexedReplica>(
      *replica, replicate::ReplicaIndexOptions{opts.meta_dir + "/ltx"});
  return AddJob(std::move(job), opts);
}

Status JobSet::AddJob(Job job, const replicate::ReplicatorOptions& opts) {
  const JobSpec& spec = job.spec;
  job.restored = !spec.restore_if_missing;
  SetBlocked(job, "");
  if (fail_fast_ && !job.restored && !once_) {
    // One database on the command line: a failed restore is retried like
    // the config form's (nothing is opened meanwhile), and what follows
    // it is the command's to fail as below (docs/cli/replicate.md).
    job.fatal_open = true;
    job.wait = spec.db.monitor_interval;
    if (!TryRestore(&job)) job.Backoff();
  }
  if (fail_fast_ && !job.fatal_open) {
    // One database on the command line: a failure is the command's error.
    if (!job.restored) {
      auto r = RestoreFor(&job, opts.meta_dir);
      if (!r.ok()) return r.status().WithContext("restore " + spec.db_path);
      job.restored = true;
    }
    job.replicator_ =
        std::make_unique<replicate::Replicator>(opts, job.replica);
    Status opened = job.replicator_->Open();
    if (opened.ok()) {
      job.opened = true;
      job.gate->ready = true;
      spdlog::info(
          "replicating {} to {}", spec.db_path,
          job.set ? job.set->Describe() : config::Redacted(spec.replica));
    } else if (job.replicator_->blocked() == "lease" && wait_lease_) {
      spdlog::info("{}: waiting for the replica lease (-wait-lease): {}",
                   spec.db_path, opened.message());
      CloseJob(&job);
      SetBlocked(job, "lease");
      job.last_error = opened.message();
    } else {
      return opened;
    }
  }
  const std::string db_path = spec.db_path;
  std::unique_lock<std::mutex> lock(mu_);
  jobs_.push_back(std::move(job));
  paths_.insert(db_path);
  Job* j = &jobs_.back();
  if (once_) {
    j->thread = std::thread([this, j] {
      std::chrono::milliseconds retry{0};
      while (!j->Prepare(&retry, /*now=*/false)) {
        if (stop_.WaitFor(retry)) return;
      }
      j->Finished(replicate::RunReplicator(*j->replicator_, j->ro, stop_));
    });
    return Status::Ok();
  }
  replicate::ReplicationPool* pool = Pool();
  lock.unlock();
  const size_t id = pool->Add(j);
  lock.lock();
  j->pool_id = id;
  j->in_pool = true;
  if (j->set) {
    // A replica that needs an image of an idle database has it synced.
    j->set->SetWake([this, id] {
      replicate::ReplicationPool* p;
      {
        std::lock_guard<std::mutex> l(mu_);
        p = pool_.get();
      }
      if (p != nullptr)
        p->SyncNow(id, std::chrono::milliseconds(0)).status().IgnoreError();
    });
  }
  return Status::Ok();
}

base::Result<bool> JobSet::RestoreFor(Job* job, const std::string& meta_dir) {
  if (!job->set) {
    return RestoreIfMissing(job->spec.db_path, meta_dir, *job->replica);
  }
  // Several replicas: from the one with the newest TXID (the first of
  // equals); replicas that cannot be listed are skipped.
  std::shared_ptr<storage::ReplicaClient> best;
  TxId best_txid = 0;
  std::string errors;
  for (const auto& [rc, store] : job->stores) {
    auto tip = storage::MaxTxId(*store);
    if (!tip.ok()) {
      errors += (errors.empty() ? "" : "; ") + config::ReplicaName(rc) + ": " +
                tip.status().message();
      continue;
    }
    if (!best || *tip > best_txid) {
      best = store;
      best_txid = *tip;
    }
  }
  if (!best) {
    return base::UnavailableError("no replica can be listed: " + errors);
  }
  return RestoreIfMissing(job->spec.db_path, meta_dir, *best,
                          job->set->Describe());
}

JobSet::Job* JobSet::FindLocked(const std::string& path) {
  Job* found = nullptr;
  for (auto& j : jobs_) {
    if (j.in_pool && j.spec.db_path == path) found = &j;
  }
  return found;
}

std::vector<JobSet::DbSummary> JobSet::List() {
  std::vector<DbSummary> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& j : jobs_) {
    if (!j.in_pool) continue;
    DbSummary d{j.spec.db_path, "stopped", {}};
    const auto info = pool_->Info(j.pool_id);
    d.last_sync = info.last_sync;
    if (!j.stopped) d.status = info.open ? "replicating" : "waiting";
    out.push_back(std::move(d));
  }
  return out;
}

TxId JobSet::ReplicatedTxid(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Job* j = FindLocked(path);
  return j == nullptr ? 0 : pool_->Info(j->pool_id).replicated_txid;
}

Status JobSet::Register(const JobSpec& spec, std::string* status) {
  if (once_) return base::FailedPreconditionError("not with -once");
  std::lock_guard<std::mutex> control(control_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (FindLocked(spec.db_path) != nullptr) {
      *status = "already_registered";
      return Status::Ok();
    }
    unregistered_.erase(spec.db_path);
  }
  LK_RETURN_IF_ERROR(Add(spec));
  *status = "registered";
  return Status::Ok();
}

Status JobSet::Unregister(const std::string& path,
                          std::chrono::milliseconds timeout,
                          std::string* status, TxId* txid) {
  if (once_) return base::FailedPreconditionError("not with -once");
  std::lock_guard<std::mutex> control(control_mu_);
  Job* j;
  {
    std::lock_guard<std::mutex> lock(mu_);
    j = FindLocked(path);
  }
  *txid = 0;
  if (j == nullptr) {
    *status = "already_unregistered";
    return Status::Ok();
  }
  Status final_sync = Status::Ok();
  if (!j->stopped) {
    final_sync = pool_->Detach(j->pool_id, timeout);
    if (!final_sync.ok() && final_sync.code() == base::Code::kUnavailable) {
      return final_sync;  // still running: the job may not go yet
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  *txid = pool_->Info(j->pool_id).replicated_txid;
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (&*it == j) {
      jobs_.erase(it);
      break;
    }
  }
  paths_.erase(path);
  unregistered_.insert(path);
  // Its series go too: /healthz must not wait for a database that left.
  if (metrics_ != nullptr) metrics_->RemoveSeries("db", path);
  spdlog::info("{}: unregistered at TXID {}", path, ltx::FormatTxId(*txid));
  *status = "unregistered";
  return final_sync.WithContext("final sync");
}

Status JobSet::StopDb(const std::string& path,
                      std::chrono::milliseconds timeout, std::string* status,
                      TxId* txid) {
  if (once_) return base::FailedPreconditionError("not with -once");
  std::lock_guard<std::mutex> control(control_mu_);
  Job* j;
  {
    std::lock_guard<std::mutex> lock(mu_);
    j = FindLocked(path);
  }
  if (j == nullptr) return base::NotFoundError("database not found: " + path);
  *status = "already_stopped";
  if (!j->stopped) {
    Status s = pool_->Detach(j->pool_id, timeout);
    if (!s.ok() && s.code() == base::Code::kUnavailable) return s;
    std::lock_guard<std::mutex> lock(mu_);
    j->stopped = true;
    *status = "stopped";
    // Not replicating on purpose: no series (and no /healthz verdict) for it
    // until it is started again.
    if (metrics_ != nullptr) metrics_->RemoveSeries("db", path);
    spdlog::info("{}: replication stopped (control socket)", path);
    if (!s.ok()) return s.WithContext("final sync");
  }
  *txid = ReplicatedTxid(path);
  return Status::Ok();
}

Status JobSet::StartDb(const std::string& path, std::string* status,
                       TxId* txid) {
  if (once_) return base::FailedPreconditionError("not with -once");
  std::lock_guard<std::mutex> control(control_mu_);
  JobSpec spec;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* j = FindLocked(path);
    if (j == nullptr) return base::NotFoundError("database not found: " + path);
    if (!j->stopped) {
      *status = "already_running";
      *txid = pool_->Info(j->pool_id).replicated_txid;
      return Status::Ok();
    }
    spec = j->spec;
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (&*it == j) {
        jobs_.erase(it);
        break;
      }
    }
  }
  LK_RETURN_IF_ERROR(Add(spec));
  spdlog::info("{}: replication started (control socket)", path);
  // Report the position once it is open (briefly; it may wait for the
  // database to exist).
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Job* j = FindLocked(path);
      if (j != nullptr && pool_->Info(j->pool_id).open) break;
    }
    if (stop_.WaitFor(std::chrono::milliseconds(100))) break;
  }
  *status = "started";
  *txid = ReplicatedTxid(path);
  return Status::Ok();
}

base::Result<replicate::ReplicationPool::SyncOutcome> JobSet::SyncDb(
    const std::string& path, std::chrono::milliseconds timeout) {
  if (once_) return base::FailedPreconditionError("not with -once");
  size_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* j = FindLocked(path);
    if (j == nullptr) return base::NotFoundError("database not found: " + path);
    if (j->stopped) {
      return base::FailedPreconditionError("database is stopped: " + path +
                                           " (`litekeep start` resumes it)");
    }
    id = j->pool_id;
  }
  return pool_->SyncNow(id, timeout);
}

replicate::ReplicationPool* JobSet::Pool() {
  if (!pool_) {
    pool_ = std::make_unique<replicate::ReplicationPool>(pool_options_, stop_);
  }
  return pool_.get();
}

bool JobSet::TryRestore(Job* job) {
  // A failed restore-if-db-not-exists is retried with backoff; nothing is
  // opened (so nothing the application creates meanwhile is replicated)
  // until it succeeds or the replica is proven empty.
  const std::string meta = OptionsFor(job->spec).meta_dir;
  auto r = RestoreFor(job, meta);
  if (r.ok()) {
    job->restored = true;
    SetBlocked(*job, "");
    return true;
  }
  SetBlocked(*job, "restore_failed");
  // Every try is logged with the delay before the next (job->wait).
  spdlog::error(
      "restore {} failed (try {}, retrying in {}{}): {}", job->spec.db_path,
      job->attempts + 1, base::FormatDuration(job->wait),
      job->attempts == 0 ? "; nothing is replicated and no application is "
                           "started until the restore succeeds"
                         : "",
      r.status().message());
  return false;
}

bool JobSet::TryOpen(Job* job) {
  // Keep trying to open a database that is not there yet (the application
  // may create it later), or that the lineage guard refused (an operator may
  // restore it), with a capped backoff.
  replicate::ReplicatorOptions opts = OptionsFor(job->spec);
  SetReplicaHooks(*job, &opts);
  job->replicator_ =
      std::make_unique<replicate::Replicator>(opts, job->replica);
  Status s = job->replicator_->Open();
  if (s.ok()) {
    job->opened = true;
    SetBlocked(*job, "");
    job->gate->ready = true;
    spdlog::info(
        "replicating {} to {}", job->spec.db_path,
        job->set ? job->set->Describe() : config::Redacted(job->spec.replica));
    return true;
  }
  const std::string blocked = job->replicator_->blocked();
  SetBlocked(*job, blocked);
  // Not there yet (the application creates it) or the replica is
  // unreachable: the application may start.
  if (blocked.empty() && s.code() == base::Code::kNotFound) {
    job->gate->ready = true;
  }
  CloseJob(job);  // drops the local lock between attempts
  if (blocked == "lease") return WaitForLease(job, s);
  if (job->fatal_open) {
    // The command line's one database after a retried restore: as when
    // its restore succeeds at once, an open failure (the lineage guard
    // refusing a database that appeared meanwhile) ends the command.
    spdlog::error("{}", s.message());
    {
      std::lock_guard<std::mutex> lock(mu_);
      job->refused = s;
    }
    stop_.Stop();
    return false;
  }
  if (job->attempts == 0) {
    if (!blocked.empty()) {
      spdlog::error("{} (will retry)", s.message());
    } else {
      spdlog::warn("{} (will retry)", s.message());
    }
  } else if (s.message() != job->last_error && !blocked.empty()) {
    spdlog::error("{} (will retry)", s.message());
  } else if (job->wait >= std::chrono::seconds(30)) {
    spdlog::warn("{} (will retry)", s.message());
  }
  job->last_error = s.message();
  return false;
}

bool JobSet::WaitForLease(Job* job, const Status& s) {
  if (!wait_lease_) {
    spdlog::error("{}", s.message());
    {
      std::lock_guard<std::mutex> lock(mu_);
      job->refused = s;
    }
    stop_.Stop();
    return false;
  }
  if (s.message() != job->last_error) {
    spdlog::info("{}: waiting for the replica lease (-wait-lease): {}",
                 job->spec.db_path, s.message());
  }
  job->last_error = s.message();
  // Poll at a third of the ttl (at most 1 s apart), not the open backoff.
  const auto ttl = job->lease ? job->lease->ttl() : std::chrono::seconds(3);
  job->wait = std::clamp<std::chrono::milliseconds>(
      ttl / 3, std::chrono::milliseconds(100), std::chrono::seconds(1));
  return false;
}

void JobSet::Job::Backoff() {
  ++attempts;
  not_before = std::chrono::steady_clock::now() + wait;
  if (replicator_ && replicator_->blocked() == "lease") return;
  wait =
      std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(30));
}

bool JobSet::Job::Prepare(std::chrono::milliseconds* retry, bool now) {
  if (prepared) return true;
  if (wait.count() == 0) wait = spec.db.monitor_interval;
  const auto at = std::chrono::steady_clock::now();
  if (!now && at < not_before) {  // the first try was Add's
    *retry = std::chrono::ceil<std::chrono::milliseconds>(not_before - at);
    return false;
  }
  const bool ok =
      (restored || owner->TryRestore(this)) && (opened || owner->TryOpen(this));
  if (!ok) {
    *retry = wait;
    Backoff();
    return false;
  }
  owner->StartJob(this);
  prepared = true;
  return true;
}

void JobSet::Job::Finished(Status final_status) {
  if (verifier) verifier->Stop();
  for (auto& v : more_verifiers) v->Stop();
  CloseJob(this);
  std::lock_guard<std::mutex> lock(owner->mu_);
  result = std::move(final_status);
}

void JobSet::Job::Compacted(const replicate::CompactionReport& report) {
  if (report.written.empty() || owner->cfg_ == nullptr ||
      !owner->cfg_->verify_compaction) {
    return;
  }
  // docs/config.md, `verify-compaction`: the listing checks of `verify`
  // (overlaps within a level, TXIDs no file holds) on a fresh listing.
  restore::VerifyOptions vo;
  vo.depth = restore::VerifyDepth::kListing;
  vo.policy.now = Clock::now();
  auto checked = restore::Verify(*store, vo);
  std::string problem;
  if (!checked.ok()) {
    problem = "cannot list the replica: " + checked.status().message();
  } else if (!checked->ok()) {
    for (size_t i = 0; i < checked->problems.size() && i < 3; ++i) {
      problem += (i == 0 ? "" : "; ") + checked->problems[i].message;
    }
  }
  if (problem.empty()) return;
  spdlog::warn("{}: post-compaction verification failed: {}", spec.db_path,
               problem);
  if (owner->metrics_ != nullptr) {
    owner->metrics_->Add("litestream_compaction_verify_error_count",
                         {{"db", spec.db_path}}, 1);
    owner->metrics_->Add(
        "litekeep_compaction_verify_errors_total",
        {{"db", spec.db_path}, {"replica", config::Redacted(spec.replica)}}, 1);
  }
}

void JobSet::StartJob(Job* job) {
  if (metrics_ != nullptr && cfg_ != nullptr && cfg_->verify_compaction) {
    metrics_->Describe("litestream_compaction_verify_error_count",
                       metrics::Type::kCounter,
                       "Number of post-compaction verification failures");
    metrics_->Describe("litekeep_compaction_verify_errors_total",
                       metrics::Type::kCounter,
                       "Compactions after which the replica's listing "
                       "failed its checks (verify-compaction).");
    metrics_->Add("litestream_compaction_verify_error_count",
                  {{"db", job->spec.db_path}}, 0);
    metrics_->Add("litekeep_compaction_verify_errors_total",
                  {{"db", job->spec.db_path},
                   {"replica", config::Redacted(job->spec.replica)}},
                  0);
  }
  replicate::CompactionOptions co = CompactionOptionsFor(
      *cfg_, job->spec.db, job->spec.replica, job->replicator_->meta_dir());
  if (auto hold = replicate::LoadHistoryHold(job->replicator_->meta_dir())) {
    // A deliberate new history keeps the previous one's newest state
    // restorable until the operator removes the hold (docs/architecture.md).
    co.retention_enabled = false;
    spdlog::warn(
        "{}: retention is off: {}/history-hold.json keeps the "
        "previous history (ending at TXID {}) restorable",
        job->spec.db_path, job->replicator_->meta_dir(),
        ltx::FormatTxId(*hold));
  }
  // With several replicas each replica compacts on its own thread
  // (replicate/replica_set.h).
  if (!job->set) {
    if (job->lease) co.node_id = job->lease->node_id();  // the fence
    job->compactor =
        std::make_unique<replicate::CompactionScheduler>(job->replica, co);
  }
  auto stores = job->stores;
  if (stores.empty()) stores.emplace_back(job->spec.replica, job->store);
  for (const auto& [rc, store] : stores) {
    const auto& vi = rc.validation_interval;
    if (once_ || !vi || vi->count() <= 0) continue;
    const replicate::CompactionOptions rco =
        CompactionOptionsFor(*cfg_, job->spec.db, rc, "");
    BackgroundVerifyOptions vo;
    vo.db = job->spec.db_path;
    vo.replica = config::Redacted(rc);
    vo.interval = *vi;
    if (co.retention_enabled && rco.retention.count() > 0)
      vo.retention = rco.retention;
    vo.snapshot_interval = rco.snapshot_interval;
    vo.metrics = metrics_;
    auto v = std::make_unique<BackgroundVerifier>(store, vo);
    v->Start();
    if (!job->verifier) {
      job->verifier = std::move(v);
    } else {
      job->more_verifiers.push_back(std::move(v));
    }
  }
  replicate::RunnerOptions& ro = job->ro;
  ro.compactor = job->compactor.get();
  ro.sync_interval = job->spec.replica.sync_interval;
  ro.monitor_interval = job->spec.db.monitor_interval;
  ro.once = once_;
  ro.metrics = metrics_;
  ro.replica_name =
      job->set ? job->set->Describe() : config::Redacted(job->spec.replica);
  if (cfg_ != nullptr) {  // docs/config.md, `shutdown-sync-timeout`
    ro.shutdown_sync_timeout = cfg_->shutdown_sync_timeout;
    ro.shutdown_sync_interval = cfg_->shutdown_sync_interval;
  }
}

bool JobSet::Has(const std::string& db_path) {
  std::lock_guard<std::mutex> lock(mu_);
  return paths_.count(db_path) != 0 || unregistered_.count(db_path) != 0;
}

size_t JobSet::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

void JobSet::JoinAll() {
  if (!once_) {
    replicate::ReplicationPool* pool;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pool = Pool();
    }
    pool->Wait();
  }
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

bool JobSet::WaitReady() {
  for (;;) {
    bool ready = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& j : jobs_) ready &= j.gate->ready.load();
    }
    if (ready) return true;
    if (stop_.WaitFor(std::chrono::milliseconds(100))) return false;
  }
}

Status JobSet::Result() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& j : jobs_) {
    if (!j.refused.ok()) return j.refused;
    if (!j.result.ok()) return j.result;
  }
  return Status::Ok();
}

Result<std::vector<JobSpec>> SpecsFromConfig(const config::Config& cfg) {
  std::vector<JobSpec> out;
  for (const auto& db : cfg.dbs) {
    if (db.replicas.empty()) {
      return base::InvalidArgumentError(
          "database " + (db.path.empty() ? db.dir : db.path) + " in " +
          cfg.source + " has no replica");
    }
    if (!db.path.empty()) {
      JobSpec spec{
          db.path,        db, db.replicas.front(), db.restore_if_db_not_exists,
          db.new_history, {}};
      if (db.replicas.size() > 1) spec.replicas = db.replicas;
      out.push_back(std::move(spec));
      continue;
    }
    LK_ASSIGN_OR_RETURN(
        auto found, replicate::FindDatabases(db.dir, db.pattern, db.recursive));
    for (const auto& path : found) {
      out.push_back(SpecForDirectoryDatabase(db, path));
    }
  }
  return out;
}

JobSpec SpecForDirectoryDatabase(const config::DbConfig& db,
                                 const std::string& path) {
  JobSpec spec{path,
               db,
               config::ReplicaForDatabase(db.replicas.front(), db.dir, path),
               false,
               db.new_history,
               {}};
  if (db.replicas.size() > 1) {
    for (const auto& r : db.replicas) {
      spec.replicas.push_back(config::ReplicaForDatabase(r, db.dir, path));
    }
  }
  return spec;
}

}  // namespace litekeep::cli
