// S3 key layout and timestamp text: Litestream 0.5's
// "<path>/<level:04x>/<min:016x>-<max:016x>.ltx" and RFC 3339 metadata.
#include <gtest/gtest.h>

#include "storage/s3/keys.h"

namespace litekeep::storage::s3 {
namespace {

TEST(S3Keys, ObjectKeyAndLevelPrefix) {
  EXPECT_EQ(ObjectKey("db", 0, 7, 7),
            "db/0000/0000000000000007-0000000000000007.ltx");
  EXPECT_EQ(ObjectKey("a/b", 9, 1, 0xabcdef),
            "a/b/0009/0000000000000001-0000000000abcdef.ltx");
  EXPECT_EQ(ObjectKey("db", 10, 2, 3),
            "db/000a/0000000000000002-0000000000000003.ltx");
  EXPECT_EQ(LevelPrefix("db", 3), "db/0003/");
  // Path used verbatim, as Litestream does.
  EXPECT_EQ(LevelPrefix("", 0), "/0000/");
}

TEST(S3Keys, ParseObjectName) {
  auto r = ParseObjectName("db/0000/0000000000000001-00000000000000ff.ltx");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->min_txid, 1u);
  EXPECT_EQ(r->max_txid, 255u);
  // The one LTX name rule (ltx::ParseFileName): lower case, 1 <= min <= max.
  EXPECT_FALSE(ParseObjectName("db/0000/0000000000000001-00000000000000FF.ltx")
                   .has_value());
  EXPECT_FALSE(ParseObjectName("db/0000/0000000000000005-0000000000000003.ltx")
                   .has_value());
  EXPECT_TRUE(
      ParseObjectName("ffffffffffffffff-ffffffffffffffff.ltx").has_value());
  EXPECT_FALSE(ParseObjectName("db/0000/1-2.ltx").has_value());
  EXPECT_FALSE(
      ParseObjectName("db/0000/0000000000000001-0000000000000002.ltx.tmp")
          .has_value());
  EXPECT_FALSE(ParseObjectName("db/0000/000000000000000g-0000000000000002.ltx")
                   .has_value());
  EXPECT_FALSE(ParseObjectName("db/0000/0000000000000001_0000000000000002.ltx")
                   .has_value());
}

TEST(S3Keys, TimestampsAreGoRfc3339Nano) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  EXPECT_EQ(FormatTimestamp(TimePoint(milliseconds(1614834367891))),
            "2021-03-04T05:06:07.891Z");
  EXPECT_EQ(FormatTimestamp(TimePoint(milliseconds(1614834367800))),
            "2021-03-04T05:06:07.8Z");
  EXPECT_EQ(FormatTimestamp(TimePoint(seconds(1614834367))),
            "2021-03-04T05:06:07Z");
  EXPECT_EQ(FormatTimestamp(TimePoint(seconds(0))), "1970-01-01T00:00:00Z");
  EXPECT_EQ(ParseTimestamp("2021-03-04T05:06:07.891Z"),
            TimePoint(milliseconds(1614834367891)));
  EXPECT_EQ(ParseTimestamp("2021-03-04T06:06:07.891+01:00"),
            TimePoint(milliseconds(1614834367891)));
  EXPECT_EQ(ParseTimestamp("2021-03-04T05:06:07.000Z"),
            TimePoint(seconds(1614834367)));
  EXPECT_EQ(ParseTimestamp("2021-03-04T05:06:07.123456789Z"),
            TimePoint(std::chrono::duration_cast<Clock::duration>(
                seconds(1614834367) + std::chrono::nanoseconds(123456789))));
  EXPECT_FALSE(ParseTimestamp("2021-03-04 05:06:07Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2021-03-04T05:06:07").has_value());
  EXPECT_FALSE(ParseTimestamp("2021-03-04T05:06:07.Z").has_value());
  EXPECT_FALSE(ParseTimestamp("").has_value());
}

}  // namespace
}  // namespace litekeep::storage::s3
