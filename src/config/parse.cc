// Loading a config file: YAML text -> Config, top level and `dbs:` entries,
// with env expansion first and validation after (see docs/config.md).
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/internal.h"
#include "config/sync_parse.h"
#include "config/yaml_walk.h"

namespace litekeep::config {
namespace {

using internal::Entry;
using internal::ReplicaNode;
using internal::Walker;

const std::vector<std::string_view>& TopLevelKeys() {
  static const auto* keys = [] {
    auto* k = new std::vector<std::string_view>{"dbs",
                                                "addr",
                                                "exec",
                                                "logging",
                                                "levels",
                                                "snapshot",
                                                "validation",
                                                "retention",
                                                "l0-retention",
                                                "l0-retention-check-interval",
                                                "verify-compaction",
                                                "heartbeat-url",
                                                "heartbeat-interval",
                                                "mcp-addr",
                                                "shutdown-sync-timeout",
                                                "shutdown-sync-interval",
                                                "socket",
                                                "health-max-sync-age",
                                                "litestream-metrics",
                                                "wait-lease",
                                                "sync"};
    for (std::string_view name : internal::TopLevelReplicaKeyNames()) {
      if (name != "retention") k->push_back(name);
    }
    return k;
  }();
  return *keys;
}

const std::vector<std::string_view> kDbKeys = {"path",
                                               "dir",
                                               "pattern",
                                               "recursive",
                                               "watch",
                                               "meta-path",
                                               "meta-dir",
                                               "monitor-interval",
                                               "checkpoint-interval",
                                               "busy-timeout",
                                               "min-checkpoint-page-count",
                                               "max-checkpoint-page-count",
                                               "truncate-page-n",
                                               "max-sync-wal-bytes",
                                               "restore-if-db-not-exists",
                                               "new-history",
                                               "snapshot",
                                               "replica",
                                               "replicas"};

// Keys Litestream 0.5 knows that litekeep refuses, with the reason
// (docs/config.md, "Status"; docs/migrating.md, "Refused keys"). They stay
// known keys so the error says why rather than "unknown key".
struct RefusedKey {
  std::string_view key;  // dotted path below its map, e.g. "logging.source"
  std::string_view reason;
};
constexpr RefusedKey kRefusedKeys[] = {
    {"logging.source",
     "not implemented in litekeep (log lines carry no source location); "
     "remove the key (see docs/migrating.md)"},
};

// The refusal error for key (one of kRefusedKeys), naming its line.
Status Refuse(const Walker& w, int line, std::string_view key) {
  for (const RefusedKey& r : kRefusedKeys) {
    if (r.key == key) {
      return w.Error(line, std::string(key) + ": " + std::string(r.reason));
    }
  }
  return w.Error(line, std::string(key) + ": not supported by litekeep");
}

}  // namespace

namespace internal {
const std::vector<std::string_view>& DbKeyNames() { return kDbKeys; }
}  // namespace internal

namespace {

Status ParseLogging(const Walker& w, const Entry& entry, LoggingConfig* out) {
  LK_ASSIGN_OR_RETURN(auto entries,
                      w.Entries(entry.value, entry.line, "logging",
                                {"level", "type", "stderr", "source"}));
  for (const Entry& e : entries) {
    if (e.key == "level") {
      std::string level;
      LK_RETURN_IF_ERROR(w.ReadString(e, &level));
      std::string lower = internal::Lower(level);
      if (lower == "warning") lower = "warn";
      if (!level.empty() && lower != "debug" && lower != "info" &&
          lower != "warn" && lower != "error") {
        return w.Error(e.line, "level: unknown log level \"" + level +
                                   "\" (use debug, info, warn or error)");
      }
      if (!level.empty()) out->level = lower;
    } else if (e.key == "type") {
      std::string type;
      LK_RETURN_IF_ERROR(w.ReadString(e, &type));
      if (!type.empty() && type != "text" && type != "json") {
        return w.Error(e.line, "type: unknown log type \"" + type +
                                   "\" (use text or json)");
      }
      if (!type.empty()) out->type = type;
    } else if (e.key == "stderr") {
      LK_RETURN_IF_ERROR(w.ReadBool(e, &out->to_stderr));
    } else if (e.key == "source") {
      return Refuse(w, e.line, "logging.source");
    }
  }
  return Status::Ok();
}

// A non-negative integer into an optional (left unset when null).
Status ReadOptCount(const Walker& w, const Entry& e,
                    std::optional<int64_t>* out) {
  int64_t v = -1;
  LK_RETURN_IF_ERROR(w.ReadCount(e, &v));
  if (v >= 0) *out = v;
  return Status::Ok();
}

// `levels:`; a null value leaves the levels unset (the defaults).
Status ParseLevels(const Walker& w, const Entry& entry,
                   std::optional<std::vector<LevelConfig>>* levels) {
  if (entry.value.IsNull()) return Status::Ok();
  if (!entry.value.IsSequence()) {
    return w.Error(entry.line,
                   "levels: expected a list of {interval: DURATION}");
  }
  std::vector<LevelConfig>* out = &levels->emplace();
  for (const YAML::Node& item : entry.value) {
    int line = Walker::LineOf(item, entry.line);
    LK_ASSIGN_OR_RETURN(auto entries,
                        w.Entries(item, line, "level", {"interval"}));
    std::optional<Duration> interval;
    for (const Entry& e : entries) {
      LK_RETURN_IF_ERROR(w.ReadOptDuration(e, /*allow_zero=*/false, &interval));
    }
    if (!interval) return w.Error(line, "level: `interval:` is required");
    out->push_back(LevelConfig{*interval});
  }
  return Status::Ok();
}

// `snapshot: {interval, retention}` at the top level or in a db.
Status ParseSnapshot(const Walker& w, const Entry& entry,
                     std::optional<Duration>* interval,
                     std::optional<Duration>* retention) {
  LK_ASSIGN_OR_RETURN(auto entries,
                      w.Entries(entry.value, entry.line, "snapshot",
                                {"interval", "retention"}));
  for (const Entry& e : entries) {
    LK_RETURN_IF_ERROR(w.ReadOptDuration(
        e, /*allow_zero=*/false, e.key == "interval" ? interval : retention));
  }
  return Status::Ok();
}

// `socket: {enabled, path, permissions}`. permissions is a file mode, read
// as Go's YAML reads it: octal with a leading 0 or 0o (`0600`), else
// decimal.
Status ParseSocket(const Walker& w, const Entry& entry, SocketConfig* out) {
  LK_ASSIGN_OR_RETURN(auto entries,
                      w.Entries(entry.value, entry.line, "socket",
                                {"enabled", "path", "permissions"}));
  for (const Entry& e : entries) {
    if (e.key == "enabled") {
      LK_RETURN_IF_ERROR(w.ReadBool(e, &out->enabled));
    } else if (e.key == "path") {
      std::string path;
      LK_RETURN_IF_ERROR(w.ReadString(e, &path));
      if (path.empty()) continue;
      auto p = ExpandPath(path);
      if (!p.ok()) return w.Error(e.line, "path: " + p.status().message());
      out->path = *p;
    } else {
      std::string text;
      LK_RETURN_IF_ERROR(w.ReadString(e, &text));
      if (text.empty()) continue;
      std::string digits = text;
      int base = 10;
      if (digits.rfind("0o", 0) == 0 || digits.rfind("0O", 0) == 0) {
        digits = digits.substr(2);
        base = 8;
      } else if (digits.size() > 1 && digits[0] == '0') {
        base = 8;
      }
      char* end = nullptr;
      errno = 0;
      const unsigned long mode = std::strtoul(digits.c_str(), &end, base);
      if (digits.empty() || *end != '\0' || errno != 0 || mode > 0777 ||
          digits[0] == '-' || digits[0] == '+') {
        return w.Error(e.line,
                       "permissions: expected a file mode such as "
                       "0600 or 0660, got \"" +
                           text + "\"");
      }
      out->permissions = static_cast<uint32_t>(mode);
    }
  }
  return Status::Ok();
}

Status ParseTopLevelEntry(const Walker& w, const Entry& e, Config* c,
                          ReplicaNode* globals) {
  const std::string& k = e.key;
  if (k == "addr") return w.ReadString(e, &c->addr);
  if (k == "exec") return w.ReadString(e, &c->exec);
  if (k == "mcp-addr") return w.ReadString(e, &c->mcp_addr);
  if (k == "verify-compaction") return w.ReadBool(e, &c->verify_compaction);
  if (k == "socket") return ParseSocket(w, e, &c->socket);
  if (k == "litestream-metrics") {
    return w.ReadBool(e, &c->litestream_metrics);
  }
  if (k == "health-max-sync-age") {
    return w.ReadDuration(e, false, &c->health_max_sync_age);
  }
  if (k == "logging") return ParseLogging(w, e, &c->logging);
  if (k == "levels") return ParseLevels(w, e, &c->levels);
  if (k == "l0-retention") return w.ReadDuration(e, true, &c->l0_retention);
  if (k == "l0-retention-check-interval") {
    return w.ReadDuration(e, false, &c->l0_retention_check_interval);
  }
  if (k == "wait-lease") return w.ReadBool(e, &c->wait_lease);
  if (k == "shutdown-sync-timeout") {
    return w.ReadDuration(e, true, &c->shutdown_sync_timeout);
  }
  if (k == "shutdown-sync-interval") {
    return w.ReadDuration(e, false, &c->shutdown_sync_interval);
  }
  if (k == "heartbeat-url") {
    LK_RETURN_IF_ERROR(w.ReadString(e, &c->heartbeat_url));
    const std::string& u = c->heartbeat_url;
    if (!u.empty() && u.rfind("http://", 0) != 0 &&
        u.rfind("https://", 0) != 0) {
      return w.Error(e.line,
                     "heartbeat-url: must be an http:// or https:// URL");
    }
    return Status::Ok();
  }
  if (k == "heartbeat-interval") {
    LK_RETURN_IF_ERROR(w.ReadDuration(e, false, &c->heartbeat_interval));
    if (c->heartbeat_interval < std::chrono::minutes(1)) {
      return w.Error(e.line, "heartbeat-interval: must be at least 1m");
    }
    return Status::Ok();
  }
  if (k == "snapshot") {
    std::optional<Duration> interval;
    std::optional<Duration> retention;
    LK_RETURN_IF_ERROR(ParseSnapshot(w, e, &interval, &retention));
    if (interval) c->snapshot_interval = *interval;
    if (retention) c->retention = *retention;
    return Status::Ok();
  }
  if (k == "validation") {
    LK_ASSIGN_OR_RETURN(auto entries,
                        w.Entries(e.value, e.line, "validation", {"interval"}));
    for (const Entry& v : entries) {
      LK_RETURN_IF_ERROR(w.ReadOptDuration(v, false, &c->validation_interval));
    }
    return Status::Ok();
  }
  if (k == "retention") {
    // 0.5: `retention: {enabled: BOOL}`; a duration sets the default
    // retention of every replica (litekeep; 0.3 had it per replica).
    if (e.value.IsMap()) {
      LK_ASSIGN_OR_RETURN(auto entries,
                          w.Entries(e.value, e.line, "retention", {"enabled"}));
      for (const Entry& v : entries) {
        LK_RETURN_IF_ERROR(w.ReadBool(v, &c->retention_enabled));
      }
      return Status::Ok();
    }
    return w.ReadDuration(e, false, &c->retention);
  }
  // Everything else at the top level is a replica default.
  return internal::ReadReplicaEntry(w, e, globals);
}

// Makes the db's paths absolute (~ expanded, relative to the current dir).
Status CheckDbPaths(const Walker& w, DbConfig* db, int path_line) {
  if (!db->path.empty()) {
    auto p = ExpandPath(internal::StripSqlitePrefix(db->path));
    if (!p.ok()) return w.Error(path_line, "path: " + p.status().message());
    db->path = *p;
  }
  for (std::string* dir : {&db->dir, &db->meta_path, &db->meta_dir}) {
    if (dir->empty()) continue;
    auto p = ExpandPath(*dir);
    if (!p.ok()) return w.Error(db->line, p.status().message());
    *dir = *p;
  }
  return Status::Ok();
}

Result<DbConfig> ParseDb(const Walker& w, const YAML::Node& node, int line,
                         const ReplicaNode& globals, const Config& config) {
  DbConfig db;
  db.line = line;
  if (node.IsScalar()) {
    return w.Error(line, "dbs: each entry is a map (e.g. `- path: " +
                             node.Scalar() + "`)");
  }
  LK_ASSIGN_OR_RETURN(auto entries, w.Entries(node, line, "db", kDbKeys));
  int path_line = line;
  const Entry* replica = nullptr;
  const Entry* replicas = nullptr;
  int max_checkpoint_line = 0;  // 0: max-checkpoint-page-count not written
  for (const Entry& e : entries) {
    const std::string& k = e.key;
    Status s;
    if (k == "path") {
      s = w.ReadString(e, &db.path);
      path_line = e.line;
    } else if (k == "dir") {
      s = w.ReadString(e, &db.dir);
    } else if (k == "pattern") {
      s = w.ReadString(e, &db.pattern);
    } else if (k == "recursive") {
      s = w.ReadBool(e, &db.recursive);
    } else if (k == "watch") {
      s = w.ReadBool(e, &db.watch);
    } else if (k == "meta-path") {
      s = w.ReadString(e, &db.meta_path);
    } else if (k == "meta-dir") {
      s = w.ReadString(e, &db.meta_dir);
    } else if (k == "max-sync-wal-bytes") {
      int64_t v = -1;
      s = w.ReadSize(e, &v);
      if (s.ok() && v >= 0) db.max_sync_wal_bytes = v;
    } else if (k == "monitor-interval") {
      s = w.ReadDuration(e, false, &db.monitor_interval);
    } else if (k == "checkpoint-interval") {
      s = w.ReadOptDuration(e, true, &db.checkpoint_interval);
    } else if (k == "busy-timeout") {
      s = w.ReadOptDuration(e, true, &db.busy_timeout);
    } else if (k == "min-checkpoint-page-count") {
      s = ReadOptCount(w, e, &db.min_checkpoint_page_count);
    } else if (k == "max-checkpoint-page-count") {
      s = w.ReadCount(e, &db.max_checkpoint_page_count);
      max_checkpoint_line = e.line;
    } else if (k == "truncate-page-n") {
      s = ReadOptCount(w, e, &db.truncate_page_n);
    } else if (k == "restore-if-db-not-exists") {
      s = w.ReadBool(e, &db.restore_if_db_not_exists);
    } else if (k == "new-history") {
      s = w.ReadBool(e, &db.new_history);
    } else if (k == "snapshot") {
      s = ParseSnapshot(w, e, &db.snapshot_interval, &db.snapshot_retention);
    } else if (k == "replica") {
      replica = &e;
    } else if (k == "replicas") {
      replicas = &e;
    }
    LK_RETURN_IF_ERROR(s);
  }

  if (!db.path.empty() && !db.dir.empty()) {
    return w.Error(line, "db: set `path:` or `dir:`, not both");
  }
  if (db.path.empty() && db.dir.empty()) {
    return w.Error(line,
                   "db: needs `path:` (a database) or `dir:` (a "
                   "directory of databases)");
  }
  if (!db.dir.empty() && db.pattern.empty()) {
    return w.Error(line,
                   "db: `pattern:` is required with `dir:` (e.g. "
                   "pattern: \"*.db\")");
  }
  if (db.watch && db.dir.empty()) {
    return w.Error(line, "db: `watch:` needs `dir:`");
  }
  if (!db.meta_dir.empty() && db.dir.empty()) {
    return w.Error(line,
                   "db: `meta-dir:` needs `dir:` (for one database use "
                   "`meta-path:`)");
  }
  if (!db.meta_dir.empty() && !db.meta_path.empty()) {
    return w.Error(line, "db: set `meta-path:` or `meta-dir:`, not both");
  }
  // 0.3's forced-checkpoint threshold is litekeep's forced (TRUNCATE)
  // checkpoint threshold unless that is written too.
  if (max_checkpoint_line != 0 && db.max_checkpoint_page_count > 0 &&
      !db.truncate_page_n) {
    db.truncate_page_n = db.max_checkpoint_page_count;
  }
  if (replica != nullptr && replicas != nullptr) {
    return w.Error(replicas->line,
                   "db: set `replica:` or `replicas:`, not both");
  }
  LK_RETURN_IF_ERROR(CheckDbPaths(w, &db, path_line));

  std::vector<std::pair<YAML::Node, int>> replica_nodes;
  if (replica != nullptr && !replica->value.IsNull()) {
    replica_nodes.emplace_back(replica->value,
                               Walker::LineOf(replica->value, replica->line));
  }
  if (replicas != nullptr && !replicas->value.IsNull()) {
    if (!replicas->value.IsSequence()) {
      return w.Error(replicas->line,
                     "replicas: expected a list (use `replica:` for a single "
                     "map)");
    }
    for (const YAML::Node& item : replicas->value) {
      replica_nodes.emplace_back(item, Walker::LineOf(item, replicas->line));
    }
  }
  for (const auto& [node, node_line] : replica_nodes) {
    LK_ASSIGN_OR_RETURN(
        ReplicaConfig r,
        internal::BuildReplica(w, node, node_line, globals, db, config));
    // Replicas are chosen by name (`restore -replica NAME`), so two of one
    // database may not share one (docs/config.md, `name`).
    for (const auto& other : db.replicas) {
      if (ReplicaName(other) == ReplicaName(r)) {
        return w.Error(
            node_line,
            "replicas: two replicas of this database are named \"" +
                ReplicaName(r) +
                "\" (a replica without `name:` is named after its type); "
                "give each a unique `name:`");
      }
    }
    db.replicas.push_back(std::move(r));
  }
  return db;
}

Result<Config> ParseRoot(const Walker& w, const YAML::Node& root,
                         const std::string& source) {
  Config c;
  c.source = source;
  if (root.IsNull()) return c;
  if (!root.IsMap()) {
    return w.Error(Walker::LineOf(root, 1),
                   "expected a map of settings at the top level");
  }
  LK_ASSIGN_OR_RETURN(auto entries,
                      w.Entries(root, 1, "top level", TopLevelKeys()));
  ReplicaNode globals;
  const Entry* dbs = nullptr;
  const Entry* syncs = nullptr;
  for (const Entry& e : entries) {
    if (e.key == "sync") {
      syncs = &e;
      continue;
    }
    if (e.key.rfind("x-", 0) == 0) continue;  // user extension (anchors)
    if (e.key == "dbs") {
      dbs = &e;
      continue;
    }
    LK_RETURN_IF_ERROR(ParseTopLevelEntry(w, e, &c, &globals));
  }
  c.replica_defaults = globals.config;
  if (syncs != nullptr) {
    LK_RETURN_IF_ERROR(internal::ParseSyncList(w, *syncs, &c));
  }
  if (dbs == nullptr || dbs->value.IsNull()) return c;
  if (!dbs->value.IsSequence()) {
    return w.Error(dbs->line, "dbs: expected a list of databases");
  }
  std::map<std::string, int> seen;  // path or dir -> line
  for (const YAML::Node& item : dbs->value) {
    int line = Walker::LineOf(item, dbs->line);
    LK_ASSIGN_OR_RETURN(DbConfig db, ParseDb(w, item, line, globals, c));
    const std::string& id = db.path.empty() ? db.dir : db.path;
    auto [it, inserted] = seen.emplace(id, line);
    if (!inserted) {
      return w.Error(line, "duplicate db " +
                               std::string(db.path.empty() ? "dir" : "path") +
                               " \"" + id + "\" (first on line " +
                               std::to_string(it->second) + ")");
    }
    c.dbs.push_back(std::move(db));
  }
  return c;
}

}  // namespace

Result<Config> Parse(std::string_view yaml, const std::string& source,
                     bool expand_env) {
  std::string text = expand_env ? ExpandEnv(yaml) : std::string(yaml);
  Walker w(source);
  try {
    YAML::Node root = YAML::Load(text);
    return ParseRoot(w, root, source);
  } catch (const YAML::Exception& e) {
    // yaml-cpp messages name the position and the rule, not the content.
    return w.Error(e.mark.line >= 0 ? e.mark.line + 1 : 0,
                   "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return base::InternalError(source + ": reading config: " + e.what());
  }
}

Result<Config> LoadFile(const std::string& path, bool expand_env) {
  LK_ASSIGN_OR_RETURN(std::string full, ExpandPath(path));
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) {
      return base::NotFoundError("config file not found: " + path);
    }
    return base::ErrnoError("open config " + path, err);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return base::IoError("read config " + path);
  return Parse(text.str(), path, expand_env);
}

std::string DefaultConfigPath() {
  for (const char* name : {"LITEKEEP_CONFIG", "LITESTREAM_CONFIG"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return v;
  }
  for (const char* candidate : {"/etc/litekeep.yml", "/etc/litestream.yml"}) {
    std::ifstream f(candidate);
    if (f.good()) return candidate;
  }
  return "/etc/litekeep.yml";
}

}  // namespace litekeep::config
