// The per-host lock that makes one `replicate` process the only writer of a
// database's replica from this machine: an flock(2) on <meta>/lock, held for
// as long as the Replicator is open, with the holder's pid written inside so
// a refused second process can name it (docs/architecture.md, "Lineage
// guard").
#pragma once

#include <string>

#include "base/status.h"

namespace litekeep::replicate {

class StateLock {
 public:
  // Takes the lock on <meta_dir>/lock without waiting. kFailedPrecondition
  // naming db_path and the holder's pid when another process holds it.
  static Result<StateLock> Acquire(const std::string& meta_dir,
                                   const std::string& db_path);
  StateLock() = default;
  StateLock(StateLock&& o) noexcept;
  StateLock& operator=(StateLock&& o) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

  bool held() const { return fd_ >= 0; }
  // Releases the lock (also done by the destructor).
  void Release();

 private:
  int fd_ = -1;
};

}  // namespace litekeep::replicate
