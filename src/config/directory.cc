// Replica locations of the databases under a directory entry.
#include "config/directory.h"

#include <filesystem>

namespace litekeep::config {

ReplicaConfig ReplicaForDatabase(const ReplicaConfig& base,
                                 const std::string& dir,
                                 const std::string& db_path) {
  namespace fs = std::filesystem;
  ReplicaConfig r = base;
  std::string rel =
      fs::path(db_path).lexically_relative(fs::absolute(dir)).string();
  if (rel.empty() || rel.rfind("..", 0) == 0) {
    rel = fs::path(db_path).filename().string();
  }
  if (r.path.empty()) {
    r.path = rel;
  } else {
    r.path = (r.path.back() == '/' ? r.path : r.path + "/") + rel;
  }
  return r;
}

}  // namespace litekeep::config
