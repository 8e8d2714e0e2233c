// VFS configuration: LITEKEEP_* environment variables (LITESTREAM_* names as
// aliases) and the URI parameters SQLite passes to xOpen. docs/vfs.md lists
// every setting.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/age.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::vfs {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError, kOff };

struct VfsOptions {
  std::string replica_url;         // required
  int64_t cache_bytes = 64 << 20;  // page cache bound
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds poll_max_interval{30000};  // idle back-off cap
  int prefetch_pages = 64;     // sequential read-ahead cap
  int index_parallelism = 16;  // page-index fetches at once
  std::string hydration_path;  // "" = no hydration
  bool write_enabled = false;
  std::chrono::milliseconds sync_interval{1000};
  LogLevel log_level = LogLevel::kWarn;
  // Reading an age-encrypted replica (docs/vfs.md "Encrypted replicas"):
  // the identities (secrets: never printed), from LITEKEEP_AGE_IDENTITIES
  // or the file LITEKEEP_AGE_IDENTITY_FILE / age_identity_file names.
  std::vector<base::AgeIdentity> age_identities;
  std::string age_identity_source;  // where they came from, for messages
};

// Reads the options. get_uri(name) returns a URI parameter of the database
// being opened (nullopt when absent); URI parameters win over the
// environment. Errors name the variable or parameter and its bad value.
Result<VfsOptions> LoadOptions(
    const std::function<std::optional<std::string>(const char*)>& get_uri);

// Parses a point in time for PRAGMA litekeep_time: RFC 3339
// ("2026-11-20T10:00:00Z", offsets and fractions allowed), "N <unit> ago"
// (unit: second(s), minute(s), hour(s), day(s), week(s); abbreviations
// s/sec/m/min/h/d/w), or a Go duration followed by "ago" ("90s ago").
Result<TimePoint> ParseTimeSpec(const std::string& text, TimePoint now);

// Writes "litekeep: <message>" to stderr when level >= the configured one.
void Log(LogLevel level, const std::string& message);
void SetLogLevel(LogLevel level);

}  // namespace litekeep::vfs
