// Restore planner.
#include "restore/planner.h"

#include <algorithm>

#include "ltx/file_name.h"
#include "ltx/format.h"

namespace litekeep::restore {

Result<std::vector<storage::FileInfo>> ListAllFiles(
    storage::ReplicaClient& replica) {
  std::vector<storage::FileInfo> all;
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    auto files = replica.ListFiles(level);
    if (!files.ok()) {
      return files.status().WithContext("list level " + std::to_string(level) +
                                        " of " + replica.Describe());
    }
    all.insert(all.end(), files->begin(), files->end());
  }
  return all;
}

Result<Plan> MakePlan(const std::vector<storage::FileInfo>& files,
                      const Target& target, const std::string& replica_name) {
  if (files.empty()) {
    return base::NotFoundError("no LTX files found in replica " + replica_name +
                               " (wrong URL or path? nothing replicated yet?)");
  }
  // The target TXID: explicit, the newest created at or before a timestamp,
  // or the newest of all.
  TxId want = 0;
  if (target.txid) {
    want = *target.txid;
  } else if (target.timestamp) {
    for (const auto& f : files) {
      if (f.created <= *target.timestamp) want = std::max(want, f.max_txid);
    }
    if (want == 0) {
      return base::NotFoundError(
          "replica " + replica_name +
          " holds no transaction created at or before the requested time");
    }
  } else {
    for (const auto& f : files) want = std::max(want, f.max_txid);
  }

  // Base: the snapshot (min TXID 1) reaching furthest without passing want;
  // among equals the highest level (fewest pages to apply).
  const storage::FileInfo* base = nullptr;
  for (const auto& f : files) {
    if (f.min_txid != 1 || f.max_txid > want) continue;
    if (base == nullptr || f.max_txid > base->max_txid ||
        (f.max_txid == base->max_txid && f.level > base->level)) {
      base = &f;
    }
  }
  if (base == nullptr) {
    return base::NotFoundError("replica " + replica_name +
                               " has no snapshot at or before TXID " +
                               ltx::FormatTxId(want));
  }
  Plan plan;
  plan.files.push_back(*base);
  TxId cur = base->max_txid;
  // Greedy interval cover: from cur, take the file that starts at or before
  // cur + 1, ends after cur, and reaches furthest without passing want.
  while (cur < want) {
    const storage::FileInfo* best = nullptr;
    for (const auto& f : files) {
      if (f.min_txid > cur + 1 || f.max_txid <= cur || f.max_txid > want) {
        continue;
      }
      if (best == nullptr || f.max_txid > best->max_txid ||
          (f.max_txid == best->max_txid && f.level > best->level)) {
        best = &f;
      }
    }
    if (best == nullptr) {
      return base::CorruptError(
          "replica " + replica_name + " has a gap: no LTX file starts at TXID " +
          ltx::FormatTxId(cur + 1) + " (needed to reach TXID " +
          ltx::FormatTxId(want) + "); restore an earlier point with -txid " +
          ltx::FormatTxId(cur));
    }
    plan.files.push_back(*best);
    cur = best->max_txid;
  }
  plan.txid = cur;
  for (const auto& f : plan.files) plan.total_bytes += f.size;
  return plan;
}

}  // namespace litekeep::restore
