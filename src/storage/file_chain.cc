// Chains of LTX files: greedy cover and reachable TXIDs.
#include "storage/file_chain.h"

#include <algorithm>
#include <future>
#include <set>
#include <string>

namespace litekeep::storage {

Result<std::vector<FileInfo>> ListLevels(ReplicaClient& replica, int first,
                                         int last) {
  // Levels are listed concurrently (clients are thread-safe): on S3 this
  // turns ten sequential LIST round trips into one.
  std::vector<std::future<Result<std::vector<FileInfo>>>> lists;
  for (int level = first; level <= last; ++level) {
    lists.push_back(std::async(std::launch::async, [&replica, level] {
      return replica.ListFiles(level);
    }));
  }
  std::vector<FileInfo> all;
  Status first_error;
  for (int level = first; level <= last; ++level) {
    auto files = lists[static_cast<size_t>(level - first)].get();
    if (!files.ok()) {
      if (first_error.ok()) {
        first_error = files.status().WithContext(
            "list level " + std::to_string(level) + " of " + replica.Describe());
      }
      continue;
    }
    all.insert(all.end(), files->begin(), files->end());
  }
  if (!first_error.ok()) return first_error;
  return all;
}

std::vector<FileInfo> GreedyChain(const std::vector<FileInfo>& files, TxId from,
                                  TxId limit, TxId* reached) {
  std::vector<FileInfo> chain;
  TxId cur = from;
  while (cur < limit) {
    const FileInfo* best = nullptr;
    for (const auto& f : files) {
      if (!Continues(f, cur) || f.max_txid > limit) continue;
      if (best == nullptr || f.max_txid > best->max_txid ||
          (f.max_txid == best->max_txid && f.level > best->level)) {
        best = &f;
      }
    }
    if (best == nullptr) break;
    chain.push_back(*best);
    cur = best->max_txid;
  }
  if (reached != nullptr) *reached = cur;
  return chain;
}

std::vector<TxId> ReachableTxIds(const std::vector<FileInfo>& files) {
  // A file's max TXID is reachable when a reachable TXID r has
  // min - 1 <= r < max. Every such r is smaller than max, so visiting files
  // by ascending max TXID sees all of them first.
  std::vector<const FileInfo*> order;
  order.reserve(files.size());
  std::set<TxId> reachable;
  for (const auto& f : files) {
    if (f.min_txid == 1) {
      reachable.insert(f.max_txid);
    } else {
      order.push_back(&f);
    }
  }
  std::sort(order.begin(), order.end(),
            [](const FileInfo* a, const FileInfo* b) {
              return a->max_txid < b->max_txid;
            });
  for (const FileInfo* f : order) {
    auto it = reachable.lower_bound(f->min_txid - 1);
    if (it != reachable.end() && *it < f->max_txid) {
      reachable.insert(f->max_txid);
    }
  }
  return {reachable.begin(), reachable.end()};
}

}  // namespace litekeep::storage
