// End-to-end checks every replica backend's test runs the same way, with
// the real binary against a replica URL: point-in-time restores by TXID and
// by timestamp after four `replicate -once` runs, a restore equal to the
// source, and the VFS reading the replica like the source database.
// Failures are gtest failures.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace litekeep::testing {

// How ExpectPointInTimeRestores names the replica: by URL, or (when config
// is set) by a config file that config(db) writes for the database db.
struct PitrOptions {
  std::function<std::string(const std::string& db)> config;
  // Time between two points (more where the backend keeps whole-second
  // creation times, e.g. SFTP mtimes).
  std::chrono::milliseconds gap{30};
};

// Writes four transactions to a fresh database, replicating each with
// `replicate -once DB url` (or `-config`), then restores every point by
// `-txid` and by `-timestamp` and compares the content hashes. The replica
// must be empty.
void ExpectPointInTimeRestores(const std::string& url,
                               const PitrOptions& options = {});

// Checkpoints the source database db (TRUNCATE; nothing may be replicating
// it any more), restores `replica` (a replica URL or directory) to out with
// `litekeep restore`, and expects exit 0, a database that passes
// integrity_check, and the source's content and bytes.
void ExpectRestoresExactly(const std::string& replica, const std::string& db,
                           const std::string& out);

// Opens url through the litekeep VFS and expects the schema and page count
// of the source database db.
void ExpectVfsReadsLikeSource(const std::string& url, const std::string& db);

}  // namespace litekeep::testing
