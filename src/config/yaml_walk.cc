// Walking the YAML tree for the config loader: canonical key names,
// unknown/duplicate key errors with line numbers, typed scalar reads.
#include "config/yaml_walk.h"

#include <algorithm>
#include <string>

#include "config/internal.h"

namespace litekeep::config::internal {
namespace {

std::string KindName(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "a scalar";
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// For a key that is known one level up or down: where it belongs.
std::string Misplaced(std::string_view where, const std::string& key) {
  if (where == "top level" && Contains(DbKeyNames(), key)) {
    return " (\"" + key + "\" belongs in a \"dbs:\" entry)";
  }
  if ((where == "db" || where == "top level") &&
      Contains(ReplicaKeyNames(), key)) {
    return " (\"" + key + "\" is a replica setting: put it under \"replica:\")";
  }
  if (where == "replica" && Contains(DbKeyNames(), key)) {
    return " (\"" + key + "\" is a db setting: put it one level up)";
  }
  return "";
}

}  // namespace

Status Walker::Error(int line, std::string_view message) const {
  std::string where = source_;
  if (line > 0) where += ":" + std::to_string(line);
  return base::InvalidArgumentError(where + ": " + std::string(message));
}

int Walker::LineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined()) return fallback;
  YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : fallback;
}

Status Walker::CollectEntries(const YAML::Node& map, int line,
                              std::string_view where,
                              const std::vector<std::string_view>& known,
                              int depth, std::vector<Entry>* out) const {
  if (!map.IsMap()) {
    return Error(LineOf(map, line),
                 std::string(where) + ": expected a map, got " + KindName(map));
  }
  std::vector<YAML::Node> merges;
  size_t first_own = out->size();
  for (auto it = map.begin(); it != map.end(); ++it) {
    int key_line = LineOf(it->first, line);
    if (!it->first.IsScalar()) {
      return Error(key_line,
                   "keys in " + std::string(where) + " must be plain names");
    }
    std::string written = it->first.Scalar();
    if (written == "<<") {
      merges.push_back(it->second);
      continue;
    }
    std::string key = written;
    if (!Contains(known, key)) key = KebabCase(written);
    // "x-..." keys at the top level hold YAML anchors (as in Compose files).
    bool extension =
        depth == 0 && where == "top level" && written.rfind("x-", 0) == 0;
    if (extension) key = written;
    if (!extension && !Contains(known, key)) {
      std::string hint = Misplaced(where, KebabCase(written));
      if (hint.empty()) hint = SuggestKey(written, known);
      return Error(key_line, "unknown key \"" + written + "\" in " +
                                 std::string(where) + hint);
    }
    for (size_t i = first_own; i < out->size(); ++i) {
      if ((*out)[i].key == key) {
        return Error(key_line, "duplicate key \"" + written + "\" in " +
                                   std::string(where) + " (first on line " +
                                   std::to_string((*out)[i].line) + ")");
      }
    }
    out->push_back(Entry{key, written, key_line, it->second});
  }
  // `<<: *anchor` merges: keys written in the map itself win.
  if (depth > 8) return Error(line, "merge keys nested too deeply");
  for (const YAML::Node& merge : merges) {
    std::vector<YAML::Node> sources;
    if (merge.IsSequence()) {
      for (const YAML::Node& n : merge) sources.push_back(n);
    } else {
      sources.push_back(merge);
    }
    for (const YAML::Node& source : sources) {
      std::vector<Entry> merged;
      LK_RETURN_IF_ERROR(CollectEntries(source, LineOf(source, line), where,
                                        known, depth + 1, &merged));
      for (Entry& e : merged) {
        bool present =
            std::any_of(out->begin() + first_own, out->end(),
                        [&](const Entry& o) { return o.key == e.key; });
        if (!present) out->push_back(std::move(e));
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<Entry>> Walker::Entries(
    const YAML::Node& map, int line, std::string_view where,
    const std::vector<std::string_view>& known) const {
  std::vector<Entry> out;
  if (map.IsNull()) return out;
  LK_RETURN_IF_ERROR(CollectEntries(map, line, where, known, 0, &out));
  return out;
}

Result<std::optional<std::string>> Walker::Scalar(const Entry& e) const {
  if (e.value.IsNull()) return std::optional<std::string>();
  if (!e.value.IsScalar()) {
    return Error(e.line, e.written + ": expected a single value, got " +
                             KindName(e.value));
  }
  return std::optional<std::string>(e.value.Scalar());
}

Status Walker::KeyError(const Entry& e, const Status& cause) const {
  return Error(e.line, e.written + ": " + cause.message());
}

Status Walker::ReadString(const Entry& e, std::string* out) const {
  LK_ASSIGN_OR_RETURN(auto text, Scalar(e));
  if (text) *out = *text;
  return Status::Ok();
}

Status Walker::ReadBool(const Entry& e, bool* out) const {
  LK_ASSIGN_OR_RETURN(auto text, Scalar(e));
  if (!text) return Status::Ok();
  auto v = ParseBool(*text);
  if (!v.ok()) return KeyError(e, v.status());
  *out = *v;
  return Status::Ok();
}

Status Walker::ReadOptDuration(const Entry& e, bool allow_zero,
                               std::optional<Duration>* out) const {
  LK_ASSIGN_OR_RETURN(auto text, Scalar(e));
  if (!text) return Status::Ok();
  auto d = ParseDuration(*text);
  if (!d.ok()) return KeyError(e, d.status());
  if (d->count() < 0) {
    return Error(e.line,
                 e.written + ": must not be negative, got \"" + *text + "\"");
  }
  if (d->count() == 0 && !allow_zero) {
    return Error(e.line, e.written + ": must be greater than 0");
  }
  *out = *d;
  return Status::Ok();
}

Status Walker::ReadDuration(const Entry& e, bool allow_zero,
                            Duration* out) const {
  std::optional<Duration> d;
  LK_RETURN_IF_ERROR(ReadOptDuration(e, allow_zero, &d));
  if (d) *out = *d;
  return Status::Ok();
}

Status Walker::ReadCount(const Entry& e, int64_t* out) const {
  LK_ASSIGN_OR_RETURN(auto text, Scalar(e));
  if (!text) return Status::Ok();
  auto v = ParseInt(*text);
  if (!v.ok()) return KeyError(e, v.status());
  if (*v < 0) {
    return Error(e.line, e.written + ": must not be negative, got " +
                             std::to_string(*v));
  }
  *out = *v;
  return Status::Ok();
}

Status Walker::ReadSize(const Entry& e, int64_t* out) const {
  std::string text;
  LK_RETURN_IF_ERROR(ReadString(e, &text));
  if (text.empty()) return Status::Ok();
  auto v = base::ParseByteSize(text);
  if (!v.ok()) return KeyError(e, v.status());
  *out = *v;
  return Status::Ok();
}

}  // namespace litekeep::config::internal
