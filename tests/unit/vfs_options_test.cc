// VFS settings (vfs/options.h): sizes, durations and PRAGMA litekeep_time
// read with the base/ parsers, and bad values refused naming the setting and
// the value.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <optional>
#include <string>

#include "base/rfc3339.h"
#include "vfs/options.h"

namespace litekeep::vfs {
namespace {

// LoadOptions with URI parameters from a map.
Result<VfsOptions> Load(const std::map<std::string, std::string>& uri) {
  return LoadOptions([&](const char* name) -> std::optional<std::string> {
    auto it = uri.find(name);
    if (it == uri.end()) return std::nullopt;
    return it->second;
  });
}

TEST(VfsOptions, SizesHaveTheConfigMeaning) {
  EXPECT_EQ(Load({{"replica", "/r"}, {"cache_size", "64MB"}})->cache_bytes,
            64000000);
  EXPECT_EQ(Load({{"replica", "/r"}, {"cache_size", "64MiB"}})->cache_bytes,
            64 << 20);
  EXPECT_EQ(Load({{"replica", "/r"}, {"cache_size", "4096"}})->cache_bytes,
            4096);
}

TEST(VfsOptions, OverflowingSizeIsRefusedNamingIt) {
  auto r = Load({{"replica", "/r"}, {"cache_size", "999999999999999g"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("cache_size"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("999999999999999g"), std::string::npos)
      << r.status().message();

  ::setenv("LITEKEEP_CACHE_SIZE", "999999999999999g", 1);
  auto e = Load({{"replica", "/r"}});
  ::unsetenv("LITEKEEP_CACHE_SIZE");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("LITEKEEP_CACHE_SIZE"), std::string::npos)
      << e.status().message();
}

TEST(VfsOptions, DurationsAreGoDurations) {
  auto o = Load({{"replica", "/r"}, {"poll_interval", "1.5s"}});
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->poll_interval, std::chrono::milliseconds(1500));
  for (const char* bad : {"10", "0s", "3d", "100us"}) {
    auto r = Load({{"replica", "/r"}, {"poll_interval", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string("\"") + bad + "\""),
              std::string::npos)
        << r.status().message();
  }
}

TEST(VfsOptions, TimeSpecs) {
  const TimePoint now = *base::ParseRfc3339("2026-11-20T10:00:00Z");
  EXPECT_EQ(*ParseTimeSpec("2026-11-20T11:00:00+01:00", now), now);
  EXPECT_EQ(*ParseTimeSpec("5 minutes ago", now),
            now - std::chrono::minutes(5));
  EXPECT_EQ(*ParseTimeSpec("90s ago", now), now - std::chrono::seconds(90));
  for (const char* bad :
       {"2030-02-30T00:00:00Z", "2026-11-20T10:00:00+ab:cd", "yesterday"}) {
    auto r = ParseTimeSpec(bad, now);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos)
        << r.status().message();
  }
}

}  // namespace
}  // namespace litekeep::vfs
