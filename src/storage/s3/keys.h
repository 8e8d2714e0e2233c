// S3 metadata values exactly as Litestream 0.5 writes them: the RFC 3339
// creation time in x-amz-meta-litestream-timestamp (see
// docs/storage_layout.md). The object keys ("<path>/<level:04x>/<min:016x>-
// <max:016x>.ltx") are built and parsed by storage/layout.h, included here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/types.h"
#include "storage/layout.h"

namespace litekeep::storage::s3 {

// The metadata key (after "x-amz-meta-") holding the creation time.
inline constexpr std::string_view kTimestampMetadata = "litestream-timestamp";

// Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z" with
// trailing zeros of the fraction (and a bare ".") dropped.
std::string FormatTimestamp(TimePoint t);
// Parses RFC 3339 with an optional fraction and a "Z" or "±hh:mm" offset
// (also S3's LastModified form); nullopt when malformed.
std::optional<TimePoint> ParseTimestamp(std::string_view text);

}  // namespace litekeep::storage::s3
