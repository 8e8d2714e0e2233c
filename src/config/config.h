// The litekeep/Litestream YAML configuration as structs, with loading,
// validation and ${VAR} expansion. Unknown keys are errors that name the key,
// its line and the nearest known key. docs/config.md lists every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace litekeep::config {

using Duration = std::chrono::milliseconds;

// One replica destination (a `replica:` entry, a `replicas:` list item, or a
// URL given on the command line).
struct ReplicaConfig {
  std::string type;  // "file", "s3", "abs", "sftp", "gcs"
  std::string name;  // optional label (0.3 `name:`)
  std::string url;   // as written, if given

  // file: the directory; s3/gcs/abs/sftp: the key prefix inside the bucket.
  std::string path;

  // S3 / GCS
  std::string bucket;
  std::string region;
  std::string endpoint;
  bool force_path_style = false;
  bool skip_verify = false;
  std::string access_key_id;
  std::string secret_access_key;  // secret: never print

  // Azure Blob
  std::string account_name;
  std::string account_key;  // secret
  std::string container;    // = bucket for abs:// URLs

  // SFTP
  std::string host;  // host[:port]
  std::string user;
  std::string password;  // secret
  std::string key_path;

  // Replica timing (defaults applied by Load: sync 1s, retention 24h,
  // retention-check-interval 1h, snapshot-interval from top level or 24h).
  Duration sync_interval{std::chrono::seconds(1)};
  std::optional<Duration> retention;
  std::optional<Duration> retention_check_interval;
  std::optional<Duration> snapshot_interval;
  std::optional<Duration> validation_interval;

  int line = 0;  // YAML line where this replica was defined (0: CLI)
};

// One `dbs:` entry: a database path, or a directory of databases.
struct DbConfig {
  std::string path;  // absolute path to the database (empty for dir entries)

  // Directory entries (pick up databases created later).
  std::string dir;
  std::string pattern;  // glob, e.g. "*.db"
  bool recursive = false;
  bool watch = false;

  std::string meta_path;  // local state dir; default ".<db>-litekeep"

  Duration monitor_interval{std::chrono::seconds(1)};
  Duration checkpoint_interval{std::chrono::minutes(1)};
  Duration busy_timeout{std::chrono::seconds(1)};
  int64_t min_checkpoint_page_count = 1000;
  int64_t truncate_page_n = 121359;

  std::vector<ReplicaConfig> replicas;  // `replica:` becomes one item
  int line = 0;
};

struct LoggingConfig {
  std::string level = "info";  // debug, info, warn, error
  std::string type = "text";   // text, json
  bool to_stderr = true;
};

// Compaction level schedule: levels[i] is level i+1 (default 30s, 5m, 1h).
struct LevelConfig {
  Duration interval;
};

struct Config {
  std::vector<DbConfig> dbs;
  std::string addr;  // metrics listen address, e.g. ":9090"
  std::string exec;  // command run by `replicate` as a child
  LoggingConfig logging;
  std::vector<LevelConfig> levels;  // filled with defaults when absent
  Duration snapshot_interval{std::chrono::hours(24)};
  Duration retention{std::chrono::hours(24)};
  Duration retention_check_interval{std::chrono::hours(1)};
  std::string source;  // file the config came from, for messages
};

// Parses YAML text. source names the file in errors ("litekeep.yml:12: ...").
// With expand_env, $VAR and ${VAR} are replaced from the environment first.
Result<Config> Parse(std::string_view yaml, const std::string& source,
                     bool expand_env);

// Reads and parses a file.
Result<Config> LoadFile(const std::string& path, bool expand_env);

// The config path to use when -config is not given: $LITEKEEP_CONFIG, then
// /etc/litekeep.yml, then /etc/litestream.yml (first that exists; else the
// first candidate).
std::string DefaultConfigPath();

// Parses a replica URL (s3://, abs://, sftp://, gcs://, gs://, file://, or a
// plain path) into a ReplicaConfig. Errors name the URL part at fault.
Result<ReplicaConfig> ParseReplicaUrl(std::string_view url);

// Parses Go-style durations: "1s", "500ms", "5m", "720h", "1h30m", and a bare
// "0". Errors name the text.
Result<Duration> ParseDuration(std::string_view text);

// Replaces $VAR and ${VAR} with environment values (unset -> empty).
std::string ExpandEnv(std::string_view text);

// A replica URL or description that is safe to print (no secrets).
std::string Redacted(const ReplicaConfig& replica);

}  // namespace litekeep::config
