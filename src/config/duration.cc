// The config file's durations: base::ParseDuration / base::FormatDuration
// (Go's syntax) at the config's millisecond resolution.
#include "base/duration.h"

#include <chrono>
#include <string>
#include <string_view>

#include "config/config.h"

namespace litekeep::config {

Result<Duration> ParseDuration(std::string_view text) {
  LK_ASSIGN_OR_RETURN(std::chrono::nanoseconds ns, base::ParseDuration(text));
  return std::chrono::duration_cast<Duration>(ns);
}

std::string FormatDuration(Duration d) { return base::FormatDuration(d); }

}  // namespace litekeep::config
