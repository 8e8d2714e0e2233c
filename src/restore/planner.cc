// Restore planner.
#include "restore/planner.h"

#include <algorithm>
#include <iterator>

#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/file_chain.h"

namespace litekeep::restore {

Result<std::vector<storage::FileInfo>> ListAllFiles(
    storage::ReplicaClient& replica) {
  return storage::ListLevels(replica, 0, ltx::kMaxLevel);
}

Result<Plan> MakePlan(const std::vector<storage::FileInfo>& files,
                      const Target& target, const std::string& replica_name) {
  if (files.empty()) {
    return base::NotFoundError("no LTX files found in replica " + replica_name +
                               " (wrong URL or path? nothing replicated yet?)");
  }
  // The TXID asked for: explicit, the newest created at or before a
  // timestamp, or the newest of all.
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

  // For an earlier point, the newest TXID at or before it that a chain
  // reaches exactly (compaction merges transactions, so a TXID inside a
  // compacted file whose L0 files are gone has no state of its own).
  TxId goal = want;
  std::string note;
  if (target.txid || target.timestamp) {
    const std::vector<TxId> reachable = storage::ReachableTxIds(files);
    auto it = std::upper_bound(reachable.begin(), reachable.end(), want);
    if (it != reachable.begin()) {
      const TxId before = *std::prev(it);
      const bool covered = std::any_of(
          files.begin(), files.end(),
          [&](const storage::FileInfo& f) { return storage::Continues(f, before); });
      if (before < want && covered) {
        goal = before;
        note = "TXID " + ltx::FormatTxId(want) +
               " lies inside a compacted LTX file; restoring TXID " +
               ltx::FormatTxId(goal) +
               ", the newest state at or before it that the replica holds";
      }
    }
  }

  // Base: the snapshot reaching furthest without passing the goal.
  const storage::FileInfo* base = storage::NewestSnapshot(files, goal);
  if (base == nullptr) {
    return base::NotFoundError("replica " + replica_name +
                               " has no snapshot at or before TXID " +
                               ltx::FormatTxId(goal));
  }
  Plan plan;
  plan.files.push_back(*base);
  TxId cur = base->max_txid;
  auto chain = storage::GreedyChain(files, cur, goal, &cur);
  plan.files.insert(plan.files.end(), chain.begin(), chain.end());
  if (cur < goal) {
    return base::CorruptError(
        "replica " + replica_name + " has a gap: no LTX file starts at TXID " +
        ltx::FormatTxId(cur + 1) + " (needed to reach TXID " +
        ltx::FormatTxId(goal) + "); restore an earlier point with -txid " +
        ltx::FormatTxId(cur));
  }
  plan.txid = cur;
  plan.requested = want;
  plan.note = std::move(note);
  for (const auto& f : plan.files) plan.total_bytes += f.size;
  return plan;
}

}  // namespace litekeep::restore
