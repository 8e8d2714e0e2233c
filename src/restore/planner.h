// Restore planning: the newest snapshot at or before the target, then the
// shortest contiguous chain of LTX files across levels up to the target TXID
// or timestamp. docs/architecture.md ("Restore") states which state a
// timestamp selects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/fence.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

// What to restore. With neither field: the newest TXID, exactly. With txid
// or timestamp: the newest restorable state at or before it
// (docs/architecture.md, "Restore" says exactly which one).
struct Target {
  std::optional<TxId> txid;            // newest state at or before this TXID
  std::optional<TimePoint> timestamp;  // newest state shipped at or before
};

struct Plan {
  std::vector<storage::FileInfo> files;  // apply in this order
  TxId txid = 0;                         // resulting TXID
  // The TXID asked for (-txid, or the newest shipped by -timestamp); when
  // it lies inside a compacted file, txid is the newest state before it.
  TxId requested = 0;
  std::string note;  // why txid != requested, for the user; else empty
  int64_t total_bytes = 0;
  bool empty() const { return files.empty(); }
};

// Lists every level of the replica (one LIST per level), without the
// files a replicator published after losing its lease
// (docs/architecture.md, "Fencing": one GET of the lease object, and a
// ranged read of the LTX header of recent files only when it records a
// takeover). Those are returned in *stale, or logged when stale is null.
Result<std::vector<storage::FileInfo>> ListAllFiles(
    storage::ReplicaClient& replica,
    std::vector<storage::StaleFile>* stale = nullptr);

// Makes exact (ReplicaClient::CreatedTime) the created times of a listing
// made with CreatedTimes::kListed that decide which TXID `timestamp` selects
// in MakePlan: the files in descending max-TXID order, `concurrency` at a
// time, up to the first batch holding one created at or before timestamp
// (a file after it ends no later, so its time cannot change the choice).
// Files gone since the listing are dropped. Returns how many times were
// asked for (S3: at most that many HEADs; docs/cli/restore.md).
Result<size_t> ResolveTimestampTimes(storage::ReplicaClient& replica,
                                     std::vector<storage::FileInfo>* files,
                                     TimePoint timestamp, int concurrency);

// Makes every file's created time exact, as above (for printing a plan);
// a file gone since the listing is a kNotFound error.
Status MakeCreatedTimesExact(storage::ReplicaClient& replica,
                             std::vector<storage::FileInfo>* files,
                             int concurrency);

// Builds the plan from a listing. kNotFound when the replica holds no files
// (or nothing at or before the target); kCorrupt naming the TXID when the
// chain has a gap. A target TXID that only compacted files cover (their
// per-transaction L0 files are gone) is not a gap: the plan restores the
// newest state before it that a chain reaches exactly, and says so in note.
Result<Plan> MakePlan(const std::vector<storage::FileInfo>& files,
                      const Target& target, const std::string& replica_name);

}  // namespace litekeep::restore
