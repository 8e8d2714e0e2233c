// POSIX file helpers behind base/io.h.
#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace litekeep::base {

Status Reader::ReadFull(std::span<uint8_t> buf) {
  size_t done = 0;
  while (done < buf.size()) {
    LK_ASSIGN_OR_RETURN(size_t n, Read(buf.subspan(done)));
    if (n == 0) {
      return CorruptError("unexpected end of data after " +
                          std::to_string(done) + " of " +
                          std::to_string(buf.size()) + " bytes");
    }
    done += n;
  }
  return Status::Ok();
}

Result<size_t> SpanReader::Read(std::span<uint8_t> buf) {
  size_t n = std::min(buf.size(), data_.size() - pos_);
  if (n > 0) std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<size_t> BufferedReader::Read(std::span<uint8_t> buf) {
  if (buf.empty()) return size_t{0};
  if (pos_ == len_) {
    if (buf.size() >= buf_.size()) return in_->Read(buf);  // large: bypass
    LK_ASSIGN_OR_RETURN(len_, in_->Read(buf_));
    pos_ = 0;
    if (len_ == 0) return size_t{0};
  }
  size_t n = std::min(buf.size(), len_ - pos_);
  std::memcpy(buf.data(), buf_.data() + pos_, n);
  pos_ += n;
  return n;
}

Status StringWriter::Write(std::span<const uint8_t> data) {
  out_->append(reinterpret_cast<const char*>(data.data()), data.size());
  return Status::Ok();
}

File::File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<File> File::Open(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("open " + path, errno);
  return File(fd, path);
}

Result<File> File::CreatePrivate(const std::string& path) {
  ::unlink(path.c_str());
  return Open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
}

Result<size_t> File::ReadAt(void* buf, size_t n, int64_t offset) const {
  size_t done = 0;
  auto* p = static_cast<uint8_t*>(buf);
  while (done < n) {
    ssize_t r = ::pread(fd_, p + done, n - done, offset + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path_, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status File::ReadFullAt(void* buf, size_t n, int64_t offset) const {
  LK_ASSIGN_OR_RETURN(size_t got, ReadAt(buf, n, offset));
  if (got != n) {
    return CorruptError(path_ + ": file ends at offset " +
                        std::to_string(offset + got) + ", expected " +
                        std::to_string(n) + " bytes at offset " +
                        std::to_string(offset));
  }
  return Status::Ok();
}

Status File::WriteAt(const void* buf, size_t n, int64_t offset) {
  size_t done = 0;
  const auto* p = static_cast<const uint8_t*>(buf);
  while (done < n) {
    ssize_t r = ::pwrite(fd_, p + done, n - done, offset + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path_, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Status File::WriteAll(const void* buf, size_t n) {
  size_t done = 0;
  const auto* p = static_cast<const uint8_t*>(buf);
  while (done < n) {
    ssize_t r = ::write(fd_, p + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path_, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Result<int64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoError("stat " + path_, errno);
  return static_cast<int64_t>(st.st_size);
}

Status File::Truncate(int64_t size) {
  if (::ftruncate(fd_, size) != 0) return ErrnoError("truncate " + path_, errno);
  return Status::Ok();
}

Status File::Sync() {
  if (::fsync(fd_) != 0) return ErrnoError("fsync " + path_, errno);
  return Status::Ok();
}

Status File::Close() {
  if (fd_ < 0) return Status::Ok();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoError("close " + path_, errno);
  return Status::Ok();
}

Result<size_t> FileReader::Read(std::span<uint8_t> buf) {
  size_t want = buf.size();
  if (end_ >= 0) want = std::min<int64_t>(want, std::max<int64_t>(0, end_ - pos_));
  if (want == 0) return size_t{0};
  LK_ASSIGN_OR_RETURN(size_t n, file_.ReadAt(buf.data(), want, pos_));
  pos_ += static_cast<int64_t>(n);
  return n;
}

Status FileWriter::Write(std::span<const uint8_t> data) {
  return file_->WriteAll(data.data(), data.size());
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync directory " + dir, err);
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path) {
  LK_ASSIGN_OR_RETURN(File f, File::Open(path, O_RDONLY));
  LK_ASSIGN_OR_RETURN(int64_t size, f.Size());
  std::string out(static_cast<size_t>(size), '\0');
  LK_ASSIGN_OR_RETURN(size_t n, f.ReadAt(out.data(), out.size(), 0));
  out.resize(n);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    ::unlink(tmp.c_str());  // a leftover; never follow a planted symlink
    LK_ASSIGN_OR_RETURN(
        File f, File::Open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW));
    LK_RETURN_IF_ERROR(f.WriteAll(data.data(), data.size()));
    LK_RETURN_IF_ERROR(f.Sync());
    LK_RETURN_IF_ERROR(f.Close());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoError("rename " + tmp + " to " + path, errno);
  }
  return SyncDir(DirName(path));
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return Status::Ok();
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = path.find('/', pos + 1);
    cur = path.substr(0, next);
    pos = next;
    if (cur.empty() || cur == "/") continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoError("create directory " + cur, errno);
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return IoError("create directory " + path + ": not a directory");
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace litekeep::base
