// RFC 3339 timestamps for the CLI (parse -timestamp, print created times).
#pragma once

#include <string>

#include "base/status.h"
#include "base/types.h"

namespace litekeep::cli {

// Parses "2026-11-20T10:00:00Z", with optional fractional seconds and a
// "+hh:mm"/"-hh:mm" offset. Errors show the expected form.
Result<TimePoint> ParseRfc3339(const std::string& text);
// "2026-11-20T10:00:00.123Z" (UTC, milliseconds).
std::string FormatRfc3339(TimePoint t);

}  // namespace litekeep::cli
