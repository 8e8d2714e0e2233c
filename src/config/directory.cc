// Replica and state locations of the databases under a directory entry.
#include "config/directory.h"

#include <filesystem>

namespace litekeep::config {

namespace {

namespace fs = std::filesystem;

// db_path relative to dir; its file name when it is not under dir.
std::string RelativeTo(const std::string& dir, const std::string& db_path) {
  std::string rel =
      fs::path(db_path).lexically_relative(fs::absolute(dir)).string();
  if (rel.empty() || rel == "." || rel.rfind("..", 0) == 0) {
    rel = fs::path(db_path).filename().string();
  }
  return rel;
}

}  // namespace

bool UnderDirectory(const DbConfig& db, const std::string& db_path) {
  if (db.dir.empty()) return false;
  const std::string rel =
      fs::path(db_path).lexically_relative(fs::absolute(db.dir)).string();
  return !rel.empty() && rel != "." && rel.rfind("..", 0) != 0;
}

std::string StateDirForDatabase(const DbConfig& db,
                                const std::string& db_path) {
  if (db.dir.empty()) return db.meta_path;
  const fs::path rel = RelativeTo(db.dir, db_path);
  if (!db.meta_dir.empty()) {
    return (fs::path(db.meta_dir) / rel).string() + "-litekeep";
  }
  if (!db.meta_path.empty()) {
    return (fs::path(db.meta_path) / rel.parent_path() /
            ("." + rel.filename().string() + "-litekeep"))
        .lexically_normal()
        .string();
  }
  return "";
}

ReplicaConfig ReplicaForDatabase(const ReplicaConfig& base,
                                 const std::string& dir,
                                 const std::string& db_path) {
  ReplicaConfig r = base;
  const std::string rel = RelativeTo(dir, db_path);
  if (r.path.empty()) {
    r.path = rel;
  } else {
    r.path = (r.path.back() == '/' ? r.path : r.path + "/") + rel;
  }
  return r;
}

}  // namespace litekeep::config
