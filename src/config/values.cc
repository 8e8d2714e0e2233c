// Config-only value helpers: the sqlite:// prefix of database paths and the
// public ExpandPath (the scalar parsers live in base/text.h).
#include <string>
#include <string_view>

#include "base/text.h"
#include "config/config.h"
#include "config/internal.h"

namespace litekeep::config {
namespace internal {

std::string_view StripSqlitePrefix(std::string_view path) {
  for (std::string_view prefix : {"sqlite3://", "sqlite://"}) {
    if (path.substr(0, prefix.size()) == prefix) {
      return path.substr(prefix.size());
    }
  }
  return path;
}

}  // namespace internal

Result<std::string> ExpandPath(std::string_view path) {
  return base::ExpandPath(path);
}

}  // namespace litekeep::config
