// Restore chains: the one definition of "restorable" (docs/architecture.md,
// "Restore chains"). Which files, applied in order from a snapshot, reach a
// TXID; which TXIDs can be reached at all; where the TXID ranges have holes;
// whether a delete strands a file; and which pages a chain supplies. Asked by
// the restore planner and executor, verify, the compactor (snapshots,
// retention) and the VFS, so that all agree.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// Lists levels first..last (one LIST each), in level order. Errors name the
// level and the replica.
Result<std::vector<FileInfo>> ListLevels(ReplicaClient& replica, int first,
                                         int last);

// A snapshot holds the whole database: it starts at TXID 1.
inline bool IsSnapshot(const FileInfo& f) { return f.min_txid == 1; }

// True when the files of `level` may overlap each other: level 9 holds
// snapshots, which all start at TXID 1. Files of any other level must not.
bool LevelHoldsSnapshots(int level);

// A file continues a chain that has reached TXID `cur` when it starts at or
// before cur + 1 and ends after cur: it holds the newest image of every page
// it covers, so applying it on the state at cur gives the state at its max
// TXID even when it starts before cur + 1.
inline bool Continues(const FileInfo& f, TxId cur) {
  return f.min_txid <= cur + 1 && f.max_txid > cur;
}

// The snapshot reaching furthest without passing `limit`, the highest level
// among equals (fewest pages to apply); nullptr when there is none.
const FileInfo* NewestSnapshot(const std::vector<FileInfo>& files, TxId limit);

// From the state at TXID `from`, repeatedly takes the file that continues
// the chain and reaches furthest without passing `limit` (the higher level
// among equals). Stops at `limit` or when no file continues. *reached is
// the last TXID reached (from when the chain is empty).
std::vector<FileInfo> GreedyChain(const std::vector<FileInfo>& files, TxId from,
                                  TxId limit, TxId* reached);

// Every TXID that some chain from a snapshot (a file with min TXID 1)
// reaches exactly, sorted ascending without duplicates.
std::vector<TxId> ReachableTxIds(const std::vector<FileInfo>& files);

// Of the files in `after` (a subset of `before`), the first whose max TXID a
// chain reaches in `before` but no chain reaches in `after`; nullptr when a
// delete of the difference strands nothing.
const FileInfo* FirstStranded(const std::vector<FileInfo>& before,
                              const std::vector<FileInfo>& after);

// TXIDs first..last that no file holds, between the file `before` (which
// reaches first - 1) and the file `after` (which starts at last + 1).
struct Hole {
  TxId first = 0;
  TxId last = 0;
  FileInfo before;
  FileInfo after;
};

// The holes in the union of the files' TXID ranges, ascending, from the
// oldest file on. Every chain stops at the first hole (a snapshot would
// cover it), so files starting after it cannot be reached by any restore.
std::vector<Hole> FindHoles(const std::vector<FileInfo>& files);

// Which pages a chain supplies, checked file by file before anything is
// written or allocated: a snapshot covers pages 1..commit; any other file
// may shrink the database or grow it only by pages it carries (a new page
// size needs every page). The lock page is never stored.
class PageSupply {
 public:
  // Starts from a database of `pages` pages of `page_size` bytes (0, 0: no
  // database yet).
  explicit PageSupply(Pgno pages = 0, uint32_t page_size = 0)
      : pages_(pages), page_size_(page_size) {}

  // Starts the next file of the chain. `name` appears in errors.
  void StartFile(bool snapshot, uint32_t page_size, Pgno commit,
                 std::string name);
  // A page the file carries; pages come in ascending order. kCorrupt when
  // it is beyond commit, or a page beyond the database's previous size
  // that leaves a page before it missing.
  Status AddPage(Pgno pgno);
  // kCorrupt naming the file and the first missing page when the file's
  // commit needs pages that neither it nor the files before it supply.
  Status FinishFile();

  // The database size in pages after the files finished so far.
  Pgno pages() const { return pages_; }

 private:
  Status Missing(Pgno pgno) const;

  Pgno pages_ = 0;
  uint32_t page_size_ = 0;
  // The file in progress.
  std::string name_;
  uint32_t file_page_size_ = 0;
  Pgno commit_ = 0;
  Pgno next_new_ = 1;  // the next page the file must carry to grow
};

}  // namespace litekeep::storage
