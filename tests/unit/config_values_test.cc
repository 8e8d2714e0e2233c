// Unit tests for config/: Go-style durations, FormatDuration, environment
// expansion ($VAR, ${VAR}, Go os.Expand rules), path expansion, and the
// key-spelling helpers (kebab-case aliases, edit distance, suggestions).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "config/config.h"
#include "config/internal.h"

namespace litekeep::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ConfigDurationTest, ParsesGoDurations) {
  struct {
    const char* text;
    Duration want;
  } cases[] = {
      {"1s", seconds(1)},
      {"500ms", milliseconds(500)},
      {"5m", minutes(5)},
      {"720h", hours(720)},
      {"1h30m", minutes(90)},
      {"1.5h", minutes(90)},
      {"0", Duration(0)},
      {"0s", Duration(0)},
      {"1h0m0s", hours(1)},
      {".5s", milliseconds(500)},
      {"2.25s", milliseconds(2250)},
      {"1500000us", milliseconds(1500)},
      {"2000000000ns", seconds(2)},
      {"1\u00b5s", Duration(0)},
      {"+10s", seconds(10)},
      {"-1s", seconds(-1)},
  };
  for (const auto& c : cases) {
    auto d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().message();
    EXPECT_EQ(d->count(), c.want.count()) << c.text;
  }
}

TEST(ConfigDurationTest, RejectsBadDurations) {
  for (const char* text : {"", "10", "1.5", "banana", "1x", "h", "-", "1s2",
                           "s", "1 s", "1d", "99999999999999999999h"}) {
    auto d = ParseDuration(text);
    EXPECT_FALSE(d.ok()) << text;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find(std::string("\"") + text + "\""),
                std::string::npos)
          << d.status().message();
    }
  }
  auto missing = ParseDuration("10");
  EXPECT_NE(missing.status().message().find("missing unit"), std::string::npos)
      << missing.status().message();
  auto unit = ParseDuration("3d");
  EXPECT_NE(unit.status().message().find("unknown unit \"d\""),
            std::string::npos)
      << unit.status().message();
}

TEST(ConfigDurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(FormatDuration(seconds(1)), "1s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m0s");
  EXPECT_EQ(FormatDuration(hours(720)), "720h0m0s");
  EXPECT_EQ(FormatDuration(seconds(-5)), "-5s");
  for (int64_t ms : {1, 999, 1000, 61001, 3600000, 86400123}) {
    auto back = ParseDuration(FormatDuration(milliseconds(ms)));
    ASSERT_TRUE(back.ok()) << ms;
    EXPECT_EQ(back->count(), ms);
  }
}

class ConfigEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("LK_T_BUCKET", "my-bucket", 1);
    setenv("LK_T_EMPTY", "", 1);
    unsetenv("LK_T_UNSET");
  }
  void TearDown() override {
    unsetenv("LK_T_BUCKET");
    unsetenv("LK_T_EMPTY");
  }
};

TEST_F(ConfigEnvTest, ExpandsBothForms) {
  EXPECT_EQ(ExpandEnv("s3://$LK_T_BUCKET/db"), "s3://my-bucket/db");
  EXPECT_EQ(ExpandEnv("s3://${LK_T_BUCKET}/db"), "s3://my-bucket/db");
  EXPECT_EQ(ExpandEnv("${LK_T_BUCKET}x"), "my-bucketx");
  EXPECT_EQ(ExpandEnv("$LK_T_BUCKETx"), "");  // the name is LK_T_BUCKETx
  EXPECT_EQ(ExpandEnv("a$LK_T_UNSET.b"), "a.b");
  EXPECT_EQ(ExpandEnv("[$LK_T_EMPTY]"), "[]");
  EXPECT_EQ(ExpandEnv("no vars"), "no vars");
}

TEST_F(ConfigEnvTest, FollowsGoExpandEdgeCases) {
  EXPECT_EQ(ExpandEnv("cost $"), "cost $");  // trailing $ kept
  EXPECT_EQ(ExpandEnv("a $ b"), "a $ b");    // $ before a space kept
  EXPECT_EQ(ExpandEnv("x${}y"), "xy");       // bad syntax eaten
  EXPECT_EQ(ExpandEnv("x${y"), "xy");        // unterminated: "${" eaten
  EXPECT_EQ(ExpandEnv("$PID"), std::to_string(getpid()));
  EXPECT_EQ(ExpandEnv("${PID}"), std::to_string(getpid()));
}

TEST(ConfigPathTest, ExpandsHomeAndMakesAbsolute) {
  const char* old_home = std::getenv("HOME");
  std::string saved = old_home ? old_home : "";
  setenv("HOME", "/home/tester", 1);
  EXPECT_EQ(*ExpandPath("~"), "/home/tester");
  EXPECT_EQ(*ExpandPath("~/data/app.db"), "/home/tester/data/app.db");
  if (old_home) setenv("HOME", saved.c_str(), 1);

  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(*ExpandPath("app.db"), std::string(cwd) + "/app.db");
  EXPECT_EQ(*ExpandPath("./a/../b.db"), std::string(cwd) + "/b.db");
  EXPECT_EQ(*ExpandPath("/var/lib//x/"), "/var/lib/x");
}

TEST(ConfigSpellingTest, KebabCase) {
  using internal::KebabCase;
  EXPECT_EQ(KebabCase("forcePathStyle"), "force-path-style");
  EXPECT_EQ(KebabCase("ForcePathStyle"), "force-path-style");
  EXPECT_EQ(KebabCase("accessKeyId"), "access-key-id");
  EXPECT_EQ(KebabCase("accessKeyID"), "access-key-id");
  EXPECT_EQ(KebabCase("secretAccessKey"), "secret-access-key");
  EXPECT_EQ(KebabCase("sseKMSKeyId"), "sse-kms-key-id");
  EXPECT_EQ(KebabCase("requireContentMD5"), "require-content-md5");
  EXPECT_EQ(KebabCase("force_path_style"), "force-path-style");
  EXPECT_EQ(KebabCase("sync-interval"), "sync-interval");
}

TEST(ConfigSpellingTest, Suggestions) {
  using internal::EditDistance;
  using internal::SuggestKey;
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(SuggestKey("sync-intervl", {"path", "sync-interval", "url"}),
            " (did you mean \"sync-interval\"?)");
  EXPECT_EQ(SuggestKey("zzzzzzzz", {"url", "path"}),
            " (known keys: path, url)");
}

TEST(ConfigValueTest, BoolsIntsAndSizes) {
  using internal::ParseBool;
  using internal::ParseByteSize;
  using internal::ParseInt;
  for (const char* t : {"true", "True", "TRUE", "yes", "on", "y", "1"}) {
    EXPECT_TRUE(*ParseBool(t)) << t;
  }
  for (const char* t : {"false", "no", "off", "N", "0"}) {
    EXPECT_FALSE(*ParseBool(t)) << t;
  }
  EXPECT_FALSE(ParseBool("maybe").ok());
  EXPECT_EQ(*ParseInt("-12"), -12);
  EXPECT_FALSE(ParseInt("12a").ok());
  EXPECT_FALSE(ParseInt(" 12").ok());
  EXPECT_EQ(*ParseByteSize("100"), 100);
  EXPECT_EQ(*ParseByteSize("5MB"), 5000000);
  EXPECT_EQ(*ParseByteSize("5MiB"), 5 * 1024 * 1024);
  EXPECT_EQ(*ParseByteSize("1.5 KiB"), 1536);
  EXPECT_FALSE(ParseByteSize("5XB").ok());
  EXPECT_FALSE(ParseByteSize("MB").ok());
}

}  // namespace
}  // namespace litekeep::config
