// Restore planner.
#include "restore/planner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "base/parallel.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/file_chain.h"

namespace litekeep::restore {

Result<std::vector<storage::FileInfo>> ListAllFiles(
    storage::ReplicaClient& replica, std::vector<storage::StaleFile>* stale) {
  LK_ASSIGN_OR_RETURN(auto files,
                      storage::ListLevels(replica, 0, ltx::kMaxLevel));
  LK_ASSIGN_OR_RETURN(auto dropped, storage::DropStaleFiles(replica, &files));
  if (stale != nullptr) {
    *stale = std::move(dropped);
  } else {
    for (const auto& f : dropped) {
      spdlog::warn("skipping {}", f.Describe(replica));
    }
  }
  return files;
}

namespace {

// Replaces files[order[from..to)]'s created times with the exact ones and
// marks the gone ones in *gone (without gone: a gone file is an error).
Status ExactTimes(storage::ReplicaClient& replica,
                  std::vector<storage::FileInfo>& files,
                  const std::vector<size_t>& order, size_t from, size_t to,
                  int concurrency, std::vector<char>* gone) {
  std::vector<Status> errors(to - from);
  base::ParallelFor(to - from, concurrency, [&](size_t k) {
    storage::FileInfo& f = files[order[from + k]];
    auto t = replica.CreatedTime(f);
    if (t.ok()) {
      f.created = *t;
    } else if (gone != nullptr && t.status().code() == base::Code::kNotFound) {
      (*gone)[order[from + k]] = 1;  // deleted since the listing
    } else {
      errors[k] = t.status();
    }
  });
  for (const Status& e : errors) LK_RETURN_IF_ERROR(e);
  return Status::Ok();
}

void DropGone(std::vector<storage::FileInfo>* files,
              const std::vector<char>& gone) {
  std::vector<storage::FileInfo> kept;
  kept.reserve(files->size());
  for (size_t i = 0; i < files->size(); ++i) {
    if (!gone[i]) kept.push_back((*files)[i]);
  }
  *files = std::move(kept);
}

}  // namespace

Result<size_t> ResolveTimestampTimes(storage::ReplicaClient& replica,
                                     std::vector<storage::FileInfo>* files,
                                     TimePoint timestamp, int concurrency) {
  std::vector<size_t> order(files->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return (*files)[a].max_txid > (*files)[b].max_txid;
  });
  std::vector<char> gone(files->size(), 0);
  const size_t batch = static_cast<size_t>(std::max(1, concurrency));
  size_t asked = 0;
  for (size_t from = 0; from < order.size(); from += batch) {
    const size_t to = std::min(order.size(), from + batch);
    LK_RETURN_IF_ERROR(
        ExactTimes(replica, *files, order, from, to, concurrency, &gone));
    asked = to;
    bool found = false;
    for (size_t k = from; k < to; ++k) {
      const storage::FileInfo& f = (*files)[order[k]];
      found = found || (!gone[order[k]] && f.created <= timestamp);
    }
    if (found) break;
  }
  DropGone(files, gone);
  return asked;
}

Status MakeCreatedTimesExact(storage::ReplicaClient& replica,
                             std::vector<storage::FileInfo>* files,
                             int concurrency) {
  std::vector<size_t> order(files->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return ExactTimes(replica, *files, order, 0, order.size(), concurrency,
                    nullptr);
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
      const bool covered = std::any_of(files.begin(), files.end(),
                                       [&](const storage::FileInfo& f) {
                                         return storage::Continues(f, before);
                                       });
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
