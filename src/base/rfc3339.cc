// RFC 3339 parsing and formatting with proleptic Gregorian date arithmetic
// (no time_t or time-zone database involved).
#include "base/rfc3339.h"

#include <cinttypes>
#include <cstdint>
#include <cstdio>

namespace litekeep::base {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

bool IsLeapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a valid civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The inverse of DaysFromCivil.
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

// Reads exactly `count` decimal digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid timestamp \"" + std::string(text) +
                              "\": " + std::string(why) +
                              " (expected RFC 3339, e.g. "
                              "2026-11-20T10:00:00Z or "
                              "2026-11-20T11:00:00+01:00)");
}

// Splits t into whole seconds since the epoch and nanoseconds (0..1e9-1).
void Split(TimePoint t, int64_t* secs, int64_t* nanos) {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())
          .count();
  *secs = ns / kNanosPerSecond;
  *nanos = ns % kNanosPerSecond;
  if (*nanos < 0) {
    *nanos += kNanosPerSecond;
    --*secs;
  }
}

// "YYYY-MM-DDTHH:MM:SS" in UTC.
std::string FormatSeconds(int64_t secs) {
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0;
  int m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d", y,
                m, d, static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 5 || s[4] != '-' ||
      !Digits(s, 5, 2, &mo) || s.size() < 8 || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return Bad(s, "the date is not YYYY-MM-DD");
  }
  if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) {
    return Bad(s, "no 'T' between date and time");
  }
  if (!Digits(s, 11, 2, &h) || s.size() < 14 || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s.size() < 17 || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return Bad(s, "the time is not HH:MM:SS");
  }
  if (mo < 1 || mo > 12) return Bad(s, "month out of range 01..12");
  if (d < 1 || d > DaysInMonth(y, mo)) {
    return Bad(s, "day does not exist in that month");
  }
  if (h > 23) return Bad(s, "hour out of range 00..23");
  if (mi > 59) return Bad(s, "minute out of range 00..59");
  if (sec > 59) return Bad(s, "second out of range 00..59");

  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return Bad(s, "no digits after '.'");
    for (; digits < 9; ++digits) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() ||
        s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om)) {
      return Bad(s, "the offset is not +hh:mm or -hh:mm");
    }
    if (oh > 23 || om > 59) return Bad(s, "offset out of range");
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return Bad(s, "no time zone ('Z' or +hh:mm)");
  }
  if (pos != s.size()) return Bad(s, "unexpected text after the time zone");

  const int64_t secs =
      DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

std::string FormatRfc3339(TimePoint t) {
  int64_t secs = 0, nanos = 0;
  Split(t, &secs, &nanos);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(nanos / 1000000));
  return FormatSeconds(secs) + frac + "Z";
}

std::string FormatRfc3339Seconds(TimePoint t) {
  int64_t secs = 0, nanos = 0;
  Split(t, &secs, &nanos);
  return FormatSeconds(secs) + "Z";
}

std::string FormatRfc3339Nano(TimePoint t) {
  int64_t secs = 0, nanos = 0;
  Split(t, &secs, &nanos);
  std::string out = FormatSeconds(secs);
  if (nanos != 0) {
    char f[16];
    std::snprintf(f, sizeof(f), ".%09" PRId64, nanos);
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + "Z";
}

}  // namespace litekeep::base
