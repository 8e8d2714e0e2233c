// RFC 3339 timestamps: the one parser and the formatters every module uses
// (CLI -timestamp and listings, S3 metadata and LastModified, the VFS's
// PRAGMA litekeep_time).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/types.h"

namespace litekeep::base {

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" ('t' and 'z' in
// either case). The date must exist (2030-02-30 does not), hours 00..23,
// minutes and seconds 00..59, offsets up to 23:59; fraction digits past
// nanoseconds are dropped. Every malformed input gives InvalidArgument
// naming the text and what is wrong with it.
Result<TimePoint> ParseRfc3339(std::string_view text);

// "2026-11-20T10:00:00.123Z": UTC with exactly three fraction digits, the
// form the CLI prints.
std::string FormatRfc3339(TimePoint t);

// Go's time.RFC3339 in UTC ("2006-01-02T15:04:05Z"): whole seconds, the
// form Litestream 0.3's listings print.
std::string FormatRfc3339Seconds(TimePoint t);

// Go's time.RFC3339Nano in UTC ("2006-01-02T15:04:05.999999999Z"): the
// fraction without trailing zeros, none at all for whole seconds. The form
// Litestream writes into object metadata.
std::string FormatRfc3339Nano(TimePoint t);

}  // namespace litekeep::base
