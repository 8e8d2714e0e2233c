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

#include "base/byte_size.h"
#include "base/status.h"
#include "ltx/format.h"
#include "ltx/timings.h"
#include "storage/settings.h"

namespace litekeep::config {

using Duration = std::chrono::milliseconds;

// One replica destination (a `replica:` entry, a `replicas:` list item, or a
// URL given on the command line): where it lives (storage::ReplicaSettings,
// checked by its backend in storage/registry.h) and its replication timing.
struct ReplicaConfig : storage::ReplicaSettings {
  std::string name;  // optional label (0.3 `name:`)

  // Replica timing (defaults applied by Load: sync 1s, retention 24h,
  // retention-check-interval 1h, snapshot-interval from top level or 24h).
  Duration sync_interval{ltx::kDefaultSyncInterval};
  std::optional<Duration> retention;
  std::optional<Duration> retention_check_interval;
  std::optional<Duration> snapshot_interval;
  std::optional<Duration> validation_interval;
  // 0.5 `auto-recover`: drop damaged local state at start (true; also
  // when unset) or refuse it (false) (docs/config.md, "Replica keys").
  std::optional<bool> auto_recover;
  // How LTX pages are stored (`page-encoding`, docs/config.md); unset:
  // ltx::PageEncoding::kBlock.
  std::optional<ltx::PageEncoding> page_encoding;
  // Replica lease (`lease-ttl`, docs/architecture.md "Replica lease");
  // unset: 30s; 0: no lease.
  std::optional<Duration> lease_ttl;

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
  // With `dir`: parent of one state directory per database found
  // (StateDirForDatabase in config/directory.h).
  std::string meta_dir;

  Duration monitor_interval{std::chrono::seconds(1)};
  // Checkpoint settings as written; unset: the replicator's own defaults
  // (replicate::ReplicatorOptions, listed in docs/config.md).
  std::optional<Duration> checkpoint_interval;
  std::optional<Duration> busy_timeout;
  std::optional<int64_t> min_checkpoint_page_count;
  std::optional<int64_t> max_sync_wal_bytes;  // 0 or unset: no bound
  std::optional<int64_t> truncate_page_n;
  // 0.3 key; when written and truncate-page-n is not, it sets
  // truncate_page_n (docs/config.md, "dbs entries").
  int64_t max_checkpoint_page_count = 10000;

  // Litestream 0.5 extras.
  bool restore_if_db_not_exists = false;
  // litekeep: lineage guard, start a new history instead of refusing a
  // database that does not descend from the replica (docs/config.md).
  bool new_history = false;
  std::optional<Duration> snapshot_interval;   // per-db `snapshot.interval`
  std::optional<Duration> snapshot_retention;  // per-db `snapshot.retention`

  std::vector<ReplicaConfig> replicas;  // `replica:` becomes one item
  int line = 0;
};

// One `sync:` entry: a bucket prefix kept in step with a local directory
// (docs/sync.md). `replicate` runs it beside the databases.
struct SyncConfig {
  std::string src;       // the source URL as written
  ReplicaConfig source;  // src parsed, entry keys and top-level defaults in
  std::string dest;      // absolute local directory
  bool watch = false;    // keep following changes (else copy once at start)
  bool delete_extra = false;  // `delete`
  Duration interval{std::chrono::seconds(2)};
  Duration max_interval{std::chrono::seconds(30)};
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  int64_t max_size = 0;        // bytes per object; 0 = no limit
  int64_t max_total_size = 0;  // bytes for the tree; 0 = no limit
  int64_t parallelism = 4;
  std::string state;  // state file; "" = <dest>/.litekeep-sync.json
  int line = 0;
};

// `socket:`: Litestream 0.5's control socket, served by `replicate`
// (docs/cli.md, "Control socket").
struct SocketConfig {
  bool enabled = false;
  std::string path = "/var/run/litestream.sock";  // Litestream's default
  uint32_t permissions = 0600;                    // file mode of the socket
};

struct LoggingConfig {
  std::string level = "info";  // debug, info, warn, error
  std::string type = "text";   // text, json
  bool to_stderr = true;
};

// Compaction level schedule: levels[i] is level i+1.
struct LevelConfig {
  Duration interval;
};

struct Config {
  std::vector<DbConfig> dbs;
  std::vector<SyncConfig> syncs;  // `sync:` (docs/sync.md)
  std::string addr;               // metrics listen address, e.g. ":9090"
  // /healthz is 200 only while every database synced within this (litekeep).
  Duration health_max_sync_age{std::chrono::seconds(60)};
  // Export Litestream 0.5's series beside litekeep's (docs/metrics.md,
  // "Litestream's series").
  bool litestream_metrics = true;
  std::string exec;  // command run by `replicate` as a child
  LoggingConfig logging;
  // `levels:` as written; unset: the compactor's default levels
  // (replicate::CompactionOptions, listed in docs/config.md).
  std::optional<std::vector<LevelConfig>> levels;
  Duration snapshot_interval{ltx::kDefaultSnapshotInterval};
  Duration retention{ltx::kDefaultRetention};
  Duration retention_check_interval{ltx::kDefaultRetentionCheckInterval};
  std::string source;  // file the config came from, for messages

  // Litestream 0.5 top-level keys.
  bool retention_enabled = true;  // `retention: {enabled: ...}`
  Duration l0_retention{ltx::kDefaultL0Retention};
  Duration l0_retention_check_interval{ltx::kDefaultL0RetentionCheckInterval};
  std::optional<Duration> validation_interval;  // `validation.interval`
  // GET heartbeat_url at most every heartbeat_interval while every database
  // synced within it (docs/config.md, `heartbeat-url`).
  std::string heartbeat_url;
  Duration heartbeat_interval{std::chrono::minutes(5)};
  // On stop, the final sync is retried every shutdown_sync_interval until
  // shutdown_sync_timeout (0: one attempt); a second signal stops retrying.
  Duration shutdown_sync_timeout{std::chrono::seconds(30)};
  Duration shutdown_sync_interval{std::chrono::milliseconds(500)};
  SocketConfig socket;  // `socket:` (docs/cli.md, "Control socket")
  // Check the replica's listing after every compaction that wrote files
  // (docs/config.md, `verify-compaction`).
  bool verify_compaction = false;
  // MCP endpoint of `replicate` (docs/cli.md, "MCP"); empty: none.
  std::string mcp_addr;
  // `wait-lease`: wait for a replica lease held by another replicator
  // instead of failing (same as `replicate -wait-lease`).
  bool wait_lease = false;

  // Replica settings written at the top level (0.5: any replica key;
  // 0.3: access-key-id/secret-access-key). They are already merged into
  // every replica in dbs; kept so that a replica URL given on the command
  // line can be completed with ApplyReplicaDefaults.
  ReplicaConfig replica_defaults;
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

// Parses a replica URL (s3://, file://, or a plain path) into a
// ReplicaConfig (storage::ParseReplicaUrl; schemes of backends that are not
// built are refused). Errors name the URL part at fault.
Result<ReplicaConfig> ParseReplicaUrl(std::string_view url);

// Parses Go-style durations: "1s", "500ms", "5m", "720h", "1h30m", and a bare
// "0". Errors name the text.
Result<Duration> ParseDuration(std::string_view text);

// A byte count (the one parser, base/byte_size.h).
using base::ParseByteSize;

// Replaces $VAR and ${VAR} with environment values (unset -> empty).
std::string ExpandEnv(std::string_view text);

// A replica URL or description that is safe to print (no secrets).
std::string Redacted(const ReplicaConfig& replica);

// A replica's name within its database: `name:`, else its type ("s3",
// "file"), as Litestream 0.3 (docs/config.md, `name`).
std::string ReplicaName(const ReplicaConfig& replica);

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
