// RFC 3339 parsing and formatting.
#include "cli/time_format.h"

#include <cstdio>
#include <ctime>
#include <cctype>
#include <string>

namespace litekeep::cli {

Result<TimePoint> ParseRfc3339(const std::string& text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  auto bad = [&]() {
    return base::InvalidArgumentError(
        "invalid timestamp \"" + text +
        "\": expected RFC 3339, e.g. 2026-11-20T10:00:00Z");
  };
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
                  &mi, &s, &consumed) != 6) {
    return bad();
  }
  std::string rest = text.substr(static_cast<size_t>(consumed));
  int64_t nanos = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100000000;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
      nanos += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    rest = rest.substr(i);
  }
  int offset_min = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
             rest[3] == ':') {
    int oh = std::stoi(rest.substr(1, 2)), om = std::stoi(rest.substr(4, 2));
    offset_min = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t secs = timegm(&tm);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return bad();
  }
  secs -= offset_min * 60;
  return TimePoint(std::chrono::seconds(secs)) +
         std::chrono::duration_cast<TimePoint::duration>(
             std::chrono::nanoseconds(nanos));
}

std::string FormatRfc3339(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                t.time_since_epoch())
                .count();
  time_t secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace litekeep::cli
