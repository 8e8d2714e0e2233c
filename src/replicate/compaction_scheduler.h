// Compaction schedule and retention for one replica:
// L0 files merge into L1, L1 into L2, … at each level's interval, an L9
// snapshot is written every snapshot interval, and retention deletes what
// no restore inside the retention window can need. Works through
// storage::ReplicaClient only. docs/architecture.md ("Compaction and
// retention") states the invariant every step keeps.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "ltx/format.h"
#include "ltx/timings.h"
#include "storage/replica_client.h"

namespace litekeep::replicate {

struct CompactionOptions {
  // Compaction interval of level 1, 2, … (at most 8 levels). Empty: no
  // compaction levels (L0 files then stay until snapshot retention).
  std::vector<std::chrono::milliseconds> level_intervals =
      ltx::DefaultLevelIntervals();
  // L9 snapshot interval; 0 disables snapshots.
  std::chrono::milliseconds snapshot_interval{ltx::kDefaultSnapshotInterval};
  // How long restorable history is kept; 0 keeps everything.
  std::chrono::milliseconds retention{ltx::kDefaultRetention};
  // How often retention runs (also after every snapshot); 0: only after
  // snapshots.
  std::chrono::milliseconds retention_check_interval{
      ltx::kDefaultRetentionCheckInterval};
  bool retention_enabled = true;
  // L0 files stay this long after they were compacted into L1; 0 disables
  // L0 retention (they then go with snapshot retention).
  std::chrono::milliseconds l0_retention{ltx::kDefaultL0Retention};
  std::chrono::milliseconds l0_retention_check_interval{
      ltx::kDefaultL0RetentionCheckInterval};
  // How merged files store their pages (docs/config.md, `page-encoding`).
  ltx::PageEncoding page_encoding = ltx::PageEncoding::kBlock;
  // Where merged files are built before the upload (the local state dir).
  std::string temp_dir;
  // The LTX header node_id of merged files: the replica lease's generation
  // (docs/architecture.md, "Fencing"); 0 without a lease.
  uint64_t node_id = 0;
};

// What one RunDue did (for logs, metrics and tests).
struct CompactionReport {
  std::vector<storage::FileInfo> written;  // compacted files and snapshots
  std::vector<storage::FileInfo> deleted;  // files removed by retention
};

class CompactionScheduler {
 public:
  CompactionScheduler(std::shared_ptr<storage::ReplicaClient> replica,
                      CompactionOptions options);

  // Runs everything due at `now`, in order: level 1, 2, … compactions, the
  // snapshot, then retention. Intervals are aligned to the Unix epoch (a 5m
  // level runs at :00, :05, …, as Litestream aligns them); at the first call
  // a level is due unless its newest file was created in the current
  // window. Every step leaves the replica restorable; an error stops the
  // run (the next call retries) and names the step.
  Result<CompactionReport> RunDue(TimePoint now);

  // The earliest time a step is due (TimePoint::max() when none ever is).
  TimePoint NextDue(TimePoint now) const;
  // The earliest time a step that has something to do is due: a level
  // with new changes below it, L0 retention with more than one L0 file, a
  // snapshot behind the newest TXID, and the retention check. Planned from
  // the index (no request behind an IndexedReplica), so a replica with
  // nothing to do wakes only for the retention check
  // (docs/architecture.md, "Idle databases").
  TimePoint NextUsefulDue(TimePoint now);

  // Merges the change files of level - 1 after the newest file of `level`
  // into new files of `level` (1..8). Full images (min TXID 1) are never
  // inputs: after one the level resumes with the changes that follow it,
  // so one run may write one file per run of continuous changes. Returns
  // the files written (none when nothing is new).
  Result<std::vector<storage::FileInfo>> CompactLevel(int level);

  // Writes an L9 snapshot 0000000000000001-<max>: the newest snapshot of any
  // level merged with the shortest chain of files after it up to the
  // newest TXID. nullopt when L9 already holds the newest TXID.
  Result<std::optional<storage::FileInfo>> Snapshot();

  // Deletes every file older than the anchor: the newest snapshot created
  // at or before now - retention (else the oldest snapshot). Keeps the
  // newest file of each level and L0 files not yet compacted into L1.
  // Reconciles an IndexedReplica's index with the store first.
  Result<std::vector<storage::FileInfo>> EnforceRetention(TimePoint now);

  // Deletes L0 files already merged into L1 files created at or before
  // now - l0_retention, whole L1 file at a time (so every L0 file kept
  // stays usable by a restore), in one batch once the oldest of them has
  // been in L1 for 2 x l0_retention. Keeps the newest L0 file.
  Result<std::vector<storage::FileInfo>> EnforceL0Retention(TimePoint now);

  // Most input files merged into one output (bounds memory: one page and a
  // 64 KiB read buffer per input).
  static constexpr size_t kMaxInputs = 64;

 private:
  struct Schedule {
    std::chrono::milliseconds interval{0};
    std::optional<TimePoint> next;  // nullopt: decide at the first call
  };
  Result<bool> Due(Schedule& s, int level, TimePoint now);
  // Merges inputs (a chain) into one file of `level` and uploads it.
  Result<storage::FileInfo> MergeAndUpload(
      const std::vector<storage::FileInfo>& inputs, int level);
  // Merges inputs into a local file; returns its path.
  Result<std::string> MergeToLocal(const std::vector<storage::FileInfo>& inputs,
                                   const std::string& local_first,
                                   const std::string& path);
  // Deletes `doomed` from `all` only if every TXID that a file we keep
  // could be restored to before stays restorable after (the invariant).
  Status DeleteChecked(const std::vector<storage::FileInfo>& all,
                       const std::vector<storage::FileInfo>& doomed,
                       const std::string& what);

  std::shared_ptr<storage::ReplicaClient> replica_;
  CompactionOptions options_;
  std::vector<Schedule> levels_;  // [0] = level 1
  Schedule snapshot_;
  Schedule retention_;
  Schedule l0_retention_;
  uint64_t temp_seq_ = 0;
};

}  // namespace litekeep::replicate
