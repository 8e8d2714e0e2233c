// Litestream 0.5 keys litekeep implements (docs/config.md): `meta-dir`
// gives each database of a `dir` entry its own state directory under it
// (and `reset` finds it), and `verify-compaction` checks the replica after
// each compaction, counting a TXID gap in
// litestream_compaction_verify_error_count.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// The sorted file names of one level of a file replica.
std::vector<std::string> LevelFiles(const std::string& replica, int level) {
  std::vector<std::string> out;
  const std::string dir = replica + "/ltx/" + std::to_string(level);
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".ltx") out.push_back(e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t MinOf(const std::string& name) {
  return std::stoull(name.substr(0, 16), nullptr, 16);
}
uint64_t MaxOf(const std::string& name) {
  return std::stoull(name.substr(17, 16), nullptr, 16);
}

TEST(MetaDirTest, EachDatabaseOfADirectoryGetsItsStateUnderMetaDir) {
  TempDir dir;
  const std::string data = dir.Join("data");
  const std::string state = dir.Join("state");
  fs::create_directories(data + "/sub");
  const std::string a = data + "/a.db";
  const std::string b = data + "/sub/b.db";
  for (const std::string& db : {a, b}) {
    ASSERT_EQ(ExecSql(db,
                      "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                      "INSERT INTO t VALUES('" +
                          db + "')"),
              "");
  }
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - dir: " << data
                     << "\n    pattern: \"*.db\"\n    recursive: true\n"
                     << "    meta-dir: " << state
                     << "\n    replica:\n      path: " << dir.Join("r") << "\n";
  auto r = testing::Run({LitekeepBin(), "replicate", "-once", "-config", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(state + "/a.db-litekeep/position.json")) << r.err;
  EXPECT_TRUE(fs::exists(state + "/sub/b.db-litekeep/position.json")) << r.err;
  EXPECT_FALSE(fs::exists(data + "/.a.db-litekeep"));
  EXPECT_FALSE(fs::exists(data + "/sub/.b.db-litekeep"));
  // The replicas are the usual per-database ones, and restore exactly.
  for (const auto& [db, rel] : {std::pair{a, std::string("a.db")},
                                std::pair{b, std::string("sub/b.db")}}) {
    const std::string out = dir.Join("out.db");
    fs::remove(out);
    auto restored = testing::Run(
        {LitekeepBin(), "restore", "-o", out, dir.Join("r") + "/" + rel});
    ASSERT_EQ(restored.exit_code, 0) << restored.err;
    EXPECT_EQ(ContentHash(out), ContentHash(db)) << rel;
  }
  // reset finds the state through the config.
  auto dry =
      testing::Run({LitekeepBin(), "reset", "-dry-run", "-config", cfg, b});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(Contains(dry.out, state + "/sub/b.db-litekeep")) << dry.out;

  // meta-dir without dir, and with meta-path, are refused at load.
  std::ofstream(cfg, std::ios::trunc)
      << "dbs:\n  - path: " << a << "\n    meta-dir: " << state
      << "\n    replica:\n      path: " << dir.Join("r") << "\n";
  r = testing::Run({LitekeepBin(), "replicate", "-once", "-config", cfg});
  EXPECT_EQ(r.exit_code, 2);  // a config error
  EXPECT_TRUE(Contains(r.err, "`meta-dir:` needs `dir:`")) << r.err;
}

TEST(VerifyCompactionTest, CountsAGapAfterCompaction) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port
                     << "\nverify-compaction: true\n"
                        "levels:\n  - interval: 1s\n"
                        "dbs:\n  - path: "
                     << db << "\n    replica:\n      path: " << replica
                     << "\n      sync-interval: 100ms\n";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  const std::string series =
      "litestream_compaction_verify_error_count{db=\"" + db + "\"} ";
  int row = 0;
  auto write_until = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 300; ++i) {
      EXPECT_EQ(
          ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(++row) + ")"),
          "");
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(write_until([&] { return LevelFiles(replica, 1).size() >= 3; }))
      << rep.Log();
  std::string metrics = HttpGet(port, "/metrics").second;
  EXPECT_TRUE(Contains(metrics, series + "0")) << metrics;
  EXPECT_FALSE(Contains(rep.Log(), "post-compaction verification failed"))
      << rep.Log();

  // Lose the second L1 file and the L0 files it merged: a TXID gap.
  const std::string lost = LevelFiles(replica, 1)[1];
  fs::remove(replica + "/ltx/1/" + lost);
  for (const std::string& f : LevelFiles(replica, 0)) {
    if (MinOf(f) >= MinOf(lost) && MaxOf(f) <= MaxOf(lost)) {
      fs::remove(replica + "/ltx/0/" + f);
    }
  }
  ASSERT_TRUE(write_until([&] {
    return Contains(HttpGet(port, "/metrics").second, series + "1");
  })) << rep.Log();
  EXPECT_TRUE(Contains(rep.Log(), "post-compaction verification failed"))
      << rep.Log();
  EXPECT_TRUE(Contains(rep.Log(), "gap")) << rep.Log();
  EXPECT_TRUE(rep.running());
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

}  // namespace
}  // namespace litekeep::testing
