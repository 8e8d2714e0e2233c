// Byte-size parsing with exact integer arithmetic and an overflow check.
#include "base/byte_size.h"

#include <limits>
#include <string>

namespace litekeep::base {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n'; }

Status SizeError(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid size \"" + std::string(text) +
                              "\": " + std::string(why));
}

// Bytes per unit, or 0 for an unknown unit; `unit` is lower case.
int64_t UnitBytes(const std::string& unit) {
  struct Unit {
    const char* a;
    const char* b;
    int64_t bytes;
  };
  static constexpr Unit kUnits[] = {
      {"", "b", 1},
      {"k", "kb", 1000},
      {"ki", "kib", int64_t{1} << 10},
      {"m", "mb", 1000 * 1000},
      {"mi", "mib", int64_t{1} << 20},
      {"g", "gb", 1000 * 1000 * 1000},
      {"gi", "gib", int64_t{1} << 30},
      {"t", "tb", int64_t{1000} * 1000 * 1000 * 1000},
      {"ti", "tib", int64_t{1} << 40},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.a || unit == u.b) return u.bytes;
  }
  return 0;
}

}  // namespace

Result<int64_t> ParseByteSize(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);

  // Whole and fractional digits, in 128 bits with a cap so neither wraps.
  const __int128 kMax = std::numeric_limits<int64_t>::max();
  size_t i = 0;
  __int128 whole = 0;
  bool digits = false, too_big = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    whole = whole * 10 + (s[i] - '0');
    if (whole > kMax) {
      too_big = true;
      whole = kMax + 1;
    }
    digits = true;
    ++i;
  }
  __int128 frac = 0, frac_scale = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (frac_scale < static_cast<__int128>(1000000000000000000LL)) {
        frac = frac * 10 + (s[i] - '0');
        frac_scale *= 10;
      }
      digits = true;
      ++i;
    }
  }
  if (!digits) {
    return SizeError(text,
                     "expected a number with an optional unit, e.g. "
                     "\"64MiB\" or \"10MB\"");
  }
  while (i < s.size() && IsSpace(s[i])) ++i;
  std::string unit(s.substr(i));
  for (char& c : unit) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const int64_t scale = UnitBytes(unit);
  if (scale == 0) {
    return SizeError(text, "unknown unit \"" + std::string(s.substr(i)) +
                               "\" (use B, KB, MB, GB, TB or KiB, MiB, GiB, "
                               "TiB)");
  }
  if (too_big) return SizeError(text, "larger than 2^63-1 bytes");
  const __int128 bytes = whole * scale + frac * scale / frac_scale;
  if (bytes > kMax) return SizeError(text, "larger than 2^63-1 bytes");
  return static_cast<int64_t>(bytes);
}

}  // namespace litekeep::base
