// The one parser of each value type in base/: RFC 3339 times, Go durations
// and byte sizes. Good inputs give exact values; every bad input is an
// InvalidArgument error that names the input.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "base/byte_size.h"
#include "base/duration.h"
#include "base/rfc3339.h"

namespace litekeep::base {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TimePoint At(int64_t secs) { return TimePoint(seconds(secs)); }

TEST(Rfc3339, ParsesTheRfcForms) {
  // 2026-11-20T10:00:00Z is 1795168800 seconds after the epoch.
  const int64_t t0 = 1795168800;
  EXPECT_EQ(*ParseRfc3339("2026-11-20T10:00:00Z"), At(t0));
  EXPECT_EQ(*ParseRfc3339("2026-11-20t10:00:00z"), At(t0));
  EXPECT_EQ(*ParseRfc3339("2026-11-20T11:30:00+01:30"), At(t0));
  EXPECT_EQ(*ParseRfc3339("2026-11-20T05:00:00-05:00"), At(t0));
  EXPECT_EQ(*ParseRfc3339("2026-11-20T10:00:00.25Z"),
            At(t0) + milliseconds(250));
  EXPECT_EQ(*ParseRfc3339("2026-11-20T10:00:00.123456789123Z"),
            At(t0) + std::chrono::duration_cast<TimePoint::duration>(
                         nanoseconds(123456789)));
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), At(0));
  EXPECT_EQ(*ParseRfc3339("1969-12-31T23:59:59Z"), At(-1));
  EXPECT_EQ(*ParseRfc3339("2028-02-29T00:00:00Z"), At(1835395200));
  EXPECT_EQ(*ParseRfc3339("2000-02-29T00:00:00Z"), At(951782400));
}

TEST(Rfc3339, EveryBadInputIsAnErrorNamingIt) {
  for (const char* bad :
       {"",
        "2026",
        "2026-11-20",
        "2026-11-20 10:00:00Z",
        "2026-11-20T10:00:00",        // no zone
        "2026-11-20T10:00:00+ab:cd",  // used to throw std::invalid_argument
        "2026-11-20T10:00:00+0100",   // offset without ':'
        "2026-11-20T10:00:00+24:00",  // offset out of range
        "2030-02-30T00:00:00Z",       // no such day
        "2027-02-29T00:00:00Z",       // not a leap year
        "2100-02-29T00:00:00Z",       // not a leap year either
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-20T24:00:00Z",
        "2026-11-20T10:60:00Z",
        "2026-11-20T10:00:60Z",
        "2026-11-20T10:00:00.Z",
        "2026-11-20T10:00:00Zjunk",
        "2026-1-20T10:00:00Z",
        "+026-11-20T10:00:00Z"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("\"" + std::string(bad) + "\""),
              std::string::npos)
        << r.status().message();
  }
  auto r = ParseRfc3339("2030-02-30T00:00:00Z");
  EXPECT_NE(r.status().message().find("day does not exist"), std::string::npos)
      << r.status().message();
}

TEST(Rfc3339, Formats) {
  const TimePoint t = At(1614834367) + milliseconds(891);
  EXPECT_EQ(FormatRfc3339(t), "2021-03-04T05:06:07.891Z");
  EXPECT_EQ(FormatRfc3339Seconds(t), "2021-03-04T05:06:07Z");
  EXPECT_EQ(FormatRfc3339Nano(t), "2021-03-04T05:06:07.891Z");
  EXPECT_EQ(FormatRfc3339Nano(At(1614834367)), "2021-03-04T05:06:07Z");
  EXPECT_EQ(FormatRfc3339(At(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(At(-1) + milliseconds(500)),
            "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatRfc3339(At(4107542400)), "2100-03-01T00:00:00.000Z");
  // Formatting and parsing agree.
  for (int64_t s : {int64_t{0}, int64_t{951782400}, int64_t{1795168800},
                    int64_t{-86400 * 400}}) {
    EXPECT_EQ(*ParseRfc3339(FormatRfc3339(At(s))), At(s)) << s;
  }
}

TEST(GoDuration, ParsesGoSyntax) {
  EXPECT_EQ(*ParseDuration("0"), nanoseconds(0));
  EXPECT_EQ(*ParseDuration("1s"), seconds(1));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("1.5h"), minutes(90));
  EXPECT_EQ(*ParseDuration("-5s"), seconds(-5));
  EXPECT_EQ(*ParseDuration("+2m"), minutes(2));
  EXPECT_EQ(*ParseDuration("3\u00b5s"), nanoseconds(3000));
  EXPECT_EQ(*ParseDuration("7ns"), nanoseconds(7));
  EXPECT_EQ(*ParseDuration("2562047h"), hours(2562047));
}

TEST(GoDuration, EveryBadInputIsAnErrorNamingIt) {
  for (const char* bad :
       {"", "10", "3d", "1h30", "s", ".s", "1..5s", "2562048h", "9223372037s",
        "99999999999999999999ns", "-", "1 s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("\"" + std::string(bad) + "\""),
              std::string::npos)
        << r.status().message();
  }
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(FormatDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(nanoseconds(7)), "7ns");
  EXPECT_EQ(FormatDuration(nanoseconds(1200)), "1.2\u00b5s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m0s");
  EXPECT_EQ(FormatDuration(hours(720)), "720h0m0s");
  EXPECT_EQ(FormatDuration(seconds(-5)), "-5s");
  EXPECT_EQ(FormatDuration(hours(1) + seconds(2) + milliseconds(30)),
            "1h0m2.03s");
  for (int64_t ns :
       {int64_t{1}, int64_t{999}, int64_t{1500000}, int64_t{3723004005006}}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(nanoseconds(ns))), nanoseconds(ns))
        << ns;
  }
}

TEST(ByteSize, OneMeaning) {
  EXPECT_EQ(*ParseByteSize("100"), 100);
  EXPECT_EQ(*ParseByteSize("100B"), 100);
  EXPECT_EQ(*ParseByteSize("64MB"), 64000000);
  EXPECT_EQ(*ParseByteSize("64M"), 64000000);
  EXPECT_EQ(*ParseByteSize("64mb"), 64000000);
  EXPECT_EQ(*ParseByteSize("64MiB"), 64 << 20);
  EXPECT_EQ(*ParseByteSize("64Mi"), 64 << 20);
  EXPECT_EQ(*ParseByteSize("512k"), 512000);
  EXPECT_EQ(*ParseByteSize("512KiB"), 512 << 10);
  EXPECT_EQ(*ParseByteSize(" 1.5 KiB "), 1536);
  EXPECT_EQ(*ParseByteSize("1.5GB"), 1500000000);
  EXPECT_EQ(*ParseByteSize("2TiB"), int64_t{2} << 40);
  EXPECT_EQ(*ParseByteSize("0.5B"), 0);
  EXPECT_EQ(*ParseByteSize("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(*ParseByteSize("8388607TiB"), int64_t{8388607} << 40);
}

TEST(ByteSize, EveryBadInputIsAnErrorNamingIt) {
  for (const char* bad :
       {"", "MB", "5XB", "-5MB", "5 M B", "1e3", "0x10", "5MBs",
        "999999999999999g",  // overflowed and was accepted before
        "9223372036854775808", "8388608TiB", "9999999999999999999999999"}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("\"" + std::string(bad) + "\""),
              std::string::npos)
        << r.status().message();
  }
}

}  // namespace
}  // namespace litekeep::base
