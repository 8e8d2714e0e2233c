// Restore chains: greedy cover, reachable TXIDs, holes, page supply.
#include "storage/file_chain.h"

#include <algorithm>
#include <future>
#include <set>
#include <string>

#include "ltx/format.h"

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

bool LevelHoldsSnapshots(int level) { return level == ltx::kSnapshotLevel; }

const FileInfo* NewestSnapshot(const std::vector<FileInfo>& files, TxId limit) {
  const FileInfo* best = nullptr;
  for (const auto& f : files) {
    if (!IsSnapshot(f) || f.max_txid > limit) continue;
    if (best == nullptr || f.max_txid > best->max_txid ||
        (f.max_txid == best->max_txid && f.level > best->level)) {
      best = &f;
    }
  }
  return best;
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

const FileInfo* FirstStranded(const std::vector<FileInfo>& before,
                              const std::vector<FileInfo>& after) {
  const std::vector<TxId> was = ReachableTxIds(before);
  const std::vector<TxId> is = ReachableTxIds(after);
  for (const auto& f : after) {
    if (std::binary_search(was.begin(), was.end(), f.max_txid) &&
        !std::binary_search(is.begin(), is.end(), f.max_txid)) {
      return &f;
    }
  }
  return nullptr;
}

std::vector<Hole> FindHoles(const std::vector<FileInfo>& files) {
  std::vector<const FileInfo*> order;
  order.reserve(files.size());
  for (const auto& f : files) order.push_back(&f);
  std::sort(order.begin(), order.end(),
            [](const FileInfo* a, const FileInfo* b) {
              if (a->min_txid != b->min_txid) return a->min_txid < b->min_txid;
              if (a->max_txid != b->max_txid) return a->max_txid < b->max_txid;
              return a->level < b->level;
            });
  std::vector<Hole> holes;
  TxId covered = 0;
  const FileInfo* reached_by = nullptr;
  for (const FileInfo* f : order) {
    if (reached_by != nullptr && f->min_txid > covered + 1) {
      holes.push_back({covered + 1, f->min_txid - 1, *reached_by, *f});
    }
    if (reached_by == nullptr || f->max_txid > covered) {
      covered = f->max_txid;
      reached_by = f;
    }
  }
  return holes;
}

void PageSupply::StartFile(bool snapshot, uint32_t page_size, Pgno commit,
                           std::string name) {
  name_ = std::move(name);
  file_page_size_ = page_size;
  commit_ = commit;
  // A snapshot, or a file with another page size, rebuilds every page.
  const Pgno base = snapshot || page_size != page_size_ ? 0 : pages_;
  next_new_ = base + 1;
  if (next_new_ == ltx::LockPgno(page_size)) ++next_new_;
}

Status PageSupply::Missing(Pgno pgno) const {
  return base::CorruptError(
      name_ + ": commit is " + std::to_string(commit_) + " pages but page " +
      std::to_string(pgno) +
      " is in neither this file nor the files before it (the database had " +
      std::to_string(file_page_size_ == page_size_ ? pages_ : 0) +
      " pages of " + std::to_string(file_page_size_) +
      " bytes); a file may grow the database only by pages it carries");
}

Status PageSupply::AddPage(Pgno pgno) {
  if (pgno == 0 || pgno > commit_ || pgno == ltx::LockPgno(file_page_size_)) {
    return base::CorruptError(name_ + ": page " + std::to_string(pgno) +
                              " is not a page of a " + std::to_string(commit_) +
                              "-page database (or is the lock page)");
  }
  if (pgno < next_new_) return Status::Ok();  // replaces an existing page
  if (pgno != next_new_) return Missing(next_new_);
  ++next_new_;
  if (next_new_ == ltx::LockPgno(file_page_size_)) ++next_new_;
  return Status::Ok();
}

Status PageSupply::FinishFile() {
  if (next_new_ <= commit_) return Missing(next_new_);
  pages_ = commit_;
  page_size_ = file_page_size_;
  return Status::Ok();
}

}  // namespace litekeep::storage
