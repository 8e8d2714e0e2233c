// SQLite's WAL checkpointer lock, taken from outside SQLite (see shm_lock.h).
#include "sqlite/shm_lock.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace litekeep::sqlite {
namespace {

// SQLite's unix VFS: the lock bytes start at 120 (UNIX_SHM_BASE); the
// checkpointer lock is lock 1 (WAL_CKPT_LOCK).
constexpr off_t kCheckpointerLockByte = 120 + 1;

int SetLock(int fd, short type) {
  struct flock f;
  std::memset(&f, 0, sizeof(f));
  f.l_type = type;
  f.l_whence = SEEK_SET;
  f.l_start = kCheckpointerLockByte;
  f.l_len = 1;
  return ::fcntl(fd, F_SETLK, &f);
}

}  // namespace

Result<bool> HoldCheckpointerLock(const base::File& shm,
                                  std::chrono::microseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (SetLock(shm.fd(), F_WRLCK) == 0) return true;
    if (errno != EAGAIN && errno != EACCES) {
      return base::IoError(std::string("locking the WAL index: ") +
                           std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void DropCheckpointerLock(const base::File& shm) { SetLock(shm.fd(), F_UNLCK); }

}  // namespace litekeep::sqlite
