// Go-style duration parsing (checked, 128-bit accumulation) and Go's
// Duration.String() formatting.
#include "base/duration.h"

#include <cstdint>
#include <limits>
#include <string>

namespace litekeep::base {
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
  return InvalidArgumentError("invalid duration \"" + std::string(text) +
                              "\": " + std::string(why));
}

// "<int>.<frac>" with trailing zeros of frac (digits wide) dropped.
std::string WithFraction(uint64_t v, uint64_t unit, int digits) {
  std::string s = std::to_string(v / unit);
  uint64_t frac = v % unit;
  if (frac != 0) {
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<size_t>(digits) - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
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
  const auto ns = static_cast<int64_t>(total_ns);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u =
      ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + WithFraction(u, 1000, 3) + "\u00b5s";
  if (u < 1000000000) return sign + WithFraction(u, 1000000, 6) + "ms";
  const uint64_t sec = 1000000000ULL;
  uint64_t h = u / (3600 * sec), m = (u / (60 * sec)) % 60;
  std::string s = WithFraction(u % (60 * sec), sec, 9) + "s";
  if (h > 0) {
    return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + s;
  }
  if (m > 0) return sign + std::to_string(m) + "m" + s;
  return sign + s;
}

}  // namespace litekeep::base
