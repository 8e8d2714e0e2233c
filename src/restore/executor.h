// Restore execution: apply a plan's LTX files in TXID order into
// "<output>.tmp", fsync, optionally check integrity, and rename into place.
// Memory stays bounded (one page plus one file's page index) whatever the
// database size. On any error no output file is left behind.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "restore/planner.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

enum class IntegrityCheck { kNone, kQuick, kFull };

// Parses "none", "quick", "full".
Result<IntegrityCheck> ParseIntegrityCheck(const std::string& text);

struct ExecuteOptions {
  std::string output;  // final database path
  bool force = false;  // replace an existing output
  IntegrityCheck integrity = IntegrityCheck::kQuick;
  int parallelism = 8;  // files downloaded ahead of the one being applied
  // Called after each file is applied (files done, bytes done).
  std::function<void(size_t, int64_t)> progress;
};

struct ExecuteResult {
  TxId txid = 0;
  uint32_t page_size = 0;
  uint32_t pages = 0;  // database size in pages
  int64_t bytes_read = 0;
};

// Runs SQLite's quick_check or integrity_check (none: nothing) on the
// database at path; kCorrupt listing what SQLite reports.
Status CheckIntegrity(const std::string& path, IntegrityCheck mode);

// The last steps of every restore (LTX and Litestream 0.3): checks the
// fsync'd database at tmp_path, removes a stale <output>-wal/-shm, renames
// tmp_path to output and fsyncs the directory. On error tmp_path is left for
// the caller to remove.
Status FinalizeOutput(const std::string& tmp_path, const std::string& output,
                      IntegrityCheck integrity);

Result<ExecuteResult> Execute(storage::ReplicaClient& replica, const Plan& plan,
                              const ExecuteOptions& options);

}  // namespace litekeep::restore
