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
#include "storage/replica_client.h"

namespace litekeep::restore {

struct Target {
  std::optional<TxId> txid;           // restore exactly this TXID
  std::optional<TimePoint> timestamp;  // newest state created at or before
};

struct Plan {
  std::vector<storage::FileInfo> files;  // apply in this order
  TxId txid = 0;                          // resulting TXID
  int64_t total_bytes = 0;
  bool empty() const { return files.empty(); }
};

// Lists every level of the replica (one LIST per level).
Result<std::vector<storage::FileInfo>> ListAllFiles(
    storage::ReplicaClient& replica);

// Builds the plan from a listing. kNotFound when the replica holds no files
// (or nothing at or before the target); kCorrupt naming the TXID when the
// chain has a gap.
Result<Plan> MakePlan(const std::vector<storage::FileInfo>& files,
                      const Target& target, const std::string& replica_name);

}  // namespace litekeep::restore
