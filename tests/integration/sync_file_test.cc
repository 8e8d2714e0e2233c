// `litekeep sync` from a directory (the file backend), with the real
// binary: the first copy equals `rclone copy`, -watch follows additions,
// changes and deletions, a restart downloads nothing, refused names,
// filters, size limits, and local files that are not objects.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/integration/sync_test_util.h"
#include "tests/support/process.h"

namespace litekeep::testing {
namespace {

using namespace sync_test;  // NOLINT(build/namespaces)

CommandResult Sync(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin(), "sync"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

nlohmann::json Json(const CommandResult& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

TEST(SyncFileTest, FirstCopyEqualsRcloneCopy) {
  if (!HaveRclone()) GTEST_SKIP() << "rclone not installed";
  TempDir dir;
  const std::string src = dir.Join("src"), a = dir.Join("a"), b = dir.Join("b");
  MakeSourceTree(src);
  auto r = Sync({"-json", "file://" + src, a});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = Json(r);
  EXPECT_EQ(j["objects"], 26);
  EXPECT_EQ(j["downloaded"], 26);
  auto rc = litekeep::testing::Run(
      {"/usr/bin/rclone", "--config", "/dev/null", "copy", src, b});
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  const auto mine = Tree(a), theirs = Tree(b);
  EXPECT_EQ(mine.size(), 26u);
  EXPECT_TRUE(mine == theirs);
  EXPECT_EQ(mine, Tree(src));
  // Files are readable by others (0644 less the umask) and keep the
  // object's modification time, like rclone.
  EXPECT_EQ(fs::last_write_time(a + "/app.py"),
            fs::last_write_time(src + "/app.py"));
}

TEST(SyncFileTest, RestartDownloadsNothingUnchangedAndRepairsLocalDamage) {
  TempDir dir;
  const std::string src = dir.Join("src"), dest = dir.Join("dest");
  MakeSourceTree(src);
  ASSERT_EQ(Sync({src, dest}).exit_code, 0);
  auto r = Sync({"-json", src, dest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = Json(r);
  EXPECT_EQ(j["downloaded"], 0);
  EXPECT_EQ(j["requests"]["get"], 0);
  EXPECT_EQ(j["requests"]["list"], 1);
  // A deleted or edited local copy comes back (the store is the truth).
  fs::remove(dest + "/lib/mod3.py");
  WriteFile(dest + "/app.py", "edited locally");
  j = Json(Sync({"-json", src, dest}));
  EXPECT_EQ(j["downloaded"], 2);
  EXPECT_EQ(Tree(dest), Tree(src));
}

TEST(SyncFileTest, LocalFilesStayWithoutDeleteAndGoWithIt) {
  TempDir dir;
  const std::string src = dir.Join("src"), dest = dir.Join("dest");
  MakeSourceTree(src);
  WriteFile(dest + "/local-only.txt", "mine");
  ASSERT_EQ(Sync({src, dest}).exit_code, 0);
  fs::remove(src + "/pages/1_page.py");
  ASSERT_EQ(Sync({src, dest}).exit_code, 0);
  EXPECT_TRUE(fs::exists(dest + "/local-only.txt"));
  EXPECT_TRUE(fs::exists(dest + "/pages/1_page.py"));  // as rclone copy
  // -delete mirrors, but excluded names are kept.
  WriteFile(dest + "/keep.log", "log");
  auto r = Sync({"-delete", "-exclude", "*.log", "-json", src, dest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dest + "/local-only.txt"));
  EXPECT_FALSE(fs::exists(dest + "/pages"));  // emptied directory removed
  EXPECT_TRUE(fs::exists(dest + "/keep.log"));
  auto tree = Tree(dest);
  tree.erase("keep.log");
  EXPECT_EQ(tree, Tree(src));
}

TEST(SyncFileTest, RefusesSymlinksAndCopiesTheRest) {
  TempDir dir;
  const std::string src = dir.Join("src"), dest = dir.Join("dest");
  WriteFile(src + "/ok.py", "ok");
  WriteFile(dir.Join("secret"), "secret");
  fs::create_symlink(dir.Join("secret"), src + "/link.py");
  auto r = Sync({src, dest});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("\"link.py\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dest + "/ok.py"));
  EXPECT_FALSE(fs::exists(dest + "/link.py"));
  // A link inside the destination is never followed.
  fs::create_directories(dir.Join("elsewhere"));
  WriteFile(src + "/sub/x.py", "x");
  fs::create_symlink(dir.Join("elsewhere"), dest + "/sub");
  r = Sync({src, dest});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.Join("elsewhere/x.py")));
}

TEST(SyncFileTest, FiltersAndSizeLimits) {
  TempDir dir;
  const std::string src = dir.Join("src"), dest = dir.Join("dest");
  MakeSourceTree(src);
  auto j = Json(
      Sync({"-json", "-include", "*.py", "-exclude", "lib/mod1*", src, dest}));
  // app.py, pages/1_page.py, and lib/mod*.py without mod1 and mod10..19.
  EXPECT_EQ(j["objects"], 2 + 20 - 11);
  EXPECT_FALSE(fs::exists(dest + "/static"));
  EXPECT_FALSE(fs::exists(dest + "/lib/mod12.py"));
  EXPECT_TRUE(fs::exists(dest + "/lib/mod2.py"));

  const std::string d2 = dir.Join("d2");
  auto r = Sync({"-json", "-max-size", "1MiB", src, d2});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  j = Json(r);
  EXPECT_EQ(j["refused"].size(), 1u);
  EXPECT_NE(j["refused"][0].get<std::string>().find("static/img/logo.bin"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(d2 + "/static/img/logo.bin"));

  r = Sync({"-max-total-size", "1MB", src, dir.Join("d3")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-max-total-size"), std::string::npos) << r.err;
  EXPECT_TRUE(Tree(dir.Join("d3")).empty());

  r = Sync({"-include", "[abc", src, dir.Join("d4")});
  EXPECT_EQ(r.exit_code, 2);  // a usage error
  EXPECT_NE(r.err.find("[abc"), std::string::npos) << r.err;
}

TEST(SyncFileTest, WatchFollowsAddChangeDelete) {
  TempDir dir;
  const std::string src = dir.Join("src"), dest = dir.Join("dest");
  MakeSourceTree(src);
  ChildProcess p({LitekeepBin(), "sync", "-watch", "-delete", "-interval",
                  "100ms", "-max-interval", "400ms", src, dest},
                 dir.Join("sync.log"));
  ASSERT_TRUE(WaitUntil([&] { return Tree(dest) == Tree(src); })) << p.Log();
  WriteFile(src + "/new/added.py", "added");
  WriteFile(src + "/app.py", "changed, longer than before");
  fs::remove(src + "/lib/mod5.py");
  // Within the (backed-off) interval bound: 400 ms here, against defaults
  // of 2 s growing to 30 s; 4 s leaves room for a loaded machine.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] { return Tree(dest) == Tree(src); },
                        std::chrono::seconds(5)))
      << p.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  // Same size, new content.
  WriteFile(src + "/app.py", "CHANGED, LONGER THAN BEFORE");
  ASSERT_TRUE(WaitUntil([&] { return Tree(dest) == Tree(src); },
                        std::chrono::seconds(5)))
      << p.Log();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.Log();
}

}  // namespace
}  // namespace litekeep::testing
