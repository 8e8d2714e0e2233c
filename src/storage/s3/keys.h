// S3 object keys and metadata values exactly as Litestream 0.5 writes them:
// "<path>/<level:04x>/<min:016x>-<max:016x>.ltx" and the RFC 3339 creation
// time in x-amz-meta-litestream-timestamp (see docs/storage_layout.md).
// The LTX file-name part is a private copy of ltx::FormatFileName /
// ltx::ParseFileName until src/ltx/file_name.cc lands on this branch.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/types.h"

namespace litekeep::storage::s3 {

// The metadata key (after "x-amz-meta-") holding the creation time.
inline constexpr std::string_view kTimestampMetadata = "litestream-timestamp";

// "<path>/<level:04x>/" — the listing prefix of one level.
std::string LevelPrefix(std::string_view path, int level);
// "<path>/<level:04x>/<min:016x>-<max:016x>.ltx".
std::string ObjectKey(std::string_view path, int level, TxId min_txid,
                      TxId max_txid);

struct KeyRange {
  TxId min_txid = 0;
  TxId max_txid = 0;
};
// Parses the last path component "<16 hex>-<16 hex>.ltx" (either case);
// nullopt for anything else.
std::optional<KeyRange> ParseObjectName(std::string_view key);

// Go's time.RFC3339Nano in UTC (base::FormatRfc3339Nano), as Litestream
// writes the metadata value.
std::string FormatTimestamp(TimePoint t);
// base::ParseRfc3339 (also S3's LastModified form); nullopt when malformed.
std::optional<TimePoint> ParseTimestamp(std::string_view text);

}  // namespace litekeep::storage::s3
