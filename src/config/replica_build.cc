// Building a ReplicaConfig from a `replica:` map or a `replicas:` item:
// explicit keys, then the url, then top-level defaults; type inference;
// per-type checks that the replica has a destination.
#include <string>
#include <string_view>
#include <vector>

#include "config/internal.h"
#include "config/yaml_walk.h"
#include "storage/registry.h"
#include "storage/url.h"

namespace litekeep::config::internal {
namespace {

std::vector<std::string_view> Names(bool top_level_only) {
  std::vector<std::string_view> names;
  for (const ReplicaKey& k : ReplicaKeys()) {
    if (!top_level_only || k.top_level) names.push_back(k.name);
  }
  return names;
}

}  // namespace

const std::vector<std::string_view>& ReplicaKeyNames() {
  static const auto* names = new std::vector<std::string_view>(Names(false));
  return *names;
}

const std::vector<std::string_view>& TopLevelReplicaKeyNames() {
  static const auto* names = new std::vector<std::string_view>(Names(true));
  return *names;
}

Status ReadReplicaEntry(const Walker& w, const Entry& e, ReplicaNode* node) {
  const ReplicaKey* key = FindReplicaKey(e.key);
  if (key == nullptr) return w.Error(e.line, "internal: not a replica key");
  std::string text;
  if (key->kind == KeyKind::kAge) {
    LK_RETURN_IF_ERROR(ReadAgeEntry(w, e, &node->config));
    node->keys.insert(e.key);
    return Status::Ok();
  }
  if (key->kind == KeyKind::kStorage &&
      storage::FindSetting(e.key)->kind == storage::SettingKind::kStringList &&
      !e.value.IsNull()) {
    // root-cas: a list of strings (or one string), each item set in turn.
    std::vector<std::string> items;
    if (e.value.IsSequence()) {
      for (const YAML::Node& item : e.value) {
        if (!item.IsScalar()) {
          return w.Error(Walker::LineOf(item, e.line),
                         e.written + ": expected a list of file names");
        }
        items.push_back(item.Scalar());
      }
    } else {
      LK_ASSIGN_OR_RETURN(auto scalar, w.Scalar(e));
      if (scalar) items.push_back(*scalar);
    }
    for (const std::string& item : items) {
      Status s = SetReplicaValue(*key, item, &node->config);
      if (!s.ok()) return w.KeyError(e, s);
    }
    node->keys.insert(e.key);
    return Status::Ok();
  }
  if (key->kind == KeyKind::kRejected) {
    // Refused whatever its value.
  } else if (e.value.IsSequence() && key->kind == KeyKind::kStorage &&
             (storage::FindSetting(e.key)->kind ==
                  storage::SettingKind::kForeign ||
              storage::FindSetting(e.key)->kind ==
                  storage::SettingKind::kRefused)) {
    // root-cas and the like: refused below whatever the value.
  } else {
    LK_ASSIGN_OR_RETURN(auto scalar, w.Scalar(e));
    if (!scalar) return Status::Ok();  // `key:` with no value: unset
    text = *scalar;
  }
  Status s = SetReplicaValue(*key, text, &node->config);
  if (!s.ok()) return w.KeyError(e, s);
  node->keys.insert(e.key);
  return Status::Ok();
}

Result<ReplicaConfig> BuildReplica(const Walker& w, const YAML::Node& node,
                                   int line, const ReplicaNode& globals,
                                   const DbConfig& db, const Config& config) {
  ReplicaNode own;
  own.config.line = line;
  LK_ASSIGN_OR_RETURN(auto entries,
                      w.Entries(node, line, "replica", ReplicaKeyNames()));
  int url_line = line;
  int path_line = line;
  int type_line = line;
  for (const Entry& e : entries) {
    LK_RETURN_IF_ERROR(ReadReplicaEntry(w, e, &own));
    if (e.key == "url") url_line = e.line;
    if (e.key == "path") path_line = e.line;
    if (e.key == "type") type_line = e.line;
  }
  const ReplicaConfig& o = own.config;
  if (own.keys.count("path") && IsUrl(o.path)) {
    return w.Error(path_line,
                   "replica path cannot be a URL; use `url:` instead");
  }

  ReplicaNode from_url;
  if (!o.url.empty()) {
    auto parsed = storage::ParseReplicaUrl(o.url, &from_url.keys);
    if (!parsed.ok())
      return w.Error(url_line, "url: " + parsed.status().message());
    static_cast<storage::ReplicaSettings&>(from_url.config) =
        *std::move(parsed);
  }

  // Explicit keys > url > top-level settings > defaults.
  ReplicaConfig r;
  r.line = line;
  r.url = o.url;
  std::set<std::string> set_keys;
  for (const ReplicaKey& key : ReplicaKeys()) {
    std::string name(key.name);
    if (own.keys.count(name)) {
      CopyReplicaValue(key, o, &r);
    } else if (from_url.keys.count(name)) {
      CopyReplicaValue(key, from_url.config, &r);
    } else if (globals.keys.count(name) && key.top_level &&
               !(name == "bucket" && !o.url.empty())) {
      CopyReplicaValue(key, globals.config, &r);
    } else {
      continue;
    }
    set_keys.insert(name);
  }

  // Type: from the url scheme, else `type:`, else file (as Litestream). The
  // backend table (storage/registry.h) says which types are built.
  std::string type = own.keys.count("type") ? o.type : "";
  if (!type.empty()) {
    auto backend = storage::FindBuiltBackend(type);
    if (!backend.ok()) {
      return w.Error(type_line, "type: " + backend.status().message());
    }
    type = std::string((*backend)->type);
  }
  if (from_url.keys.count("type")) {
    if (!type.empty() && type != from_url.config.type) {
      return w.Error(type_line, "type: \"" + type +
                                    "\" does not match the url scheme (" +
                                    from_url.config.type + ")");
    }
    type = from_url.config.type;
  }
  r.type = type.empty() ? "file" : type;
  auto backend = storage::FindBuiltBackend(r.type);
  if (!backend.ok()) return w.Error(line, backend.status().message());

  // Every storage setting written for this replica must be one its backend
  // uses; top-level defaults apply only where they are used.
  for (const Entry& e : entries) {
    const ReplicaKey* key = FindReplicaKey(e.key);
    if (key->kind == KeyKind::kStorage && !(*backend)->Uses(e.key)) {
      return w.Error(e.line, e.written + ": not used by " + r.type +
                                 " replicas; remove it (docs/config.md lists "
                                 "each backend's keys)");
    }
  }
  for (const std::string& name : from_url.keys) {
    const ReplicaKey* key = FindReplicaKey(name);
    if (key != nullptr && key->kind == KeyKind::kStorage &&
        !(*backend)->Uses(name)) {
      return w.Error(url_line, "url: sets " + name + ", which " + r.type +
                                   " replicas do not use");
    }
  }

  // A custom endpoint means path style unless said otherwise (Litestream).
  if (r.type == "s3" && !set_keys.count("force-path-style") &&
      !EnsureEndpointScheme(r.endpoint).empty()) {
    r.force_path_style = true;
  }
  if (r.type == "file" && !r.path.empty()) {
    auto abs = ExpandPath(r.path);
    if (!abs.ok()) return w.Error(path_line, "path: " + abs.status().message());
    r.path = *abs;
  }
  Status checked = storage::CheckSettings(&r);
  if (!checked.ok()) {
    std::string msg = checked.message();
    if (r.type == "file" && r.path.empty()) {
      msg = "file replica has no destination (set `path:` or `url:`)";
    }
    return w.Error(line, msg);
  }

  // Timing defaults: the replica's own, then the db's `snapshot:`, then the
  // top level.
  if (!r.snapshot_interval) {
    r.snapshot_interval =
        db.snapshot_interval ? *db.snapshot_interval : config.snapshot_interval;
  }
  if (!r.retention) {
    r.retention =
        db.snapshot_retention ? *db.snapshot_retention : config.retention;
  }
  if (!r.retention_check_interval) {
    r.retention_check_interval = config.retention_check_interval;
  }
  if (!r.validation_interval)
    r.validation_interval = config.validation_interval;
  return r;
}

}  // namespace litekeep::config::internal
