// What `status` and the metrics report about one database, read from local
// state only (no replica access): the replicated position
// (<meta>/position.json), whether the WAL holds committed transactions
// beyond it, the WAL size, and the replicate process's own record of its
// last success and last error (<meta>/status.json, written on changes only).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "base/types.h"
#include "replicate/position.h"

namespace litekeep::replicate {

// The replicate process's record for one database, kept in
// <meta>/status.json. Written when the state changes (start, first success,
// an error, recovery, stop), never once per sync.
struct RunRecord {
  int64_t pid = 0;
  TimePoint started{};
  TimePoint last_ok{};       // last successful sync when the record was written
  TimePoint last_error_at{};
  std::string last_error;    // empty: the last sync succeeded
  TimePoint stopped{};       // set by a clean stop
  bool operator==(const RunRecord&) const = default;
};

std::optional<RunRecord> LoadRunRecord(const std::string& meta_dir);
Status SaveRunRecord(const std::string& meta_dir, const RunRecord& record);

struct LocalStatus {
  std::string db_path;
  bool db_exists = false;
  std::optional<Position> position;
  TimePoint position_saved{};  // when position.json was last written
  int64_t wal_size = 0;        // bytes (0: no WAL file)
  // Committed transactions the replica does not hold yet (or continuity
  // lost: the next sync writes a snapshot).
  bool pending = false;
  TxId replicated_txid = 0;
  TxId local_txid = 0;  // replicated + 1 when pending (one sync = one TXID)
};

// Computes the status from a known position (nullopt: nothing replicated).
LocalStatus ComputeLocalStatus(const std::string& db_path,
                               const std::optional<Position>& position);
// Reads <meta_dir>/position.json and computes the status.
LocalStatus ReadLocalStatus(const std::string& db_path,
                            const std::string& meta_dir);

}  // namespace litekeep::replicate
