// `litekeep sync` against s3rver with the real binary, rclone (Debian) as
// the independent client that uploads objects and makes the reference
// copy: first copy equals `rclone copy`, -watch follows changes while a
// reader never sees a partial file, a restart makes no GET, and an idle
// watched tree of 1,000 objects costs one LIST per pass and no GET.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/sync_test_util.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using namespace sync_test;  // NOLINT(build/namespaces)
constexpr char kBucket[] = "code";

S3rver* Server() {
  static std::unique_ptr<S3rver> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = S3rver::Start(kBucket, &error);
    if (!server)
      std::fprintf(stderr, "s3rver unavailable: %s\n", error.c_str());
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  }
  return server.get();
}

std::string Url(const std::string& prefix) {
  return std::string("s3://") + kBucket + "/" + prefix +
         "?endpoint=" + Server()->endpoint() +
         "&forcePathStyle=true&region=us-east-1";
}

CommandResult Sync(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin(), "sync"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// Names that differ between two trees (missing on either side, or other
// bytes), for failure messages.
std::string Diff(const std::map<std::string, std::string>& x,
                 const std::map<std::string, std::string>& y) {
  std::string out;
  for (const auto& [k, v] : x) {
    auto it = y.find(k);
    if (it == y.end())
      out += " only-left:" + k;
    else if (it->second != v)
      out += " differs:" + k;
  }
  for (const auto& [k, v] : y) {
    if (!x.count(k)) out += " only-right:" + k;
  }
  return out;
}

// Uploads a local directory or file with rclone.
void Upload(const std::string& local, const std::string& remote_path,
            bool one_file = false) {
  auto r = Rclone(Server()->port(),
                  {one_file ? "copyto" : "copy", "--transfers", "16", local,
                   std::string("lk:") + kBucket + "/" + remote_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Replaces one object the way S3 does, atomically: s3rver's PUT rewrites
// the object's file in place (truncated, then streamed), so a listing or GET
// during the upload sees a short object that S3 never shows. This writes the
// new bytes beside s3rver's file and renames them over it, then removes the
// stored MD5 so that s3rver computes the new ETag from the new bytes (until
// then a listing shows the old ETag with the new bytes, which a later pass
// corrects).
void ReplaceObjectAtomically(const std::string& key, const std::string& bytes) {
  const std::string object =
      Server()->data_dir() + "/" + kBucket + "/" + key + "._S3rver_object";
  ASSERT_TRUE(fs::exists(object)) << object;
  const std::string tmp = object + ".new";
  WriteFile(tmp, bytes);
  fs::rename(tmp, object);
  fs::remove(object + ".md5");
}

class SyncS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
    if (!HaveRclone()) GTEST_SKIP() << "rclone not installed";
  }
  TempDir dir_;
};

TEST_F(SyncS3Test, FirstCopyEqualsRcloneCopyAndRestartMakesNoGet) {
  const std::string src = dir_.Join("src");
  MakeSourceTree(src);
  Upload(src, "first");
  const std::string a = dir_.Join("a"), b = dir_.Join("b");
  auto r = Sync({"-json", Url("first"), a});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["objects"], 26);
  EXPECT_EQ(j["requests"]["get"], 26);
  EXPECT_EQ(j["requests"]["list"], 1);
  // The reference copy, all by rclone: its listing, then one `rclone
  // copyto` per file. (Against s3rver, bookworm's `rclone copy` of the
  // prefix skips directories that hold only directories, static/ here,
  // although `rclone lsf -R` lists their files.)
  const std::string remote = std::string("lk:") + kBucket + "/first";
  auto ls = Rclone(Server()->port(), {"lsf", "-R", "--files-only", remote});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  std::istringstream names(ls.out);
  for (std::string name; std::getline(names, name);) {
    auto rc = Rclone(Server()->port(),
                     {"copyto", remote + "/" + name, b + "/" + name});
    ASSERT_EQ(rc.exit_code, 0) << rc.err;
  }
  EXPECT_EQ(Tree(a).size(), 26u);
  EXPECT_TRUE(Tree(a) == Tree(b)) << Diff(Tree(a), Tree(b));
  EXPECT_TRUE(Tree(a) == Tree(src));

  // Restart: nothing downloaded again.
  r = Sync({"-json", Url("first"), a});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["downloaded"], 0);
  EXPECT_EQ(j["requests"]["get"], 0);
  EXPECT_EQ(j["requests"]["list"], 1);

  // A same-size overwrite is seen through the ETag.
  WriteFile(dir_.Join("v2.py"), "import streamlit as st\nst.write('HELLO')\n");
  Upload(dir_.Join("v2.py"), "first/app.py", true);
  j = nlohmann::json::parse(Sync({"-json", Url("first"), a}).out);
  EXPECT_EQ(j["downloaded"], 1);
  EXPECT_EQ(ReadFile(a + "/app.py"), ReadFile(dir_.Join("v2.py")));
}

TEST_F(SyncS3Test, WatchFollowsChangesAndReadersNeverSeePartialFiles) {
  constexpr size_t kBig = 3 << 20;
  const std::string src = dir_.Join("src"), dest = dir_.Join("dest");
  MakeSourceTree(src);
  WriteFile(src + "/big.bin", std::string(kBig, 'A'));
  Upload(src, "watch");
  ChildProcess p({LitekeepBin(), "sync", "-watch", "-delete", "-interval",
                  "100ms", "-max-interval", "500ms", Url("watch"), dest},
                 dir_.Join("sync.log"));
  ASSERT_TRUE(WaitUntil([&] { return Tree(dest) == Tree(src); })) << p.Log();

  // A reader opens big.bin in a loop: always whole, one letter throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::string first_bad;
  std::thread reader([&] {
    while (!stop) {
      std::ifstream in(dest + "/big.bin", std::ios::binary);
      std::string s((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
      ++reads;
      bool whole =
          s.size() == kBig && s.find_first_not_of(s[0]) == std::string::npos;
      if (!whole && bad++ == 0) first_bad = std::to_string(s.size()) + " bytes";
    }
  });
  for (char v : {'B', 'C', 'D'}) {
    ReplaceObjectAtomically("watch/big.bin", std::string(kBig, v));
    ASSERT_TRUE(WaitUntil(
        [&] {
          std::ifstream in(dest + "/big.bin", std::ios::binary);
          return in.get() == v;
        },
        std::chrono::seconds(10)))
        << p.Log();
  }
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 10);
  EXPECT_EQ(bad.load(), 0) << "first partial read: " << first_bad;

  // Add, modify, delete.
  WriteFile(src + "/new/added.py", "added");
  WriteFile(src + "/big.bin", std::string(kBig, 'D'));
  Upload(src + "/new/added.py", "watch/new/added.py", true);
  auto del = Rclone(
      Server()->port(),
      {"deletefile", std::string("lk:") + kBucket + "/watch/lib/mod7.py"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  fs::remove(src + "/lib/mod7.py");
  ASSERT_TRUE(WaitUntil([&] { return Tree(dest) == Tree(src); },
                        std::chrono::seconds(5)))
      << p.Log();
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.Log();
}

TEST_F(SyncS3Test, IdleTreeOfThousandObjectsCostsOneListPerPassAndNoGet) {
  const std::string src = dir_.Join("src"), dest = dir_.Join("dest");
  for (int i = 0; i < 1000; ++i) {
    WriteFile(
        src + "/d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".txt",
        "object " + std::to_string(i) + "\n");
  }
  Upload(src, "idle");
  auto first = Sync({"-json", Url("idle"), dest});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(nlohmann::json::parse(first.out)["downloaded"], 1000);

  const int port = FreePort();
  ChildProcess p({LitekeepBin(), "sync", "-watch", "-interval", "200ms",
                  "-max-interval", "200ms", "-addr",
                  "127.0.0.1:" + std::to_string(port), Url("idle"), dest},
                 dir_.Join("sync.log"));
  std::string m;
  const std::string l = "{dest=\"" + dest + "\"}";
  ASSERT_TRUE(WaitUntil(
      [&] {
        m = HttpGet(port, "/metrics").second;
        return Sample(m, "litekeep_dirsync_passes_total" + l) >= 10;
      },
      std::chrono::seconds(30)))
      << m << p.Log();
  const double passes = Sample(m, "litekeep_dirsync_passes_total" + l);
  const double lists = Sample(m, "litekeep_dirsync_requests_total{dest=\"" +
                                     dest + "\",kind=\"list\"}");
  const double gets = Sample(
      m, "litekeep_dirsync_requests_total{dest=\"" + dest + "\",kind=\"get\"}");
  std::fprintf(stderr, "idle 1000 objects: %.0f passes, %.0f LIST, %.0f GET\n",
               passes, lists, gets);
  EXPECT_EQ(lists, passes);
  EXPECT_EQ(gets, 0);
  EXPECT_EQ(Sample(m, "litekeep_dirsync_objects" + l), 1000);
  auto health = HttpGet(port, "/healthz");
  EXPECT_EQ(health.first, 200) << health.second;
  EXPECT_NE(health.second.find("sync=" + dest), std::string::npos)
      << health.second;
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.Log();
}

}  // namespace
}  // namespace litekeep::testing
