// flock(2)-based local lock for one replicated database.
#include "replicate/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace litekeep::replicate {

Result<StateLock> StateLock::Acquire(const std::string& meta_dir,
                                     const std::string& db_path) {
  const std::string path = meta_dir + "/lock";
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return base::ErrnoError("open lock file " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return base::ErrnoError("lock " + path, err);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
      holder.pop_back();
    }
    return base::FailedPreconditionError(
        "database " + db_path + " is already being replicated by process " +
        (holder.empty() ? std::string("(pid unknown)") : "pid " + holder) +
        " on this host (lock " + path +
        "); two replicators of one database corrupt its replica: stop the "
        "other one first");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return base::ErrnoError("write lock file " + path, err);
  }
  StateLock lock;
  lock.fd_ = fd;
  return lock;
}

StateLock::StateLock(StateLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

StateLock& StateLock::operator=(StateLock&& o) noexcept {
  if (this != &o) {
    Release();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() { Release(); }

void StateLock::Release() {
  if (fd_ < 0) return;
  ::close(fd_);  // closing the only descriptor drops the flock
  fd_ = -1;
}

}  // namespace litekeep::replicate
