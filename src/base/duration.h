// Go-style durations ("1h30m", "500ms", "1.5h"): the one parser and
// formatter used by the config file, the CLI and the VFS.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace litekeep::base {

// Parses what Go's time.ParseDuration accepts: an optional sign, then one or
// more decimal numbers each followed by a unit (ns, us, µs, ms, s, m, h), or
// a bare "0". Values beyond ±2^63-1 nanoseconds are refused, not wrapped.
// Errors are InvalidArgument naming the text and what is wrong.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// Formats like Go's time.Duration.String(): "0s", "250ms", "1.5s",
// "1h30m0s", "1.2µs", "-5s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace litekeep::base
