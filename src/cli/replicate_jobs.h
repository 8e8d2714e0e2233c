// The running set of `replicate` jobs: each opens its database (retrying
// until it exists, unless fail-fast), optionally restoring it first, then
// replicates it until stop. The jobs run on one replicate::ReplicationPool
// (a bounded set of threads; idle databases cost nothing); with -once each
// job runs one sync in a thread of its own. Jobs are independent: one
// failing does not stop the others. Directory entries with `watch: true`
// add jobs for databases created later.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cli/background_verify.h"
#include "config/config.h"
#include "replicate/compaction_scheduler.h"
#include "replicate/pool.h"
#include "replicate/replica_set.h"
#include "replicate/replicator.h"
#include "replicate/runner.h"

namespace litekeep::cli {

struct JobSpec {
  std::string db_path;
  config::DbConfig db;            // per-database settings
  config::ReplicaConfig replica;  // where it goes (the first replica)
  bool restore_if_missing = false;
  // Lineage guard: start a new history instead of refusing a database that
  // does not descend from the replica's newest state.
  bool new_history = false;
  // Every replica when there are several (docs/architecture.md, "Several
  // replicas"); empty with one.
  std::vector<config::ReplicaConfig> replicas;
};

class JobSet {
 public:
  // fail_fast: a database that cannot be opened is an error for Add (the
  // one-database command line); otherwise its job retries until stop.
  // metrics (optional) receives every job's replication metrics.
  // cfg (kept by reference) gives each job its compaction schedule.
  JobSet(replicate::StopSignal& stop, bool once, bool fail_fast,
         const config::Config* cfg, metrics::Registry* metrics = nullptr)
      : stop_(stop),
        once_(once),
        fail_fast_(fail_fast),
        cfg_(cfg),
        metrics_(metrics) {}
  ~JobSet() {
    JoinAll();
    pool_.reset();
  }

  // Wait for a replica lease another replicator holds instead of failing
  // (`-wait-lease`, docs/architecture.md "Replica lease"); before Add.
  void SetWaitLease(bool wait) { wait_lease_ = wait; }

  // How the pool runs (before the first Add).
  void SetPoolOptions(const replicate::PoolOptions& options) {
    pool_options_ = options;
  }

  // Starts a job. Errors: a replica that cannot be built (bad config), or
  // with fail_fast a database that cannot be opened.
  Status Add(const JobSpec& spec);
  bool Has(const std::string& db_path);
  size_t size();
  // Waits for every job to finish (after stop, or once).
  void JoinAll();
  // The first failed job's final status (Ok when all succeeded).
  Status Result();
  // Waits until no job is held back by a failed restore-if-db-not-exists or
  // the lineage guard (the application may start); false when stopped first.
  bool WaitReady();

  // Runtime control, for the control socket (docs/cli.md, "Control
  // socket"); not with -once. Paths are absolute database paths. Each
  // returns what Litestream's endpoint reports: *status is its status word.
  struct DbSummary {
    std::string path;
    std::string status;  // "replicating", "waiting" (not open yet), "stopped"
    TimePoint last_sync{};  // epoch: no successful sync yet
  };
  std::vector<DbSummary> List();
  // Adds a database (status "registered", or "already_registered").
  Status Register(const JobSpec& spec, std::string* status);
  // Final sync, then forgets the database ("unregistered", or
  // "already_unregistered" when unknown); *txid: its replicated TXID.
  Status Unregister(const std::string& path, std::chrono::milliseconds timeout,
                    std::string* status, TxId* txid);
  // Pauses ("stopped", after a final sync; "already_stopped") or resumes
  // ("started", "already_running") one database. NotFound when unknown.
  Status StopDb(const std::string& path, std::chrono::milliseconds timeout,
                std::string* status, TxId* txid);
  Status StartDb(const std::string& path, std::string* status, TxId* txid);
  // Syncs one database now and waits for it (pool.h, SyncNow). NotFound
  // when unknown, FailedPrecondition when stopped or not open yet.
  base::Result<replicate::ReplicationPool::SyncOutcome> SyncDb(
      const std::string& path, std::chrono::milliseconds timeout);
  // The replicated TXID of a database (0 when unknown or nothing yet).
  TxId ReplicatedTxid(const std::string& path);

 private:
  // Why a job is not replicating yet, shared with the metrics.
  struct Gate {
    std::atomic<bool> ready{false};
  };
  struct Job : replicate::PoolJob {
    JobSet* owner = nullptr;
    JobSpec spec;
    std::shared_ptr<Gate> gate = std::make_shared<Gate>();
    std::shared_ptr<storage::ReplicaClient> replica;  // indexed, for the job
    std::shared_ptr<storage::ReplicaClient> store;    // the store itself
    std::shared_ptr<replicate::Lease> lease;          // null: lease-ttl 0
    // Several replicas: the set behind `replica` (null with one), and each
    // replica's store for its background verification.
    std::shared_ptr<replicate::ReplicaSet> set;
    std::vector<std::pair<config::ReplicaConfig,
                          std::shared_ptr<storage::ReplicaClient>>>
        stores;
    // Ends the command: the replica lease refused without -wait-lease, or
    // (fatal_open) the database could not be opened.
    Status refused;
    std::unique_ptr<replicate::Replicator> replicator_;
    std::unique_ptr<replicate::CompactionScheduler>
        compactor;  // levels, snapshots, retention
    std::unique_ptr<BackgroundVerifier> verifier;  // validation-interval
    std::vector<std::unique_ptr<BackgroundVerifier>> more_verifiers;
    replicate::RunnerOptions ro;
    std::thread thread;  // -once only
    size_t pool_id = 0;
    bool in_pool = false;  // pool_id is set
    bool stopped = false;  // paused by StopDb (its spec kept for StartDb)
    Status result;
    // Preparation state (Prepare).
    bool restored = false;
    bool opened = false;
    bool prepared = false;
    // The command line's one database whose restore is retried: an open
    // failure after it ends the command (fail fast, as without a retry).
    bool fatal_open = false;
    int attempts = 0;
    std::chrono::milliseconds wait{0};                   // before the next try
    std::chrono::steady_clock::time_point not_before{};  // no try before
    std::string last_error;

    // After a failed try: no next one for `wait`, which then doubles up to
    // 30 s (not while waiting for a lease).
    void Backoff();

    bool Prepare(std::chrono::milliseconds* retry, bool now) override;
    replicate::Replicator& replicator() override { return *replicator_; }
    const replicate::RunnerOptions& runner_options() override { return ro; }
    void Finished(Status final_status) override;
    void Compacted(const replicate::CompactionReport& report) override;
  };
  // One attempt to restore (if asked) and open; logs and sets the blocked
  // metric on failure.
  bool TryRestore(Job* job);
  bool TryOpen(Job* job);
  // The pool, created at first use (under mu_).
  replicate::ReplicationPool* Pool();
  // After Open: compactor, verifier, runner options.
  void StartJob(Job* job);
  // Several replicas: builds job->set and the replicator options' hooks.
  Status BuildReplicaSet(Job* job, replicate::ReplicatorOptions* opts);
  // Closes the replicator and, with several replicas, the set.
  static void CloseJob(Job* job);
  // The replicator's lease (one replica) or the set's hooks (several).
  static void SetReplicaHooks(const Job& job,
                              replicate::ReplicatorOptions* opts);
  // Add's second half: restore and open (fail_fast), then start the job.
  Status AddJob(Job job, const replicate::ReplicatorOptions& opts);
  // restore-if-db-not-exists from the job's replica (with several: the one
  // with the newest TXID).
  base::Result<bool> RestoreFor(Job* job, const std::string& meta_dir);
  replicate::ReplicatorOptions OptionsFor(const JobSpec& spec) const;
  // A refused replica lease: true when the job waits for it (-wait-lease);
  // otherwise records the error and stops every job (fail fast).
  bool WaitForLease(Job* job, const Status& s);
  // Sets litekeep_replication_blocked{reason} for a job (empty: none).
  void SetBlocked(const Job& job, const std::string& reason);
  // The newest job of path (under mu_); null when none.
  Job* FindLocked(const std::string& path);

  replicate::StopSignal& stop_;
  bool once_;
  bool fail_fast_;
  bool wait_lease_ = false;
  const config::Config* cfg_;
  metrics::Registry* metrics_;
  std::mutex mu_;
  std::list<Job> jobs_;
  std::unordered_set<std::string> paths_;
  // Unregistered at run time: the directory watcher does not add them
  // back (Has) until they are registered again.
  std::unordered_set<std::string> unregistered_;
  std::mutex control_mu_;  // one control operation at a time
  replicate::PoolOptions pool_options_;
  std::unique_ptr<replicate::ReplicationPool>
      pool_;  // after jobs_: first to go
};

// Expands config entries into job specs: path entries as they are, directory
// entries by scanning for databases now.
Result<std::vector<JobSpec>> SpecsFromConfig(const config::Config& cfg);
// The job of a database found in a directory entry.
JobSpec SpecForDirectoryDatabase(const config::DbConfig& db,
                                 const std::string& path);

// Restores db_path from its replica when the file is missing and the replica
// has a backup, and records in meta_dir which replica state it produced
// (docs/architecture.md, "Lineage guard"). Returns whether it restored.
// record_as: the replica name recorded in the lineage (default: replica's
// own Describe()).
Result<bool> RestoreIfMissing(const std::string& db_path,
                              const std::string& meta_dir,
                              storage::ReplicaClient& replica,
                              const std::string& record_as = "");

// The database checksum of the replica's state at txid, computed by
// restoring it into a private directory under scratch_parent.
Result<uint64_t> RestoredStateChecksum(storage::ReplicaClient& replica,
                                       TxId txid,
                                       const std::string& scratch_parent);

}  // namespace litekeep::cli
