// Fencing that readers check (docs/architecture.md, "Fencing"): a
// replicator writes the generation of its replica lease into the LTX
// header's node_id, and the lease object (`lock.json`,
// docs/storage_layout.md "Replica lease object") records where each
// generation that took the lease over from a holder that had not released
// it began. A file whose generation is older than such a takeover and that
// reaches the TXID where the takeover began was written by a replicator
// that had lost its lease: it is stale, and every reader that plans a chain
// of files leaves it out. Shared by the replicator (which writes the
// record) and every reader (restore, follow, the VFS, compaction, verify).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// The key of the lease object, relative to the replica path.
inline constexpr char kLeaseObjectKey[] = "lock.json";

// How many takeovers the lease object remembers (the newest ones).
inline constexpr size_t kMaxFenceEntries = 32;

// One takeover: `generation` took the lease over from a holder that had
// not released it, and writes from since_txid on.
struct FenceEntry {
  int64_t generation = 0;
  TxId since_txid = 0;
};

// The takeovers a lease object records, oldest first.
struct Fences {
  std::vector<FenceEntry> entries;

  bool empty() const { return entries.empty(); }
  // The smallest since_txid (0 when empty): only files reaching it can be
  // stale.
  TxId oldest_since() const;
  // The takeover that makes a file of generation node_id ending at max_txid
  // stale: a later generation (> node_id) that began at or before max_txid.
  // Never for node_id 0 (Litestream, litekeep without a lease).
  std::optional<FenceEntry> StaleBy(uint64_t node_id, TxId max_txid) const;
};

// The "fences" array of a lease object's JSON text (empty when it has
// none); kCorrupt when the text is not a JSON object.
Result<Fences> ParseFences(const std::string& lock_json);

// Reads the replica's lease object: its fences, empty when there is no
// object, the backend cannot read one (no lease was ever taken there), or
// the credentials may not read it (read-only access to the levels).
// A lease object that does not parse is an error naming it.
Result<Fences> ReadFences(ReplicaClient& replica);

// A listed file that a stale writer published.
struct StaleFile {
  FileInfo file;
  uint64_t node_id = 0;  // the generation that wrote it
  FenceEntry by;         // the takeover that makes it stale
  // "ltx/0/…ltx: written by a replicator that had lost its lease
  // (generation 1; generation 2 took the replica over at TXID …)".
  std::string Describe(const ReplicaClient& replica) const;
};

// The stale files among `files`: reads the LTX header (a ranged read of its
// first bytes) of every file whose max TXID reaches fences.oldest_since()
// and is above `after` (a poller passes the TXID it already has),
// `concurrency` at a time. No request when fences is empty. A file gone
// since the listing is skipped; an unreadable header is an error naming it.
Result<std::vector<StaleFile>> FindStaleFiles(
    ReplicaClient& replica, const std::vector<FileInfo>& files,
    const Fences& fences, TxId after = 0, int concurrency = 16);

// ReadFences and FindStaleFiles, then removes the stale files from *files
// and returns them. One GET of the lease object, and the header reads only
// when it records a takeover.
Result<std::vector<StaleFile>> DropStaleFiles(ReplicaClient& replica,
                                              std::vector<FileInfo>* files,
                                              TxId after = 0);

}  // namespace litekeep::storage
