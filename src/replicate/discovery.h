// Finds the SQLite databases of a directory entry (`dir:` + `pattern:`,
// optionally `recursive:`), and maps each to its own replica location.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace litekeep::replicate {

// Regular files under dir whose name matches the glob pattern and whose
// first bytes are the SQLite header; never -wal/-shm/-journal files or
// litekeep/litestream state directories. Sorted; absolute paths.
Result<std::vector<std::string>> FindDatabases(const std::string& dir,
                                               const std::string& pattern,
                                               bool recursive);

// The replica for one database found under a directory entry: the entry's
// replica with the database's path relative to dir appended to its path.
config::ReplicaConfig ReplicaForDatabase(const config::ReplicaConfig& base,
                                         const std::string& dir,
                                         const std::string& db_path);

}  // namespace litekeep::replicate
