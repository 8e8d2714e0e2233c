// Unit tests for the sync module's pure parts: glob matching and filters,
// the config file's `sync:` section (keys, defaults, unknown keys, URL
// defaults), and the engine against the file object store (state file,
// refused names, atomic writes leave no temporaries).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "storage/file/object_store.h"
#include "sync/glob.h"
#include "sync/syncer.h"
#include "tests/support/test_util.h"

namespace litekeep::sync {
namespace {

namespace fs = std::filesystem;

TEST(SyncGlobTest, Matches) {
  EXPECT_TRUE(GlobMatch("*.py", "app.py"));
  EXPECT_TRUE(GlobMatch("*.py", "lib/deep/x.py"));
  EXPECT_FALSE(GlobMatch("*.py", "app.pyc"));
  EXPECT_TRUE(GlobMatch("static/**", "static/css/a.css"));
  EXPECT_TRUE(GlobMatch("static/**", "app/static/a.css"));
  EXPECT_FALSE(GlobMatch("/static/**", "app/static/a.css"));
  EXPECT_TRUE(GlobMatch("/static/**", "static/a.css"));
  EXPECT_FALSE(GlobMatch("/static/*", "static/css/a.css"));
  EXPECT_TRUE(GlobMatch("**/test_*.py", "test_a.py"));
  EXPECT_TRUE(GlobMatch("**/test_*.py", "a/b/test_a.py"));
  EXPECT_TRUE(GlobMatch("mod?.py", "lib/mod1.py"));
  EXPECT_FALSE(GlobMatch("mod?.py", "lib/mod12.py"));
  EXPECT_TRUE(GlobMatch("[a-c]*.txt", "b.txt"));
  EXPECT_FALSE(GlobMatch("[!a-c]*.txt", "b.txt"));
  EXPECT_TRUE(GlobMatch("\\*.txt", "*.txt"));
  EXPECT_FALSE(GlobMatch("\\*.txt", "a.txt"));
  EXPECT_TRUE(CheckGlob("a[bc]").ok());
  EXPECT_FALSE(CheckGlob("a[bc").ok());
  EXPECT_FALSE(CheckGlob("a\\").ok());
  EXPECT_NE(CheckGlob("a[bc").message().find("a[bc"), std::string::npos);
}

TEST(SyncGlobTest, Filter) {
  Filter f({"*.py", "static/**"}, {"test_*", "static/tmp/**"});
  EXPECT_TRUE(f.Selects("app.py"));
  EXPECT_TRUE(f.Selects("static/a.css"));
  EXPECT_FALSE(f.Selects("README.md"));
  EXPECT_FALSE(f.Selects("lib/test_x.py"));
  EXPECT_FALSE(f.Selects("static/tmp/x"));
  EXPECT_TRUE(Filter().Selects("anything/at/all"));
}

TEST(SyncConfigTest, ParsesEntriesWithDefaults) {
  auto c = config::Parse(
      "access-key-id: AK\nsecret-access-key: SK\n"
      "sync:\n"
      "  - src: s3://bucket/code?endpoint=http://127.0.0.1:9000\n"
      "    dest: /app/code/\n"
      "    watch: true\n"
      "    delete: yes\n"
      "    interval: 500ms\n"
      "    include: '*.py'\n"
      "    exclude: [a, b]\n"
      "    max-size: 10MiB\n"
      "  - src: /srv/static\n"
      "    dest: /app/static\n",
      "t.yml", false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->syncs.size(), 2u);
  const auto& s = c->syncs[0];
  EXPECT_EQ(s.source.type, "s3");
  EXPECT_EQ(s.source.bucket, "bucket");
  EXPECT_EQ(s.source.path, "code");
  EXPECT_EQ(s.source.access_key_id, "AK");  // from the top level
  EXPECT_EQ(s.dest, "/app/code");
  EXPECT_TRUE(s.watch);
  EXPECT_TRUE(s.delete_extra);
  EXPECT_EQ(s.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(s.max_interval, std::chrono::seconds(30));
  EXPECT_EQ(s.include, std::vector<std::string>{"*.py"});
  EXPECT_EQ(s.exclude, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.max_size, 10 << 20);
  EXPECT_FALSE(c->syncs[1].watch);
  EXPECT_EQ(c->syncs[1].source.type, "file");
  EXPECT_EQ(c->syncs[1].source.path, "/srv/static");
}

TEST(SyncConfigTest, ErrorsNameKeyAndLine) {
  auto c = config::Parse("sync:\n  - src: /a\n    dest: /b\n    wacth: true\n",
                         "t.yml", false);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("t.yml:4"), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("\"watch\""), std::string::npos)
      << c.status().message();
  c = config::Parse("sync:\n  - src: /a\n", "t.yml", false);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("dest"), std::string::npos);
  c = config::Parse("sync:\n  - {src: /a, dest: /b}\n  - {src: /c, dest: /b}\n",
                    "t.yml", false);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("line 2"), std::string::npos)
      << c.status().message();
}

class SyncerTest : public ::testing::Test {
 protected:
  void Put(const std::string& rel, const std::string& data) {
    fs::create_directories(fs::path(src_ + "/" + rel).parent_path());
    std::ofstream(src_ + "/" + rel, std::ios::binary) << data;
  }
  std::unique_ptr<Syncer> Make(SyncOptions o = {}) {
    o.dest = dest_;
    auto s =
        Syncer::Create(std::make_unique<storage::FileObjectStore>(src_), o);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  testing::TempDir dir_;
  std::string src_ = dir_.Join("src"), dest_ = dir_.Join("dest");
};

TEST_F(SyncerTest, StateFileSkipsUnchangedAndSeesSameSizeChanges) {
  Put("a.txt", "one");
  Put("d/b.txt", "two");
  auto s = Make();
  auto p = s->Pass();
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->downloaded, 2u);
  EXPECT_TRUE(fs::exists(dest_ + "/.litekeep-sync.json"));
  // A new engine reads the state: nothing to do.
  s = Make();
  p = s->Pass();
  EXPECT_EQ(p->downloaded, 0u);
  EXPECT_EQ(s->totals().requests.get, 0u);
  Put("a.txt", "ONE");  // same size
  p = s->Pass();
  EXPECT_EQ(p->downloaded, 1u);
  EXPECT_EQ(testing::ReadFile(dest_ + "/a.txt"), "ONE");
  // No temporary file is left anywhere.
  for (auto& e : fs::recursive_directory_iterator(dest_)) {
    EXPECT_EQ(e.path().filename().string().find(".litekeep-tmp-"),
              std::string::npos);
  }
}

TEST_F(SyncerTest, RefusesCollidingNamesAndRemovesCrashLeftovers) {
  Put("ok.txt", "ok");
  Put(".litekeep-sync.json", "{}");
  Put("x/.litekeep-tmp-abc", "tmp");
  fs::create_directories(dest_);
  std::ofstream(dest_ + "/.litekeep-tmp-0123456789ab") << "left by a crash";
  auto s = Make();
  auto p = s->Pass();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->downloaded, 1u);
  ASSERT_EQ(p->refused.size(), 2u);
  EXPECT_NE(p->refused[0].find("state file"), std::string::npos)
      << p->refused[0];
  EXPECT_NE(p->refused[1].find("temporary"), std::string::npos)
      << p->refused[1];
  EXPECT_FALSE(fs::exists(dest_ + "/.litekeep-tmp-0123456789ab"));
}

TEST_F(SyncerTest, WatchBacksOffWhileIdleAndSnapsBack) {
  Put("a.txt", "1");
  SyncOptions o;
  o.interval = std::chrono::milliseconds(100);
  o.max_interval = std::chrono::milliseconds(800);
  auto s = Make(o);
  ASSERT_TRUE(s->Pass().ok());
  std::vector<int64_t> waits;
  s->Watch(
      [&](std::chrono::milliseconds d) {
        waits.push_back(d.count());
        if (waits.size() == 6) Put("a.txt", "2");
        return waits.size() > 8;
      },
      nullptr);
  EXPECT_EQ(waits, (std::vector<int64_t>{100, 200, 400, 800, 800, 800, 100, 200,
                                         400}));
}

}  // namespace
}  // namespace litekeep::sync
