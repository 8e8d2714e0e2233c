// `sync:` entries of the config file -> SyncConfig (docs/sync.md).
#include <filesystem>
#include <map>

#include "config/internal.h"
#include "config/sync_parse.h"

namespace litekeep::config {

namespace internal {
namespace {

const std::vector<std::string_view> kSyncKeys = {
    "src", "dest", "watch", "delete", "interval", "max-interval", "include",
    "exclude", "max-size", "max-total-size", "parallelism", "state",
    // Connection settings of the source (as in a replica entry).
    "region", "endpoint", "force-path-style", "skip-verify", "access-key-id",
    "secret-access-key"};

// A string or a list of strings.
Status ReadStrings(const Walker& w, const Entry& e,
                   std::vector<std::string>* out) {
  if (e.value.IsNull()) return Status::Ok();
  if (e.value.IsSequence()) {
    for (const YAML::Node& item : e.value) {
      if (!item.IsScalar()) {
        return w.Error(Walker::LineOf(item, e.line),
                       e.written + ": expected a list of patterns");
      }
      out->push_back(item.Scalar());
    }
    return Status::Ok();
  }
  std::string one;
  LK_RETURN_IF_ERROR(w.ReadString(e, &one));
  out->push_back(one);
  return Status::Ok();
}

Result<SyncConfig> ParseSync(const Walker& w, const YAML::Node& node, int line,
                             const Config& config) {
  if (!node.IsMap()) {
    return w.Error(line, "sync: each entry must be a map with src and dest");
  }
  LK_ASSIGN_OR_RETURN(auto entries, w.Entries(node, line, "sync", kSyncKeys));
  SyncConfig s;
  s.line = line;
  ReplicaConfig conn;  // connection keys written in the entry
  std::set<std::string> conn_keys;
  for (const Entry& e : entries) {
    const std::string& k = e.key;
    if (k == "src") {
      LK_RETURN_IF_ERROR(w.ReadString(e, &s.src));
    } else if (k == "dest") {
      LK_RETURN_IF_ERROR(w.ReadString(e, &s.dest));
    } else if (k == "watch") {
      LK_RETURN_IF_ERROR(w.ReadBool(e, &s.watch));
    } else if (k == "delete") {
      LK_RETURN_IF_ERROR(w.ReadBool(e, &s.delete_extra));
    } else if (k == "interval") {
      LK_RETURN_IF_ERROR(w.ReadDuration(e, false, &s.interval));
    } else if (k == "max-interval") {
      LK_RETURN_IF_ERROR(w.ReadDuration(e, false, &s.max_interval));
    } else if (k == "include") {
      LK_RETURN_IF_ERROR(ReadStrings(w, e, &s.include));
    } else if (k == "exclude") {
      LK_RETURN_IF_ERROR(ReadStrings(w, e, &s.exclude));
    } else if (k == "max-size") {
      LK_RETURN_IF_ERROR(w.ReadSize(e, &s.max_size));
    } else if (k == "max-total-size") {
      LK_RETURN_IF_ERROR(w.ReadSize(e, &s.max_total_size));
    } else if (k == "parallelism") {
      LK_RETURN_IF_ERROR(w.ReadCount(e, &s.parallelism));
      if (s.parallelism == 0) {
        return w.Error(e.line, e.written + ": must be at least 1");
      }
    } else if (k == "state") {
      LK_RETURN_IF_ERROR(w.ReadString(e, &s.state));
    } else {
      const ReplicaKey* key = FindReplicaKey(k);
      LK_ASSIGN_OR_RETURN(auto text, w.Scalar(e));
      if (key == nullptr || !text) continue;
      Status set = SetReplicaValue(*key, *text, &conn);
      if (!set.ok()) return w.KeyError(e, set);
      conn_keys.insert(k);
    }
  }
  if (s.src.empty())
    return w.Error(line, "sync: src (the source URL) is required");
  if (s.dest.empty()) {
    return w.Error(line, "sync: dest (the local directory) is required");
  }
  auto source = ParseReplicaUrl(s.src);
  if (!source.ok())
    return w.Error(line, "sync: src: " + source.status().message());
  s.source = std::move(*source);
  for (const std::string& k : conn_keys) {
    CopyReplicaValue(*FindReplicaKey(k), conn, &s.source);
  }
  ApplyReplicaDefaults(config, &s.source);
  auto dest = ExpandPath(s.dest);
  if (!dest.ok())
    return w.Error(line, "sync: dest: " + dest.status().message());
  s.dest = std::filesystem::path(*dest).lexically_normal().string();
  while (s.dest.size() > 1 && s.dest.back() == '/') s.dest.pop_back();
  if (!s.state.empty()) {
    auto state = ExpandPath(s.state);
    if (!state.ok())
      return w.Error(line, "sync: state: " + state.status().message());
    s.state = *state;
  }
  if (s.max_interval < s.interval) s.max_interval = s.interval;
  return s;
}

}  // namespace

Status ParseSyncList(const Walker& w, const Entry& entry, Config* config) {
  if (entry.value.IsNull()) return Status::Ok();
  if (!entry.value.IsSequence()) {
    return w.Error(entry.line,
                   "sync: expected a list of {src, dest, ...} entries");
  }
  std::map<std::string, int> seen;  // dest -> line
  for (const YAML::Node& item : entry.value) {
    int line = Walker::LineOf(item, entry.line);
    LK_ASSIGN_OR_RETURN(SyncConfig s, ParseSync(w, item, line, *config));
    auto [it, inserted] = seen.emplace(s.dest, line);
    if (!inserted) {
      return w.Error(line, "sync: dest " + s.dest +
                               " is already the destination of the entry on "
                               "line " +
                               std::to_string(it->second));
    }
    config->syncs.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace litekeep::config
