// Chains of LTX files across levels: which files, applied in order from a
// snapshot, reach a TXID, and which TXIDs can be reached at all. Shared by
// the restore planner and the compactor (snapshots, retention), so that
// both agree on what "restorable" means (docs/architecture.md,
// "Compaction and retention").
#pragma once

#include <vector>

#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// Lists levels first..last (one LIST each), in level order. Errors name the
// level and the replica.
Result<std::vector<FileInfo>> ListLevels(ReplicaClient& replica, int first,
                                         int last);

// A file continues a chain that has reached TXID `cur` when it starts at or
// before cur + 1 and ends after cur: it holds the newest image of every page
// it covers, so applying it on the state at cur gives the state at its max
// TXID even when it starts before cur + 1.
inline bool Continues(const FileInfo& f, TxId cur) {
  return f.min_txid <= cur + 1 && f.max_txid > cur;
}

// From the state at TXID `from`, repeatedly takes the file that continues
// the chain and reaches furthest without passing `limit` (the higher level
// among equals). Stops at `limit` or when no file continues. *reached is
// the last TXID reached (from when the chain is empty).
std::vector<FileInfo> GreedyChain(const std::vector<FileInfo>& files, TxId from,
                                  TxId limit, TxId* reached);

// Every TXID that some chain from a snapshot (a file with min TXID 1)
// reaches exactly, sorted ascending without duplicates.
std::vector<TxId> ReachableTxIds(const std::vector<FileInfo>& files);

}  // namespace litekeep::storage
