// Helpers for the VFS tests: loading build/litekeep.so into this process,
// opening a replica through the "litekeep" VFS, the fixed query set whose
// results are compared with the source database, and PRAGMA litekeep_stats
// parsing.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace litekeep::testing {

// $LITEKEEP_BUILD_DIR/litekeep.so.
std::string VfsLibPath();

// The queries compared between the source and the VFS (several tables and
// indexes, full scans, index range scans, aggregates, point lookups).
const std::vector<std::string>& VfsQueries();

// Percent-encodes text for a URI query parameter value.
std::string UriEscape(const std::string& text);

// "file:replica.db?vfs=litekeep&replica=<escaped url>" plus extra
// ("&name=value..." already escaped).
std::string VfsUri(const std::string& replica_url,
                   const std::string& extra = "");

// An open connection (closed by the destructor).
class Db {
 public:
  // Opens uri (SQLITE_OPEN_URI) with flags; loads litekeep.so first when the
  // URI names the litekeep VFS. error() says what failed.
  Db(const std::string& uri, int flags = SQLITE_OPEN_READONLY);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* get() const { return db_; }
  bool ok() const { return db_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }

  // Runs every statement of sql; all rows as "c1|c2\n" text, or "ERROR <code>: <message>".
  std::string Query(const std::string& sql);
  // The extended result code of the last failing Query (0 when none).
  int last_code() const { return last_code_; }
  // Every query of VfsQueries(), results concatenated.
  std::string Dump();

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
  int last_code_ = 0;
};

// One numeric field ("get", "list", ...) of PRAGMA litekeep_stats output.
int64_t StatField(const std::string& stats, const std::string& field);

}  // namespace litekeep::testing
