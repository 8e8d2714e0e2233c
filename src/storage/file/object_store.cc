// FileObjectStore: a local directory read as an object store (lstat walk,
// O_NOFOLLOW opens), for `litekeep sync` from file:// URLs.
#include "storage/file/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace litekeep::storage {
namespace {

TimePoint MTime(const struct stat& st) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) +
      std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

}  // namespace

FileObjectStore::FileObjectStore(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status FileObjectStore::List(
    const std::function<Status(std::vector<StoredObject>&&)>& page) {
  ++lists_;
  std::vector<StoredObject> all;
  std::error_code ec;
  struct stat root_st;
  if (::stat(root_.c_str(), &root_st) != 0 || !S_ISDIR(root_st.st_mode)) {
    return page({});  // a missing prefix is an empty listing
  }
  auto it = std::filesystem::recursive_directory_iterator(root_, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;  // vanished meanwhile
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    StoredObject o;
    o.key = path.substr(root_.size() + 1);
    o.size = st.st_size;
    o.modified = MTime(st);
    o.symlink = S_ISLNK(st.st_mode);
    o.etag = std::to_string(st.st_ino) + "-" + std::to_string(st.st_size) +
             "-" + std::to_string(st.st_mtim.tv_sec) + "." +
             std::to_string(st.st_mtim.tv_nsec);
    all.push_back(std::move(o));
  }
  if (ec) {
    ++list_errors_;
    return base::IoError("list " + root_ + ": " + ec.message());
  }
  std::sort(all.begin(), all.end(),
            [](const StoredObject& a, const StoredObject& b) {
              return a.key < b.key;
            });
  for (size_t i = 0; i < all.size() || i == 0; i += kPageSize) {
    size_t end = std::min(all.size(), i + kPageSize);
    std::vector<StoredObject> chunk(std::make_move_iterator(all.begin() + i),
                                    std::make_move_iterator(all.begin() + end));
    LK_RETURN_IF_ERROR(page(std::move(chunk)));
    if (all.empty()) break;
  }
  return Status::Ok();
}

Result<std::unique_ptr<base::Reader>> FileObjectStore::Open(
    const std::string& key) {
  ++gets_;
  const std::string path = root_ + "/" + key;
  if (key.empty() || key.front() == '/' ||
      ("/" + key + "/").find("/../") != std::string::npos) {
    ++get_errors_;
    return base::InvalidArgumentError("object " + path +
                                      ": key leaves the directory");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    ++get_errors_;
    if (err == ELOOP) {
      return base::InvalidArgumentError("object " + path +
                                        " is a symbolic link (refused)");
    }
    if (err == ENOENT)
      return base::NotFoundError("object " + path + ": not found");
    return base::ErrnoError("open " + path, err);
  }
  return std::unique_ptr<base::Reader>(
      new base::FileReader(base::File(fd, path)));
}

RequestCounts FileObjectStore::request_counts() const {
  RequestCounts c;
  c.list = lists_.load();
  c.get = gets_.load();
  c.list_errors = list_errors_.load();
  c.get_errors = get_errors_.load();
  return c;
}

}  // namespace litekeep::storage
