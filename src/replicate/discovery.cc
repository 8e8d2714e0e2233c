// Directory-entry database discovery.
#include "replicate/discovery.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

namespace litekeep::replicate {
namespace {

namespace fs = std::filesystem;

bool HasSqliteHeader(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[16] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 16 && std::memcmp(magic, "SQLite format 3", 16) == 0;
}

bool IsSidecar(const std::string& name) {
  for (const char* suffix : {"-wal", "-shm", "-journal", ".tmp"}) {
    size_t n = std::strlen(suffix);
    if (name.size() >= n && name.compare(name.size() - n, n, suffix) == 0) {
      return true;
    }
  }
  return false;
}

// Calls found(path, has_header) for every regular file under dir matching
// pattern (not a sidecar, not in a hidden state directory); the header is
// read only when check(path) is true (else has_header is true). Every
// directory visited is passed to on_dir.
Status Scan(const std::string& dir, const std::string& pattern, bool recursive,
            const std::function<bool(const std::string&)>& check,
            const std::function<void(const std::string&, bool)>& found,
            const std::function<void(const std::string&)>& on_dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return base::NotFoundError("database directory " + dir +
                               " does not exist or is not a directory");
  }
  on_dir(dir);
  auto consider = [&](const fs::directory_entry& e) {
    std::error_code ec2;
    if (!e.is_regular_file(ec2)) return;
    std::string name = e.path().filename().string();
    if (IsSidecar(name)) return;
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) != 0) return;
    const std::string path = fs::absolute(e.path()).lexically_normal().string();
    found(path, !check(path) || HasSqliteHeader(e.path()));
  };
  if (recursive) {
    fs::recursive_directory_iterator it(
        dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory()) {
        if (!name.empty() && name[0] == '.') {
          it.disable_recursion_pending();  // .<db>-litekeep, .<db>-litestream
        } else {
          on_dir(it->path().string());
        }
        continue;
      }
      consider(*it);
    }
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) consider(e);
  }
  if (ec) {
    return base::IoError("scan database directory " + dir + ": " +
                         ec.message());
  }
  return Status::Ok();
}

int64_t MtimeNs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

}  // namespace

Result<std::vector<std::string>> FindDatabases(const std::string& dir,
                                               const std::string& pattern,
                                               bool recursive) {
  std::vector<std::string> out;
  LK_RETURN_IF_ERROR(Scan(
      dir, pattern, recursive, [](const std::string&) { return true; },
      [&](const std::string& path, bool db) {
        if (db) out.push_back(path);
      },
      [](const std::string&) {}));
  std::sort(out.begin(), out.end());
  return out;
}

bool DirectoryScanner::Changed() {
  if (dir_mtimes_.empty()) return true;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (const auto& [dir, mtime] : dir_mtimes_) {
    const int64_t m = MtimeNs(dir);
    // A time this recent may not change again for a second entry added in
    // the same timestamp tick.
    if (m != mtime || now_ns - m < 2'000'000'000) return true;
  }
  return false;
}

Result<std::vector<std::string>> DirectoryScanner::Poll() {
  std::vector<std::string> out;
  if (Changed()) {
    std::map<std::string, int64_t> mtimes;
    LK_RETURN_IF_ERROR(Scan(
        dir_, pattern_, recursive_,
        [&](const std::string& path) { return known_.count(path) == 0; },
        [&](const std::string& path, bool db) {
          if (known_.count(path) != 0) return;
          if (db) {
            known_.insert(path);
            pending_.erase(path);
            out.push_back(path);
          } else {
            pending_.insert(path);
          }
        },
        [&](const std::string& d) { mtimes[d] = MtimeNs(d); }));
    dir_mtimes_ = std::move(mtimes);
  } else {
    for (auto it = pending_.begin(); it != pending_.end();) {
      std::error_code ec;
      if (!fs::exists(*it, ec)) {
        it = pending_.erase(it);
      } else if (HasSqliteHeader(*it)) {
        known_.insert(*it);
        out.push_back(*it);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace litekeep::replicate
