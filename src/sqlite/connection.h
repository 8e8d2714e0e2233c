// A thin RAII wrapper over a sqlite3 connection (the program's SQLite: the
// amalgamation in the binary, the host's in litekeep.so):
// open, execute, checkpoint, with errors as Status values naming the
// database.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"

struct sqlite3;

namespace litekeep::sqlite {

enum class CheckpointMode { kPassive, kFull, kRestart, kTruncate };

struct CheckpointResult {
  int log_frames = 0;           // frames in the WAL
  int checkpointed_frames = 0;  // frames copied back into the database
  bool busy = false;            // could not complete (readers/writers)
  bool complete() const { return !busy && log_frames == checkpointed_frames; }
};

class Connection {
 public:
  Connection() = default;
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Opens an existing database read-write. The connection never checkpoints
  // on close (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE) and keeps the WAL file
  // (SQLITE_FCNTL_PERSIST_WAL), so closing it never changes the WAL.
  static Result<Connection> Open(const std::string& path,
                                 std::chrono::milliseconds busy_timeout);

  // Replaces the busy timeout with a handler that retries every 50 us up to
  // timeout: a lock the application releases only for microseconds between
  // back-to-back transactions is still caught (SQLite's default handler
  // sleeps for milliseconds and can miss every gap).
  void SetPollingBusyHandler(std::chrono::milliseconds timeout);

  // Runs SQL with no result rows.
  Status Exec(const std::string& sql);
  // Runs SQL and returns the first column of the first row as text.
  Result<std::string> QueryText(const std::string& sql);
  Result<CheckpointResult> Checkpoint(CheckpointMode mode);
  void Close();

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Status Error(const std::string& what, int rc) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  int busy_polls_ = 0;  // retries allowed by SetPollingBusyHandler
};

}  // namespace litekeep::sqlite
