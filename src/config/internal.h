// Helpers shared by the config/*.cc files (not part of the config API):
// key spelling and suggestions, scalar value parsing, the replica key table,
// and URL pieces used by the YAML loader.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/byte_size.h"
#include "base/status.h"
#include "base/text.h"
#include "config/config.h"
#include "storage/url.h"

namespace litekeep::config::internal {

using base::EditDistance;
using base::KebabCase;
using base::Lower;
using base::ParseBool;
using base::ParseByteSize;
using base::ParseInt;
using base::SuggestKey;

using storage::EnsureEndpointScheme;
using storage::IsUrl;
using storage::RedactUrlText;

// What a replica key holds, and so how its text is parsed.
enum class KeyKind {
  kString,
  kOptBool,
  kDuration,      // must be > 0
  kOptDuration,   // must be >= 0
  kOptCount,      // non-negative integer
  kPageEncoding,  // ltx::ParsePageEncoding
  kStorage,       // a storage setting: storage/settings.h parses it
  kRejected,      // known, and refused with a reason
  kAge,           // the `age:` map (ReadAgeEntry)
};

// The ReplicaConfig member a key sets (monostate: kStorage, kRejected).
using ReplicaField =
    std::variant<std::monostate, std::string ReplicaConfig::*,
                 bool ReplicaConfig::*, std::optional<bool> ReplicaConfig::*,
                 Duration ReplicaConfig::*,
                 std::optional<Duration> ReplicaConfig::*,
                 std::optional<int64_t> ReplicaConfig::*,
                 std::optional<ltx::PageEncoding> ReplicaConfig::*>;

struct ReplicaKey {
  std::string_view name;  // canonical kebab-case spelling
  KeyKind kind;
  ReplicaField field;
  bool top_level;  // may also be written at the top level as a default
};

// Every replica key litekeep knows, canonical spelling.
const std::vector<ReplicaKey>& ReplicaKeys();
// The entry for a canonical key name, or nullptr.
const ReplicaKey* FindReplicaKey(std::string_view name);

// Parses text for key into replica. The error message does not name the key
// or the line (the caller adds them) and never contains a secret value.
Status SetReplicaValue(const ReplicaKey& key, std::string_view text,
                       ReplicaConfig* replica);

// Copies the value of key from one replica to another.
void CopyReplicaValue(const ReplicaKey& key, const ReplicaConfig& from,
                      ReplicaConfig* to);

// Removes a sqlite:// or sqlite3:// prefix (Litestream accepts them on db
// paths).
std::string_view StripSqlitePrefix(std::string_view path);

}  // namespace litekeep::config::internal
