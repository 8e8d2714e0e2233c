// Finds the SQLite databases of a directory entry (`dir:` + `pattern:`,
// optionally `recursive:`); config/directory.h maps each to its replica.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace litekeep::replicate {

// Regular files under dir whose name matches the glob pattern and whose
// first bytes are the SQLite header; never -wal/-shm/-journal files or
// litekeep/litestream state directories. Sorted; absolute paths.
Result<std::vector<std::string>> FindDatabases(const std::string& dir,
                                               const std::string& pattern,
                                               bool recursive);

}  // namespace litekeep::replicate
