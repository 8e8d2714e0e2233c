// Local-directory replica backend.
#include "storage/file/file_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "base/crc64.h"
#include "ltx/file_name.h"
#include "storage/layout.h"

namespace litekeep::storage {
namespace {

std::atomic<uint64_t> g_tmp_counter{0};

// Opens a replica file for reading without blocking (a FIFO planted under
// an LTX name must not hang a restore) and refuses anything but a regular
// file.
Result<base::File> OpenRegular(const std::string& path) {
  LK_ASSIGN_OR_RETURN(base::File f,
                      base::File::Open(path, O_RDONLY | O_NONBLOCK));
  struct stat st;
  if (::fstat(f.fd(), &st) != 0) return base::ErrnoError("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) {
    return base::CorruptError(path + " is not a regular file");
  }
  return f;
}

}  // namespace

FileReplicaClient::FileReplicaClient(std::string root)
    : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::vector<FileInfo>> FileReplicaClient::ListFiles(int level) {
  ++lists_;
  std::vector<FileInfo> out;
  std::string dir = LtxLevelDir(root_, level);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    ++list_errors_;
    return base::ErrnoError("list replica directory " + dir, errno);
  }
  while (dirent* e = ::readdir(d)) {
    auto range = ltx::ParseFileName(e->d_name);
    if (!range) continue;  // temporary files and strangers are not listed
    std::string path = dir + "/" + e->d_name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // deleted meanwhile
    if (!S_ISREG(st.st_mode)) continue;  // FIFOs, directories, devices
    FileInfo info;
    info.level = level;
    info.min_txid = range->min_txid;
    info.max_txid = range->max_txid;
    info.size = st.st_size;
    info.created = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) +
        std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    out.push_back(info);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                    : a.max_txid < b.max_txid;
  });
  return out;
}

Result<std::unique_ptr<base::Reader>> FileReplicaClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  ++gets_;
  std::string path = LtxFilePath(root_, level, min_txid, max_txid);
  auto f = OpenRegular(path);
  if (!f.ok()) {
    ++get_errors_;
    return f.status();
  }
  return std::unique_ptr<base::Reader>(
      new base::FileReader(std::move(*f), offset, length));
}

base::Status FileReplicaClient::WriteFile(const FileInfo& info,
                                          base::Reader& data) {
  return Write(info, data, nullptr);
}

base::Status FileReplicaClient::Write(const FileInfo& info, base::Reader& data,
                                      const PublishFence* fence) {
  ++puts_;
  std::string dir = LtxLevelDir(root_, info.level);
  if (base::Status made = base::MakeDirs(dir); !made.ok()) {
    ++put_errors_;
    return made;
  }
  std::string path =
      LtxFilePath(root_, info.level, info.min_txid, info.max_txid);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(g_tmp_counter.fetch_add(1));
  auto write = [&]() -> base::Status {
    LK_ASSIGN_OR_RETURN(
        base::File f,
        // Replica files hold the database's pages: owner-only, like the
        // restored database (docs/storage_layout.md).
        base::File::Open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
    std::vector<uint8_t> buf(1 << 20);
    int64_t written = 0;
    for (;;) {
      LK_ASSIGN_OR_RETURN(size_t n, data.Read(buf));
      if (n == 0) break;
      LK_RETURN_IF_ERROR(f.WriteAll(buf.data(), n));
      written += static_cast<int64_t>(n);
    }
    if (written != info.size) {
      return base::InvalidArgumentError(
          "write " + path + ": expected " + std::to_string(info.size) +
          " bytes but the data ended after " + std::to_string(written));
    }
    LK_RETURN_IF_ERROR(f.Sync());
    if (info.created != TimePoint{}) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    info.created.time_since_epoch())
                    .count();
      struct timespec times[2];
      times[0].tv_sec = times[1].tv_sec = ns / 1000000000;
      times[0].tv_nsec = times[1].tv_nsec = ns % 1000000000;
      if (::futimens(f.fd(), times) != 0) {
        return base::ErrnoError("set time of " + tmp, errno);
      }
    }
    LK_RETURN_IF_ERROR(f.Close());
    auto publish = [&]() -> base::Status {
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        return base::ErrnoError("rename " + tmp + " to " + path, errno);
      }
      return base::Status::Ok();
    };
    LK_RETURN_IF_ERROR(fence != nullptr ? UnderFence(*fence, publish)
                                        : publish());
    return base::SyncDir(dir);
  };
  base::Status s = write();
  if (!s.ok()) {
    ++put_errors_;
    ::unlink(tmp.c_str());
  }
  return s;
}

base::Status FileReplicaClient::DeleteFiles(
    const std::vector<FileInfo>& files) {
  return Delete(files, nullptr);
}

base::Status FileReplicaClient::Delete(const std::vector<FileInfo>& files,
                                       const PublishFence* fence) {
  std::vector<std::string> dirs;
  auto unlink_all = [&]() -> base::Status {
    for (const auto& f : files) {
      ++dels_;
      std::string path = LtxFilePath(root_, f.level, f.min_txid, f.max_txid);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        ++del_errors_;
        return base::ErrnoError("delete " + path, errno);
      }
      std::string dir = LtxLevelDir(root_, f.level);
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end())
        dirs.push_back(dir);
    }
    return base::Status::Ok();
  };
  LK_RETURN_IF_ERROR(fence != nullptr ? UnderFence(*fence, unlink_all)
                                      : unlink_all());
  for (const auto& dir : dirs) {
    base::Status s = base::SyncDir(dir);
    if (!s.ok() && s.code() != base::Code::kNotFound) return s;
  }
  return base::Status::Ok();
}

base::Status FileReplicaClient::DeleteAll() {
  std::error_code ec;
  const std::string dir = LtxDir(root_);
  std::filesystem::remove_all(dir, ec);
  if (ec) return base::IoError("delete " + dir + ": " + ec.message());
  return base::Status::Ok();
}

Result<std::vector<ObjectInfo>> FileReplicaClient::ListObjects(
    const std::string& prefix) {
  ++lists_;
  std::vector<ObjectInfo> out;
  // Walk the deepest directory the prefix names; filter by the full prefix.
  const size_t slash = prefix.rfind('/');
  const std::string rel_dir =
      slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
  const std::string dir = root_ + "/" + rel_dir;
  std::error_code ec;
  auto list_error = [&] {
    ++list_errors_;
    return base::IoError("list replica directory " + dir + ": " + ec.message());
  };
  if (!std::filesystem::is_directory(dir, ec)) return out;
  auto it = std::filesystem::recursive_directory_iterator(dir, ec);
  if (ec) return list_error();
  for (; it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) return list_error();
    std::string path = it->path().string();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::string key = path.substr(root_.size() + 1);
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    ObjectInfo info;
    info.key = std::move(key);
    info.size = st.st_size;
    info.modified = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) +
        std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    out.push_back(std::move(info));
  }
  if (ec) return list_error();
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::unique_ptr<base::Reader>> FileReplicaClient::OpenObject(
    const std::string& key) {
  ++gets_;
  if (key.empty() || key.front() == '/' ||
      key.find("..") != std::string::npos) {
    ++get_errors_;
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  auto f = OpenRegular(root_ + "/" + key);
  if (!f.ok()) {
    ++get_errors_;
    return f.status();
  }
  return std::unique_ptr<base::Reader>(new base::FileReader(std::move(*f)));
}

namespace {

// A key names a file below the root: no absolute paths, no "..".
bool ValidKey(const std::string& key) {
  return !key.empty() && key.front() != '/' &&
         key.find("..") == std::string::npos;
}

// The version of a control file: its inode and the CRC-64 of its content
// (a replace renames a new inode over the name).
std::string VersionOf(const struct stat& st, const std::string& data) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llx-%016llx",
                static_cast<unsigned long long>(st.st_ino),
                static_cast<unsigned long long>(base::Crc64Of(data)));
  return buf;
}

// Reads path whole with its version; kNotFound when absent.
Result<VersionedObject> ReadWithVersion(const std::string& path) {
  LK_ASSIGN_OR_RETURN(base::File f, OpenRegular(path));
  struct stat st;
  if (::fstat(f.fd(), &st) != 0) return base::ErrnoError("stat " + path, errno);
  if (st.st_size > (1 << 20)) {
    return base::CorruptError(path + " is larger than 1 MiB");
  }
  VersionedObject out;
  out.data.resize(static_cast<size_t>(st.st_size));
  LK_ASSIGN_OR_RETURN(size_t n, f.ReadAt(out.data.data(), out.data.size(), 0));
  out.data.resize(n);
  out.version = VersionOf(st, out.data);
  return out;
}

}  // namespace

Result<VersionedObject> FileReplicaClient::ReadVersioned(
    const std::string& key) {
  ++gets_;
  if (!ValidKey(key)) {
    ++get_errors_;
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  auto r = ReadWithVersion(root_ + "/" + key);
  if (!r.ok()) ++get_errors_;
  return r;
}

Result<std::string> FileReplicaClient::WriteIf(const std::string& key,
                                               const std::string& data,
                                               const std::string& if_version) {
  ++puts_;
  auto fail = [&](base::Status s) -> Result<std::string> {
    ++put_errors_;
    return s;
  };
  if (!ValidKey(key)) {
    return fail(
        base::InvalidArgumentError("invalid object key \"" + key + "\""));
  }
  const std::string path = root_ + "/" + key;
  const std::string dir = base::DirName(path);
  if (Status s = base::MakeDirs(dir); !s.ok()) return fail(s);
  // A complete, durable temporary file first: the final name never shows
  // a partial object.
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(g_tmp_counter.fetch_add(1));
  {
    auto f = base::File::CreatePrivate(tmp);
    if (!f.ok()) return fail(f.status());
    Status s = f->WriteAll(data.data(), data.size());
    if (s.ok()) s = f->Sync();
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return fail(s);
    }
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{tmp};
  if (if_version.empty()) {
    // link(2) fails with EEXIST when the name exists: create-if-absent.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) {
        return fail(base::AlreadyExistsError(path + " already exists"));
      }
      return fail(base::ErrnoError("create " + path, errno));
    }
  } else {
    // Replace-if-unchanged: every replace of this key holds the lock file's
    // flock while it compares and renames.
    const std::string lock_path = path + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail(base::ErrnoError("open " + lock_path, errno));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    if (::flock(fd, LOCK_EX) != 0) {
      return fail(base::ErrnoError("lock " + lock_path, errno));
    }
    auto current = ReadWithVersion(path);
    if (!current.ok()) {
      if (current.status().code() == base::Code::kNotFound) {
        return fail(base::FailedPreconditionError(
            path + " is gone (it was to be replaced if unchanged)"));
      }
      return fail(current.status());
    }
    if (current->version != if_version) {
      return fail(base::FailedPreconditionError(
          path + " was changed by another writer (version " + current->version +
          ", expected " + if_version + ")"));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return fail(base::ErrnoError("rename " + tmp + " to " + path, errno));
    }
  }
  if (Status s = base::SyncDir(dir); !s.ok()) return fail(s);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return fail(base::ErrnoError("stat " + path, errno));
  }
  return VersionOf(st, data);
}

base::Status FileReplicaClient::UnderFence(
    const PublishFence& fence, const std::function<base::Status()>& publish) {
  if (!ValidKey(fence.key)) {
    return base::InvalidArgumentError("invalid object key \"" + fence.key +
                                      "\"");
  }
  // The lock every replace of the key holds (WriteIf): while we hold it the
  // key cannot change, so what check saw is still true at the publish.
  const std::string path = root_ + "/" + fence.key;
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return base::ErrnoError("open " + lock_path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::flock(fd, LOCK_EX) != 0) {
    return base::ErrnoError("lock " + lock_path, errno);
  }
  ++gets_;
  auto current = ReadWithVersion(path);
  if (!current.ok() && current.status().code() != base::Code::kNotFound) {
    ++get_errors_;
    return current.status();
  }
  LK_RETURN_IF_ERROR(fence.check(current.ok() ? &*current : nullptr));
  return publish();
}

base::Status FileReplicaClient::WriteFileFenced(const FileInfo& info,
                                                base::Reader& data,
                                                const PublishFence& fence) {
  return Write(info, data, &fence);
}

base::Status FileReplicaClient::DeleteFilesFenced(
    const std::vector<FileInfo>& files, const PublishFence& fence) {
  return Delete(files, &fence);
}

RequestCounts FileReplicaClient::request_counts() const {
  RequestCounts c;
  c.list = lists_;
  c.get = gets_;
  c.put = puts_;
  c.del = dels_;
  c.list_errors = list_errors_;
  c.get_errors = get_errors_;
  c.put_errors = put_errors_;
  c.del_errors = del_errors_;
  return c;
}

}  // namespace litekeep::storage
