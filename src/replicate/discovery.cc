// Directory-entry database discovery.
#include "replicate/discovery.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

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

}  // namespace

Result<std::vector<std::string>> FindDatabases(const std::string& dir,
                                               const std::string& pattern,
                                               bool recursive) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return base::NotFoundError("database directory " + dir +
                               " does not exist or is not a directory");
  }
  auto consider = [&](const fs::directory_entry& e) {
    std::error_code ec2;
    if (!e.is_regular_file(ec2)) return;
    std::string name = e.path().filename().string();
    if (IsSidecar(name)) return;
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) != 0) return;
    if (!HasSqliteHeader(e.path())) return;
    out.push_back(fs::absolute(e.path()).lexically_normal().string());
  };
  if (recursive) {
    fs::recursive_directory_iterator it(
        dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory() && !name.empty() && name[0] == '.') {
        it.disable_recursion_pending();  // .<db>-litekeep, .<db>-litestream
        continue;
      }
      consider(*it);
    }
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) consider(e);
  }
  if (ec)
    return base::IoError("scan database directory " + dir + ": " +
                         ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace litekeep::replicate
