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
#include "config/config.h"

namespace litekeep::config::internal {

// s with ASCII letters in lower case.
std::string Lower(std::string_view s);

// Levenshtein distance between a and b (bytes).
size_t EditDistance(std::string_view a, std::string_view b);

// camelCase, PascalCase and snake_case spellings in kebab-case:
// "forcePathStyle" -> "force-path-style", "accessKeyID" -> "access-key-id",
// "force_path_style" -> "force-path-style". Kebab-case input is unchanged.
std::string KebabCase(std::string_view key);

// The tail of an unknown-key message: ` (did you mean "x"?)` naming the
// nearest of known, or ` (known keys: a, b, ...)` when none is close.
std::string SuggestKey(std::string_view key,
                       const std::vector<std::string_view>& known);

// YAML 1.1 / Go booleans: true/false, yes/no, on/off, y/n, 1/0, t/f (any
// case). Errors quote the text.
Result<bool> ParseBool(std::string_view text);

// A decimal integer, optionally signed. Errors quote the text.
Result<int64_t> ParseInt(std::string_view text);

// A byte count like go-humanize: "1048576", "5MB" (10^6), "5MiB" (2^20),
// "1.5GB", "100B" (the one parser, shared with the VFS).
using base::ParseByteSize;

// Adds http:// to local endpoints (localhost, 127.0.0.1, private networks)
// and https:// to others when the endpoint has no scheme.
std::string EnsureEndpointScheme(std::string_view endpoint);

// The URL with any password in its user info replaced by "REDACTED", so
// that it can appear in an error message.
std::string RedactUrlText(std::string_view url);

// True when text looks like "<scheme>://..." (as Litestream's IsURL).
bool IsUrl(std::string_view text);

// ParseReplicaUrl that also records, in keys, the canonical replica keys
// (e.g. "bucket", "force-path-style") whose values came from the URL.
Result<ReplicaConfig> ParseReplicaUrlKeys(std::string_view url,
                                          std::set<std::string>* keys);

// What a replica key holds, and so how its text is parsed.
enum class KeyKind {
  kString,
  kSecret,  // a string that is never printed
  kBool,
  kOptBool,
  kDuration,      // must be > 0
  kOptDuration,   // must be >= 0
  kOptCount,      // non-negative integer
  kOptByteSize,   // "5MiB"
  kUnused,        // known to Litestream, recorded in `unused`
  kUnusedSecret,  // same, and secret
  kRejected,      // known, and refused with a reason (e.g. `age`)
};

// The ReplicaConfig member a key sets (monostate: kept in `unused`).
using ReplicaField =
    std::variant<std::monostate, std::string ReplicaConfig::*,
                 bool ReplicaConfig::*, std::optional<bool> ReplicaConfig::*,
                 Duration ReplicaConfig::*,
                 std::optional<Duration> ReplicaConfig::*,
                 std::optional<int64_t> ReplicaConfig::*>;

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

// Replica type names litekeep implements, and the ones Litestream has that
// litekeep refuses (e.g. "webdav").
bool IsSupportedType(std::string_view type);
bool IsUnsupportedLitestreamType(std::string_view type);
// "file, s3, gs/gcs, abs, sftp" for messages.
std::string_view SupportedTypesText();

// Removes a sqlite:// or sqlite3:// prefix (Litestream accepts them on db
// paths).
std::string_view StripSqlitePrefix(std::string_view path);

}  // namespace litekeep::config::internal
