// inotify-based WAL change notification.
#include "replicate/wal_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/io.h"

namespace litekeep::replicate {

WalWatcher::WalWatcher(const std::string& db_path)
    : wal_name_(base::BaseName(db_path) + "-wal") {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ >= 0 &&
      ::inotify_add_watch(inotify_fd_, base::DirName(db_path).c_str(),
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
  }
}

WalWatcher::~WalWatcher() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void WalWatcher::Interrupt() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

bool WalWatcher::Wait(std::chrono::milliseconds timeout) {
  if (inotify_fd_ < 0 || wake_fd_ < 0) {
    std::this_thread::sleep_for(timeout);
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(left.count()));
    if (rc <= 0) return false;
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof(v));
      return false;
    }
    alignas(inotify_event) char buf[4096];
    ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
    bool hit = false;
    for (ssize_t off = 0; off < n;) {
      auto* ev = reinterpret_cast<inotify_event*>(buf + off);
      if (ev->len > 0 && wal_name_ == ev->name) hit = true;
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
    if (hit) return true;
  }
}

}  // namespace litekeep::replicate
