// A deterministic application workload for end-to-end tests: many small
// transactions (inserts, updates, deletes), a table dropped and recreated,
// and a VACUUM, written through SQLite in WAL mode like a real app.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace litekeep::testing {

struct WorkloadOptions {
  int transactions = 20000;
  int drop_recreate_at = -1;  // transaction index, -1: never
  int vacuum_at = -1;         // transaction index, -1: never
  uint64_t seed = 1;
  // Called after each committed transaction with its index.
  std::function<void(int)> after_commit;
};

// Creates the schema if needed and runs the workload. Returns "" or an error.
std::string RunWorkload(const std::string& db_path, const WorkloadOptions& opts);

// SHA-256 over every table's rows (sorted by rowid) and the schema: a
// logical fingerprint of a database's content.
std::string ContentHash(const std::string& db_path);

}  // namespace litekeep::testing
