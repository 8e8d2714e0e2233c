// The lineage guard (docs/architecture.md, "Lineage guard"): which replica
// state a local database file descends from. A database file is known by
// its identity (device, inode and, where the file system keeps it, birth
// time); <meta>/lineage.json records which replica and TXID that file was
// restored from or was last replicating to. `replicate` continues a history
// only for a database that provably descends from the replica's newest
// state, so an unrelated or older database never buries a good backup.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::replicate {

// Which file a path or descriptor names. btime_ns is 0 when the file system
// does not report a birth time.
struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t btime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// kNotFound when path does not exist.
Result<FileIdentity> IdentifyPath(const std::string& path);
Result<FileIdentity> IdentifyFd(int fd);

// What <meta>/lineage.json says about the database file beside it.
struct LineageRecord {
  std::string replica;  // ReplicaClient::Describe() of the replica
  TxId txid = 0;        // the replica state the file held when recorded
  FileIdentity file;    // the database file it was recorded for
  std::string source;   // "restore" or "replicate"
  int64_t recorded_ms = 0;
};

std::optional<LineageRecord> LoadLineage(const std::string& meta_dir);
Status SaveLineage(const std::string& meta_dir, const LineageRecord& record);

// Records that db_path now holds the replica's state at txid (called by
// restore once the file is in place). Creates meta_dir.
Status RecordRestoredLineage(const std::string& db_path,
                             const std::string& meta_dir,
                             const std::string& replica, TxId txid);

// The replica's newest state, from its newest file.
struct ReplicaTip {
  TxId txid = 0;  // 0: the replica holds no LTX file
  storage::FileInfo file;
  uint32_t page_size = 0;
  uint32_t commit = 0;  // database size in pages at txid
  // The post-apply checksum when the newest file carries one (files without
  // the NoChecksum flag, docs/format.md §6).
  std::optional<uint64_t> checksum;
  int64_t db_size() const { return int64_t{page_size} * commit; }
};

// Lists every level and reads the newest file's header and trailer (a
// damaged header leaves page_size, commit and checksum unset).
Result<ReplicaTip> ReadReplicaTip(storage::ReplicaClient& replica);

// Database checksum (docs/format.md §6) of the committed image of db_path:
// the pages of the database file overlaid with the last committed frames of
// its WAL. Call while holding a read transaction, so no checkpoint moves
// pages under the scan. size_out receives the image's size in bytes.
Result<uint64_t> LocalImageChecksum(const base::File& db,
                                    const std::string& db_path,
                                    int64_t* size_out);

// Computes the database checksum of the replica's state at a TXID by
// restoring it somewhere private (supplied by the CLI, which may use the
// restore module; replicate does not depend on it).
using ReplicaStateChecksum =
    std::function<Result<uint64_t>(storage::ReplicaClient&, TxId)>;

// The previous history's newest TXID kept from retention after a deliberate
// new history (<meta>/history-hold.json); nullopt when there is none.
std::optional<TxId> LoadHistoryHold(const std::string& meta_dir);
Status SaveHistoryHold(const std::string& meta_dir, TxId txid,
                       const std::string& replica);

}  // namespace litekeep::replicate
