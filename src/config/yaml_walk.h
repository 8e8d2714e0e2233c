// The YAML side of config loading: map entries with canonical key names,
// unknown-key and duplicate-key errors, and typed reads of scalar values,
// every error prefixed with "<file>:<line>: ". Only config/*.cc use this.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/config.h"

namespace litekeep::config::internal {

// One key: value pair of a YAML map.
struct Entry {
  std::string key;      // canonical spelling (kebab-case)
  std::string written;  // as written in the file
  int line = 0;         // 1-based line of the key
  YAML::Node value;
};

// Where errors point to.
class Walker {
 public:
  explicit Walker(std::string source) : source_(std::move(source)) {}

  // "<source>:<line>: <message>" as an invalid-argument Status.
  Status Error(int line, std::string_view message) const;

  // 1-based line of node, or fallback when the node has no position.
  static int LineOf(const YAML::Node& node, int fallback);

  // The entries of a map node, keys canonicalised (camelCase and snake_case
  // spellings of a known key are accepted) and `<<` merge keys resolved.
  // where names the map in messages ("replica", "db", ...). A key not in
  // known is an error naming it, its line and the nearest known key; so is
  // a key given twice.
  Result<std::vector<Entry>> Entries(
      const YAML::Node& map, int line, std::string_view where,
      const std::vector<std::string_view>& known) const;

  // The scalar text of an entry; nullopt when the value is null (`key:`).
  // Maps and lists are errors naming the key.
  Result<std::optional<std::string>> Scalar(const Entry& e) const;

  // Typed reads. Each leaves *out alone when the value is null and returns
  // an error naming the key and line when the text does not parse. Secret
  // values never appear in messages.
  Status ReadString(const Entry& e, std::string* out) const;
  Status ReadBool(const Entry& e, bool* out) const;
  // allow_zero: whether 0 is accepted; negatives never are.
  Status ReadDuration(const Entry& e, bool allow_zero, Duration* out) const;
  Status ReadOptDuration(const Entry& e, bool allow_zero,
                         std::optional<Duration>* out) const;
  // A non-negative integer.
  Status ReadCount(const Entry& e, int64_t* out) const;
  // A byte size (base::ParseByteSize: "67108864", "64MiB", "1.5GB"); an
  // empty value leaves *out alone.
  Status ReadSize(const Entry& e, int64_t* out) const;

  // Prefixes a value error with the key and line.
  Status KeyError(const Entry& e, const Status& cause) const;

  const std::string& source() const { return source_; }

 private:
  Status CollectEntries(const YAML::Node& map, int line, std::string_view where,
                        const std::vector<std::string_view>& known, int depth,
                        std::vector<Entry>* out) const;

  std::string source_;
};

// A replica's settings as written, with the canonical keys that were set.
struct ReplicaNode {
  ReplicaConfig config;
  std::set<std::string> keys;
};

// Reads one replica key (an entry whose key is in ReplicaKeys()) into node.
Status ReadReplicaEntry(const Walker& w, const Entry& e, ReplicaNode* node);
// Reads the `age:` map (recipients, identities) into replica.
Status ReadAgeEntry(const Walker& w, const Entry& e, ReplicaConfig* replica);

// The replica keys allowed in a replica map, and those allowed at the top
// level.
const std::vector<std::string_view>& ReplicaKeyNames();
const std::vector<std::string_view>& TopLevelReplicaKeyNames();
// The keys of a `dbs:` entry.
const std::vector<std::string_view>& DbKeyNames();

// Builds one replica of db from its YAML map: keys written in the map win
// over what its url says, which wins over the top-level settings in
// globals; then defaults, path expansion and checks (a destination for its
// type). Errors name the line.
Result<ReplicaConfig> BuildReplica(const Walker& w, const YAML::Node& node,
                                   int line, const ReplicaNode& globals,
                                   const DbConfig& db, const Config& config);

}  // namespace litekeep::config::internal
