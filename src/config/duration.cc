// Go-style durations for the config file: parsing ("1h30m", "500ms", "1.5h")
// and printing in Go's own format ("1h30m0s").
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "config/config.h"

namespace litekeep::config {
namespace {

constexpr int64_t kNanosPerMilli = 1000 * 1000;

// Nanoseconds per unit, or 0 when unit is not a Go duration unit.
int64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1000;
  if (unit == "ms") return kNanosPerMilli;
  if (unit == "s") return 1000 * kNanosPerMilli;
  if (unit == "m") return 60 * 1000 * kNanosPerMilli;
  if (unit == "h") return 60 * 60 * 1000 * kNanosPerMilli;
  return 0;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status DurationError(std::string_view text, std::string_view why) {
  return base::InvalidArgumentError("invalid duration \"" + std::string(text) +
                                    "\": " + std::string(why));
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return DurationError(text, "empty");

  // Sum in 128 bits so that overflow is detected, not wrapped.
  __int128 total_ns = 0;
  const __int128 kMax = std::numeric_limits<int64_t>::max();
  while (!s.empty()) {
    // A decimal number: [0-9]*(\.[0-9]*)?, with at least one digit.
    size_t i = 0;
    __int128 whole = 0;
    while (i < s.size() && IsDigit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      if (whole > kMax) return DurationError(text, "out of range");
      ++i;
    }
    bool has_digits = i > 0;
    __int128 frac = 0;
    __int128 frac_scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) {
        has_digits = true;
        if (frac_scale < static_cast<__int128>(1000000000000000000LL)) {
          frac = frac * 10 + (s[i] - '0');
          frac_scale *= 10;
        }
        ++i;
      }
    }
    if (!has_digits) {
      return DurationError(text,
                           "expected a number followed by a unit (ns, us, "
                           "ms, s, m, h), e.g. \"1s\" or \"1h30m\"");
    }
    s.remove_prefix(i);

    size_t u = 0;
    while (u < s.size() && !IsDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(0, u);
    if (unit.empty()) {
      return DurationError(text,
                           "missing unit (use ns, us, ms, s, m or h, e.g. "
                           "\"" +
                               std::string(text) + "s\")");
    }
    int64_t unit_ns = UnitNanos(unit);
    if (unit_ns == 0) {
      return DurationError(text, "unknown unit \"" + std::string(unit) +
                                     "\" (use ns, us, ms, s, m or h)");
    }
    s.remove_prefix(u);

    __int128 part = whole * unit_ns;
    if (part > kMax) return DurationError(text, "out of range");
    part += frac * unit_ns / frac_scale;
    total_ns += part;
    if (total_ns > kMax) return DurationError(text, "out of range");
  }
  int64_t ms = static_cast<int64_t>(total_ns / kNanosPerMilli);
  return Duration(negative ? -ms : ms);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  int64_t hours = ms / 3600000;
  int64_t minutes = (ms / 60000) % 60;
  int64_t seconds = (ms / 1000) % 60;
  int64_t millis = ms % 1000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(seconds);
  if (millis > 0) {
    std::string frac = std::to_string(millis + 1000).substr(1);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "s";
}

}  // namespace litekeep::config
