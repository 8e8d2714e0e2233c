// The litekeep/Litestream YAML configuration as structs, with loading,
// validation and ${VAR} expansion. Unknown keys are errors that name the key,
// its line and the nearest known key. docs/config.md lists every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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

  // More S3 settings (Litestream 0.5). Unset optionals mean "backend default".
  std::string storage_class;
  std::optional<int64_t> part_size;  // bytes ("5MiB", "10MB" or a number)
  std::optional<int64_t> concurrency;
  std::optional<bool> sign_payload;
  std::optional<bool> require_content_md5;
  std::string sse_customer_algorithm;
  std::string sse_customer_key;  // secret
  std::string sse_customer_key_path;
  std::string sse_kms_key_id;

  // More Azure Blob settings.
  std::string sas_token;  // secret

  // More SFTP settings.
  std::string host_key;  // expected host public key (authorized_keys form)
  std::optional<bool> concurrent_writes;

  // Replica behaviour (Litestream 0.5).
  std::optional<int64_t> max_sync_ltx_files;
  std::optional<bool> auto_recover;

  // Keys Litestream knows that litekeep accepts but does not act on yet
  // (e.g. WebDAV/NATS settings): canonical key -> value as written. Values
  // of secret keys are kept but never printed by Redacted().
  std::map<std::string, std::string> unused;

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
  int64_t max_checkpoint_page_count = 10000;  // 0.3 key

  // Litestream 0.5 extras.
  std::string meta_dir;  // dir entries: per-database state under this dir
  std::optional<int64_t> max_sync_wal_bytes;
  bool restore_if_db_not_exists = false;
  // litekeep: lineage guard, start a new history instead of refusing a
  // database that does not descend from the replica (docs/config.md).
  bool new_history = false;
  std::optional<Duration> snapshot_interval;   // per-db `snapshot.interval`
  std::optional<Duration> snapshot_retention;  // per-db `snapshot.retention`

  std::vector<ReplicaConfig> replicas;  // `replica:` becomes one item
  int line = 0;
};

struct LoggingConfig {
  std::string level = "info";  // debug, info, warn, error
  std::string type = "text";   // text, json
  bool to_stderr = true;
  bool source = false;  // 0.5 `logging.source`: add source file:line
};

// Compaction level schedule: levels[i] is level i+1 (default 30s, 5m, 1h).
struct LevelConfig {
  Duration interval;
};

struct Config {
  std::vector<DbConfig> dbs;
  std::string addr;  // metrics listen address, e.g. ":9090"
  // /healthz is 200 only while every database synced within this (litekeep).
  Duration health_max_sync_age{std::chrono::seconds(60)};
  std::string exec;  // command run by `replicate` as a child
  LoggingConfig logging;
  std::vector<LevelConfig> levels;  // filled with defaults when absent
  Duration snapshot_interval{std::chrono::hours(24)};
  Duration retention{std::chrono::hours(24)};
  Duration retention_check_interval{std::chrono::hours(1)};
  std::string source;  // file the config came from, for messages

  // Litestream 0.5 top-level keys.
  std::string mcp_addr;           // `mcp-addr`
  bool retention_enabled = true;  // `retention: {enabled: ...}`
  Duration l0_retention{std::chrono::minutes(5)};
  Duration l0_retention_check_interval{std::chrono::seconds(15)};
  bool verify_compaction = false;
  std::optional<Duration> validation_interval;  // `validation.interval`
  std::string heartbeat_url;
  Duration heartbeat_interval{std::chrono::minutes(5)};
  Duration shutdown_sync_timeout{std::chrono::seconds(30)};
  Duration shutdown_sync_interval{std::chrono::milliseconds(500)};

  // Replica settings written at the top level (0.5: any replica key;
  // 0.3: access-key-id/secret-access-key). They are already merged into
  // every replica in dbs; kept so that a replica URL given on the command
  // line can be completed with ApplyReplicaDefaults.
  ReplicaConfig replica_defaults;

  // Keys Litestream knows that litekeep accepts but does not act on yet
  // (e.g. `socket`): dotted key path -> value as written.
  std::map<std::string, std::string> unused;
};

// Parses YAML text. source names the file in errors ("litekeep.yml:12: ...").
// With expand_env, $VAR and ${VAR} are replaced from the environment first.
Result<Config> Parse(std::string_view yaml, const std::string& source,
                     bool expand_env);

// Reads and parses a file.
Result<Config> LoadFile(const std::string& path, bool expand_env);

// The config path to use when -config is not given: $LITEKEEP_CONFIG, then
// $LITESTREAM_CONFIG, then /etc/litekeep.yml, then /etc/litestream.yml
// (first that exists; else the first candidate).
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

// Formats a duration the way Go prints it ("1h30m0s", "500ms", "0s").
std::string FormatDuration(Duration d);

// Fills the empty fields of a replica (typically from a command-line URL)
// with the top-level replica settings of config (credentials, region, ...).
// Fields the replica already has are kept.
void ApplyReplicaDefaults(const Config& config, ReplicaConfig* replica);

// "~" and "~/x" become the home directory; relative paths become absolute
// against the current directory (what Litestream does for db paths).
Result<std::string> ExpandPath(std::string_view path);

}  // namespace litekeep::config
