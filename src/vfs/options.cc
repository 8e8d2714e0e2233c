// VFS configuration from the environment and URI parameters, and the time
// forms PRAGMA litekeep_time accepts.
#include "vfs/options.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "base/byte_size.h"
#include "base/duration.h"
#include "base/io.h"
#include "base/rfc3339.h"

namespace litekeep::vfs {
namespace {

std::atomic<int> g_log_level{static_cast<int>(LogLevel::kWarn)};

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

// The first of: URI parameter `uri_name`, $LITEKEEP_<name>, $LITESTREAM_<name>.
struct Lookup {
  const std::function<std::optional<std::string>(const char*)>& get_uri;
  std::optional<std::pair<std::string, std::string>> Get(
      const char* uri_name, const std::string& env_suffix) const {
    if (uri_name != nullptr) {
      if (auto v = get_uri(uri_name)) {
        return std::make_pair(std::string("URI parameter ") + uri_name, *v);
      }
    }
    for (const char* prefix : {"LITEKEEP_", "LITESTREAM_"}) {
      std::string name = prefix + env_suffix;
      if (const char* v = std::getenv(name.c_str()); v != nullptr && *v != 0) {
        return std::make_pair(name, std::string(v));
      }
    }
    return std::nullopt;
  }
};

Status Bad(const std::string& where, const std::string& value,
           const std::string& why) {
  return base::InvalidArgumentError("litekeep vfs: " + where + "=\"" + value +
                                    "\": " + why);
}

Result<bool> ParseBool(const std::string& where, const std::string& value) {
  std::string v = Lower(value);
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  return Bad(where, value, "expected true or false");
}

Result<std::chrono::milliseconds> ParseMillis(const std::string& where,
                                              const std::string& value) {
  auto d = base::ParseDuration(value);
  if (!d.ok()) return Bad(where, value, "expected a duration like 1s or 500ms");
  if (*d < std::chrono::milliseconds(1)) {
    return Bad(where, value, "must be at least 1ms");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

}  // namespace

void SetLogLevel(LogLevel level) { g_log_level = static_cast<int>(level); }

void Log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) < g_log_level.load()) return;
  std::fprintf(stderr, "litekeep: %s\n", message.c_str());
}

Result<TimePoint> ParseTimeSpec(const std::string& text, TimePoint now) {
  std::string t = Lower(Trim(text));
  const std::string kAgo = " ago";
  if (t.size() > kAgo.size() &&
      t.compare(t.size() - kAgo.size(), kAgo.size(), kAgo) == 0) {
    std::string amount = Trim(t.substr(0, t.size() - kAgo.size()));
    // "5 minutes" / "5m" / "1h30m".
    size_t i = 0;
    while (i < amount.size() &&
           (std::isdigit(static_cast<unsigned char>(amount[i])) ||
            amount[i] == '.')) {
      ++i;
    }
    std::string unit = Trim(amount.substr(i));
    static const std::pair<const char*, int64_t> kUnits[] = {
        {"second", 1},    {"seconds", 1},    {"sec", 1},      {"secs", 1},
        {"s", 1},         {"minute", 60},    {"minutes", 60}, {"min", 60},
        {"mins", 60},     {"m", 60},         {"hour", 3600},  {"hours", 3600},
        {"h", 3600},      {"day", 86400},    {"days", 86400}, {"d", 86400},
        {"week", 604800}, {"weeks", 604800}, {"w", 604800}};
    if (i > 0 && i < 16) {
      for (const auto& [name, secs] : kUnits) {
        if (unit == name) {
          double n = std::strtod(amount.substr(0, i).c_str(), nullptr);
          auto ms = static_cast<int64_t>(n * static_cast<double>(secs) * 1000);
          return now - std::chrono::milliseconds(ms);
        }
      }
    }
    auto d = base::ParseDuration(amount);
    if (d.ok()) {
      return now - std::chrono::duration_cast<TimePoint::duration>(*d);
    }
    return base::InvalidArgumentError(
        "litekeep_time: cannot parse \"" + text +
        "\" (use RFC 3339 like 2026-11-20T10:00:00Z or \"5 minutes ago\")");
  }
  auto tp = base::ParseRfc3339(Trim(text));
  if (!tp.ok()) {
    return base::InvalidArgumentError(
        "litekeep_time: " + tp.status().message() +
        "; or a relative time like \"5 minutes ago\"");
  }
  return *tp;
}

Result<VfsOptions> LoadOptions(
    const std::function<std::optional<std::string>(const char*)>& get_uri) {
  Lookup l{get_uri};
  VfsOptions o;
  if (auto v = l.Get("replica", "REPLICA_URL")) o.replica_url = v->second;
  if (o.replica_url.empty()) {
    return base::InvalidArgumentError(
        "litekeep vfs: no replica: set LITEKEEP_REPLICA_URL (or "
        "LITESTREAM_REPLICA_URL) or the URI parameter replica=");
  }
  if (auto v = l.Get("cache_size", "CACHE_SIZE")) {
    auto n = base::ParseByteSize(v->second);
    if (!n.ok()) return Bad(v->first, v->second, n.status().message());
    o.cache_bytes = *n;
  }
  if (auto v = l.Get("poll_interval", "POLL_INTERVAL")) {
    LK_ASSIGN_OR_RETURN(o.poll_interval, ParseMillis(v->first, v->second));
  }
  if (auto v = l.Get("poll_max_interval", "POLL_MAX_INTERVAL")) {
    LK_ASSIGN_OR_RETURN(o.poll_max_interval, ParseMillis(v->first, v->second));
  }
  o.poll_max_interval = std::max(o.poll_max_interval, o.poll_interval);
  if (auto v = l.Get("prefetch", "PREFETCH_PAGES")) {
    char* end = nullptr;
    long n = std::strtol(v->second.c_str(), &end, 10);
    if (end == v->second.c_str() || *end != 0 || n < 1 || n > 4096) {
      return Bad(v->first, v->second, "expected 1..4096 pages");
    }
    o.prefetch_pages = static_cast<int>(n);
  }
  if (auto v = l.Get("hydration_path", "HYDRATION_PATH")) {
    o.hydration_path = v->second;
  }
  if (auto v = l.Get("write", "WRITE_ENABLED")) {
    LK_ASSIGN_OR_RETURN(o.write_enabled, ParseBool(v->first, v->second));
  }
  if (auto v = l.Get("sync_interval", "SYNC_INTERVAL")) {
    LK_ASSIGN_OR_RETURN(o.sync_interval, ParseMillis(v->first, v->second));
  }
  // Keys never travel in a URI (SQLite and applications log file names).
  for (const char* p : {"age_identities", "age_identity", "age_identity_key"}) {
    if (get_uri(p)) {
      return base::InvalidArgumentError(
          std::string("litekeep vfs: URI parameter ") + p +
          ": age keys are not accepted in a URI (they would be logged); set "
          "LITEKEEP_AGE_IDENTITIES or name a key file with "
          "LITEKEEP_AGE_IDENTITY_FILE or age_identity_file=");
    }
  }
  auto keys = l.Get(nullptr, "AGE_IDENTITIES");
  auto key_file = l.Get("age_identity_file", "AGE_IDENTITY_FILE");
  if (keys && key_file) {
    return base::InvalidArgumentError(
        "litekeep vfs: " + keys->first + " and " + key_file->first +
        " are both set: give the age identities one way");
  }
  if (key_file) {
    auto text = base::ReadFileToString(key_file->second);
    if (!text.ok()) {
      return text.status().WithContext("litekeep vfs: " + key_file->first);
    }
    keys = std::make_pair(key_file->first + "=" + key_file->second, *text);
  }
  if (keys) {
    // Errors describe a bad key by prefix and length, never the key.
    auto ids = base::ParseAgeIdentities(keys->second);
    if (!ids.ok())
      return ids.status().WithContext("litekeep vfs: " + keys->first);
    o.age_identities = std::move(*ids);
    o.age_identity_source = keys->first;
  }
  if (auto v = l.Get(nullptr, "LOG_LEVEL")) {
    std::string s = Lower(v->second);
    if (s == "debug") {
      o.log_level = LogLevel::kDebug;
    } else if (s == "info") {
      o.log_level = LogLevel::kInfo;
    } else if (s == "warn" || s == "warning") {
      o.log_level = LogLevel::kWarn;
    } else if (s == "error") {
      o.log_level = LogLevel::kError;
    } else if (s == "off" || s == "none") {
      o.log_level = LogLevel::kOff;
    } else {
      return Bad(v->first, v->second, "expected debug, info, warn, error, off");
    }
  }
  return o;
}

}  // namespace litekeep::vfs
