// VFS settings (vfs/options.h): sizes, durations and PRAGMA litekeep_time
// read with the base/ parsers, and bad values refused naming the setting and
// the value.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <optional>
#include <string>

#include "base/age.h"
#include "base/io.h"
#include "base/rfc3339.h"
#include "tests/support/test_util.h"
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

// Age identities (docs/vfs.md "Encrypted replicas"): from the environment
// or a key file; never from the URI; a bad key or a key in the URI is
// refused without printing it.
TEST(VfsOptions, AgeIdentitiesFromEnvOrFileNeverTheUri) {
  auto id = base::GenerateAgeIdentity();
  ASSERT_TRUE(id.ok());
  const std::string key = id->Encode();
  ::setenv("LITEKEEP_AGE_IDENTITIES", ("# a comment\n" + key + "\n").c_str(),
           1);
  auto env = Load({{"replica", "/r"}});
  ASSERT_TRUE(env.ok()) << env.status().message();
  ASSERT_EQ(env->age_identities.size(), 1u);
  EXPECT_EQ(env->age_identities[0].Encode(), key);
  auto both = Load({{"replica", "/r"}, {"age_identity_file", "/nonexistent"}});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("both set"), std::string::npos)
      << both.status().message();
  ::unsetenv("LITEKEEP_AGE_IDENTITIES");

  testing::TempDir dir;
  const std::string path = dir.Join("key.txt");
  ASSERT_TRUE(base::WriteFileAtomic(path, key + "\n").ok());
  auto file = Load({{"replica", "/r"}, {"age_identity_file", path}});
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ(file->age_identities.size(), 1u);
  auto missing = Load({{"replica", "/r"}, {"age_identity_file", path + "x"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("age_identity_file"),
            std::string::npos)
      << missing.status().message();

  auto in_uri = Load({{"replica", "/r"}, {"age_identity", key}});
  ASSERT_FALSE(in_uri.ok());
  EXPECT_NE(in_uri.status().message().find("not accepted in a URI"),
            std::string::npos);
  EXPECT_EQ(in_uri.status().message().find(key), std::string::npos);

  const std::string bad = key.substr(0, key.size() - 3) + "qqq";
  ::setenv("LITEKEEP_AGE_IDENTITIES", bad.c_str(), 1);
  auto b = Load({{"replica", "/r"}});
  ::unsetenv("LITEKEEP_AGE_IDENTITIES");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("LITEKEEP_AGE_IDENTITIES"),
            std::string::npos)
      << b.status().message();
  EXPECT_EQ(b.status().message().find(bad), std::string::npos);
}

}  // namespace
}  // namespace litekeep::vfs
