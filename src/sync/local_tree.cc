// LocalTree: openat/mkdirat/renameat below the destination root, so that a
// symbolic link placed inside the tree cannot redirect a write elsewhere.
#include "sync/local_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <vector>

namespace litekeep::sync {
namespace {

std::vector<std::string> Split(const std::string& rel) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    parts.push_back(rel.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  uint64_t v = rng();
  for (int i = 0; i < 12; ++i, v >>= 4) s.push_back(kHex[v & 15]);
  return s;
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

mode_t FileMode() {
  // umask can only be read by setting it; do it once.
  static const mode_t mode = [] {
    mode_t old = ::umask(022);
    ::umask(old);
    return static_cast<mode_t>(0644 & ~old);
  }();
  return mode;
}

}  // namespace

int64_t ToNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

Status LocalTree::Init() { return base::MakeDirs(root_); }

Result<int> LocalTree::OpenParent(const std::string& rel, bool create,
                                  std::string* base) const {
  std::vector<std::string> parts = Split(rel);
  *base = parts.back();
  int dir = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return base::ErrnoError("open " + root_, errno);
  std::string where = root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    where += "/" + parts[i];
    int next = ::openat(dir, parts[i].c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (::mkdirat(dir, parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        int err = errno;
        ::close(dir);
        return base::ErrnoError("create directory " + where, err);
      }
      next = ::openat(dir, parts[i].c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    int err = errno;
    ::close(dir);
    if (next < 0) {
      if (err == ELOOP || err == ENOTDIR) {
        struct stat st;
        bool link = ::lstat(where.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
        return base::FailedPreconditionError(
            where + (link ? " is a symbolic link (never followed)"
                          : " is a file where a directory is needed"));
      }
      if (err == ENOENT) return base::NotFoundError(where + ": not found");
      return base::ErrnoError("open directory " + where, err);
    }
    dir = next;
  }
  return dir;
}

Status LocalTree::WriteFile(const std::string& rel, base::Reader& data,
                            int64_t size, TimePoint modified) {
  std::string name;
  LK_ASSIGN_OR_RETURN(int dirfd, OpenParent(rel, true, &name));
  Fd dir{dirfd};
  const std::string path = root_ + "/" + rel;
  std::string tmp;
  Fd out;
  for (int attempt = 0; attempt < 16 && out.fd < 0; ++attempt) {
    tmp = std::string(kTempPrefix) + RandomSuffix();
    out.fd =
        ::openat(dir.fd, tmp.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out.fd < 0 && errno != EEXIST) {
      return base::ErrnoError("create temporary file for " + path, errno);
    }
  }
  if (out.fd < 0) {
    return base::IoError("create temporary file for " + path +
                         ": no free name");
  }
  auto fail = [&](Status s) {
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    return s;
  };
  std::vector<uint8_t> buf(1 << 18);
  int64_t got = 0;
  for (;;) {
    auto n = data.Read(buf);
    if (!n.ok()) return fail(n.status());
    if (*n == 0) break;
    got += static_cast<int64_t>(*n);
    if (got > size) break;
    for (size_t off = 0; off < *n;) {
      ssize_t w = ::write(out.fd, buf.data() + off, *n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(base::ErrnoError("write " + path, errno));
      }
      off += static_cast<size_t>(w);
    }
  }
  if (got != size) {
    return fail(base::UnavailableError(
        "object for " + path + " changed while it was read (listed " +
        std::to_string(size) + " bytes, read " +
        (got > size ? "more" : std::to_string(got)) + ")"));
  }
  if (::fchmod(out.fd, FileMode()) != 0) {
    return fail(base::ErrnoError("chmod " + path, errno));
  }
  const int64_t ns = ToNanos(modified);
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(ns / 1000000000);
  times[1].tv_nsec = static_cast<long>(ns % 1000000000);
  if (ns > 0 && ::futimens(out.fd, times) != 0) {
    return fail(base::ErrnoError("set mtime of " + path, errno));
  }
  if (::fsync(out.fd) != 0)
    return fail(base::ErrnoError("fsync " + path, errno));
  int fd = out.fd;
  out.fd = -1;
  if (::close(fd) != 0) return fail(base::ErrnoError("close " + path, errno));
  if (::renameat(dir.fd, tmp.c_str(), dir.fd, name.c_str()) != 0) {
    int err = errno;
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
      return fail(base::FailedPreconditionError(
          path + " is a directory where a file is needed"));
    }
    return fail(base::ErrnoError("rename into " + path, err));
  }
  if (::fsync(dir.fd) != 0) {
    return base::ErrnoError("fsync directory of " + path, errno);
  }
  return Status::Ok();
}

LocalFile LocalTree::Stat(const std::string& rel) const {
  LocalFile f;
  struct stat st;
  if (::lstat((root_ + "/" + rel).c_str(), &st) != 0) return f;
  f.exists = true;
  f.regular = S_ISREG(st.st_mode);
  f.size = st.st_size;
  f.mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return f;
}

Status LocalTree::Remove(const std::string& rel) {
  std::string name;
  auto dirfd = OpenParent(rel, false, &name);
  if (!dirfd.ok()) {
    return dirfd.status().code() == base::Code::kNotFound ? Status::Ok()
                                                          : dirfd.status();
  }
  Fd dir{*dirfd};
  if (::unlinkat(dir.fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return base::ErrnoError("remove " + root_ + "/" + rel, errno);
  }
  // Parent directories that became empty (rmdir refuses non-empty ones).
  std::string parent = rel;
  for (size_t slash; (slash = parent.rfind('/')) != std::string::npos;) {
    parent.resize(slash);
    if (::rmdir((root_ + "/" + parent).c_str()) != 0) break;
  }
  return Status::Ok();
}

Status LocalTree::Walk(
    const std::function<void(const std::string& rel)>& fn) const {
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(root_, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (ec) break;
    if (type == std::filesystem::file_type::directory) continue;
    fn(it->path().string().substr(root_.size() + 1));
  }
  if (ec) return base::IoError("walk " + root_ + ": " + ec.message());
  return Status::Ok();
}

}  // namespace litekeep::sync
