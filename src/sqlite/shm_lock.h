// SQLite's WAL checkpointer lock, taken from outside SQLite for this process.
//
// SQLite's unix VFS guards a checkpoint with an exclusive POSIX record lock
// on byte 121 of "<db>-shm" (120 + WAL_CKPT_LOCK). POSIX record locks belong
// to the process, not to a file descriptor: while this process holds that
// byte, a checkpoint in another process (the application's automatic
// checkpoint after a commit) reports busy and skips, and a checkpoint by a
// connection of this process takes the lock as its own and releases it when
// it ends. docs/architecture.md, "Checkpoints", says why litekeep does this.
#pragma once

#include <chrono>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::sqlite {

// Tries for up to `wait` to take the checkpointer lock for this process
// through `shm` ("<db>-shm" open for reading and writing). Returns true when
// held, false when another process kept it for the whole wait. The lock ends
// when a connection of this process ends a checkpoint of the database, or at
// DropCheckpointerLock.
Result<bool> HoldCheckpointerLock(const base::File& shm,
                                  std::chrono::microseconds wait);

// Releases this process's checkpointer lock. Call it only when no connection
// of this process is inside a checkpoint of the database (its lock would be
// released too). Never close `shm` while this process has the database open:
// closing any descriptor of a file drops every POSIX lock the process holds
// on it, SQLite's included.
void DropCheckpointerLock(const base::File& shm);

}  // namespace litekeep::sqlite
