// sqlite3 connection wrapper.
#include "sqlite/connection.h"

#include <sqlite3.h>

#include <unistd.h>

#include <utility>

namespace litekeep::sqlite {

Connection::Connection(Connection&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    Close();
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

Status Connection::Error(const std::string& what, int rc) const {
  std::string msg = path_ + ": " + what + ": " +
                    (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return base::UnavailableError(msg);
  }
  if (primary == SQLITE_CANTOPEN) return base::NotFoundError(msg);
  if (primary == SQLITE_PERM || primary == SQLITE_READONLY ||
      primary == SQLITE_AUTH) {
    return base::PermissionDeniedError(msg);
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return base::CorruptError(msg);
  }
  return base::IoError(msg);
}

Result<Connection> Connection::Open(const std::string& path,
                                    std::chrono::milliseconds busy_timeout) {
  Connection c;
  c.path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &c.db_, SQLITE_OPEN_READWRITE,
                           nullptr);
  if (rc != SQLITE_OK) return c.Error("open", rc);
  sqlite3_busy_timeout(c.db_, static_cast<int>(busy_timeout.count()));
  sqlite3_db_config(c.db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  int persist = 1;
  sqlite3_file_control(c.db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  // Our connections never write, but make sure they never auto-checkpoint.
  sqlite3_wal_autocheckpoint(c.db_, 0);
  return c;
}

void Connection::SetPollingBusyHandler(std::chrono::milliseconds timeout) {
  busy_polls_ = static_cast<int>(timeout.count() * 20);  // 50 us each
  sqlite3_busy_handler(
      db_,
      [](void* arg, int count) -> int {
        auto* self = static_cast<Connection*>(arg);
        if (count >= self->busy_polls_) return 0;
        ::usleep(50);
        return 1;
      },
      this);
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(sql, rc);
  return Status::Ok();
}

Result<std::string> Connection::QueryText(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(sql, rc);
  std::string out;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    if (t != nullptr) out = reinterpret_cast<const char*>(t);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  Status s = rc == SQLITE_OK ? Status::Ok() : Error(sql, rc);
  sqlite3_finalize(stmt);
  if (!s.ok()) return s;
  return out;
}

Result<CheckpointResult> Connection::Checkpoint(CheckpointMode mode) {
  int m = SQLITE_CHECKPOINT_PASSIVE;
  switch (mode) {
    case CheckpointMode::kPassive: m = SQLITE_CHECKPOINT_PASSIVE; break;
    case CheckpointMode::kFull: m = SQLITE_CHECKPOINT_FULL; break;
    case CheckpointMode::kRestart: m = SQLITE_CHECKPOINT_RESTART; break;
    case CheckpointMode::kTruncate: m = SQLITE_CHECKPOINT_TRUNCATE; break;
  }
  CheckpointResult r;
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", m, &r.log_frames,
                                     &r.checkpointed_frames);
  if (rc == SQLITE_BUSY) {
    r.busy = true;
    return r;
  }
  if (rc != SQLITE_OK) return Error("checkpoint", rc);
  return r;
}

}  // namespace litekeep::sqlite
