// Finds the SQLite databases of a directory entry (`dir:` + `pattern:`,
// optionally `recursive:`); config/directory.h maps each to its replica.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"

namespace litekeep::replicate {

// Regular files under dir whose name matches the glob pattern and whose
// first bytes are the SQLite header; never -wal/-shm/-journal files or
// litekeep/litestream state directories. Sorted; absolute paths.
Result<std::vector<std::string>> FindDatabases(const std::string& dir,
                                               const std::string& pattern,
                                               bool recursive);

// Follows a watched directory entry cheaply enough for 10,000 databases:
// Poll rescans only when a directory's modification time changed (or is too
// recent to be trusted), reads the header only of files it has not seen
// yet, and re-checks files that match the pattern but had no SQLite header
// yet (a database being created).
class DirectoryScanner {
 public:
  DirectoryScanner(std::string dir, std::string pattern, bool recursive)
      : dir_(std::move(dir)),
        pattern_(std::move(pattern)),
        recursive_(recursive) {}
  // Databases found since the previous call (every one at the first).
  Result<std::vector<std::string>> Poll();

 private:
  bool Changed();
  std::string dir_;
  std::string pattern_;
  bool recursive_;
  std::unordered_set<std::string> known_;      // databases returned
  std::unordered_set<std::string> pending_;    // no SQLite header yet
  std::map<std::string, int64_t> dir_mtimes_;  // directory -> mtime (ns)
};

}  // namespace litekeep::replicate
