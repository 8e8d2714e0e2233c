// Wake-on-change: waits until the database's WAL file is written (inotify on
// its directory, so a recreated WAL is seen too), with a timeout as the
// polling fallback.
#pragma once

#include <chrono>
#include <string>

namespace litekeep::replicate {

class WalWatcher {
 public:
  // Watches "<db_path>-wal". If inotify is unavailable, Wait just sleeps.
  explicit WalWatcher(const std::string& db_path);
  ~WalWatcher();
  WalWatcher(const WalWatcher&) = delete;
  WalWatcher& operator=(const WalWatcher&) = delete;

  // Returns when the WAL changed, the timeout passed, or Interrupt() was
  // called. Returns true when a change was seen.
  bool Wait(std::chrono::milliseconds timeout);
  // Wakes a Wait (thread-safe, async-signal-safe).
  void Interrupt();

 private:
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd
  std::string wal_name_;
};

}  // namespace litekeep::replicate
