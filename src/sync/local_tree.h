// The destination directory of `litekeep sync`: creating files atomically
// (private temporary name in the same directory, fsync, rename), creating
// directories as needed, never following a symbolic link below the root,
// and removing files (docs/sync.md, "Atomic files").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::sync {

// Names starting with this are our temporary files (left behind only by a
// crash; the next first pass removes them).
inline constexpr std::string_view kTempPrefix = ".litekeep-tmp-";

// What lstat says about a local file.
struct LocalFile {
  bool exists = false;
  bool regular = false;  // a regular file (not a link, directory, ...)
  int64_t size = 0;
  int64_t mtime_ns = 0;  // since the epoch
};

class LocalTree {
 public:
  // root: the destination directory (created when missing).
  explicit LocalTree(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // Creates the root directory if needed.
  Status Init();

  // Writes rel (a checked '/'-separated relative path) from data: exactly
  // size bytes (more or fewer is kUnavailable: the object changed while it
  // was read), mode 0644 less the umask, mtime set to modified. Parent
  // directories are created; a symbolic link or a file in the way is an
  // error naming it. Readers see the old file or the whole new one.
  Status WriteFile(const std::string& rel, base::Reader& data, int64_t size,
                   TimePoint modified);

  // lstat of rel (no link followed at the last component).
  LocalFile Stat(const std::string& rel) const;

  // Removes the file rel (missing is fine), then its parent directories
  // below the root that became empty.
  Status Remove(const std::string& rel);

  // Calls fn(rel, is_regular_or_link) for every non-directory entry below
  // the root, without following links.
  Status Walk(const std::function<void(const std::string& rel)>& fn) const;

 private:
  // Opens (creating as needed) the directory that holds rel; returns its fd
  // and sets *base to rel's last component.
  Result<int> OpenParent(const std::string& rel, bool create,
                         std::string* base) const;

  std::string root_;
};

// mtime in nanoseconds since the epoch, as LocalFile reports it.
int64_t ToNanos(TimePoint t);

}  // namespace litekeep::sync
