// S3 key layout and timestamp text forms.
#include "storage/s3/keys.h"

#include <cinttypes>
#include <cstdio>

#include "base/rfc3339.h"

namespace litekeep::storage::s3 {
namespace {

std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

std::string LevelPrefix(std::string_view path, int level) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04x/", static_cast<unsigned>(level));
  return std::string(path) + "/" + buf;
}

std::string ObjectKey(std::string_view path, int level, TxId min_txid,
                      TxId max_txid) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "-%016" PRIx64 ".ltx", min_txid,
                max_txid);
  return LevelPrefix(path, level) + buf;
}

std::optional<KeyRange> ParseObjectName(std::string_view key) {
  size_t slash = key.rfind('/');
  std::string_view name =
      slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (name.size() != 37 || name[16] != '-' || name.substr(33) != ".ltx") {
    return std::nullopt;
  }
  auto lo = ParseHex16(name.substr(0, 16));
  auto hi = ParseHex16(name.substr(17, 16));
  if (!lo || !hi) return std::nullopt;
  return KeyRange{*lo, *hi};
}

std::string FormatTimestamp(TimePoint t) { return base::FormatRfc3339Nano(t); }

std::optional<TimePoint> ParseTimestamp(std::string_view text) {
  auto t = base::ParseRfc3339(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

}  // namespace litekeep::storage::s3
