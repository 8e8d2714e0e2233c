// `auto-recover` (docs/config.md, "Replica keys"): with true (and unset)
// damaged local state is dropped at start, logged, counted in
// litekeep_auto_recover_total, and the replica still restores exactly; with
// false the database is refused with a message naming `litekeep reset`.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

TEST(AutoRecoverTest, FalseRefusesDamagedStateTrueRecoversAndCounts) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("r");
  const std::string meta = dir.Join(".app.db-litekeep");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('one')"),
            "");
  auto config = [&](const std::string& extra, int port) {
    const std::string path = dir.Join("litekeep.yml");
    std::ofstream out(path, std::ios::trunc);
    if (port > 0) out << "addr: 127.0.0.1:" << port << "\n";
    out << "dbs:\n  - path: " << db << "\n    replica:\n      path: " << replica
        << "\n"
        << extra;
    return path;
  };
  auto r = testing::Run(
      {LitekeepBin(), "replicate", "-once", "-config", config("", 0)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ofstream(meta + "/position.json", std::ios::trunc) << "{garbage";
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('two')"), "");

  r = testing::Run({LitekeepBin(), "replicate", "-once", "-config",
                    config("      auto-recover: false\n", 0)});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "auto-recover is false")) << r.err;
  EXPECT_TRUE(Contains(r.err, "litekeep reset " + db)) << r.err;
  EXPECT_EQ(ReadFile(meta + "/position.json"), "{garbage");

  const int port = FreePort();
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    config("      auto-recover: true\n", port)},
                   dir.Join("log"));
  std::string metrics;
  ASSERT_TRUE(WaitUntil([&] {
    auto [status, body] = HttpGet(port, "/metrics");
    metrics = body;
    return status == 200 &&
           Contains(body, "litekeep_auto_recover_total{db=\"" + db + "\"} 1");
  })) << metrics
      << rep.Log();
  EXPECT_TRUE(Contains(rep.Log(), "damaged; starting over (auto-recover)"))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto restored = testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT group_concat(x) FROM t"),
            "one,two");
}

}  // namespace
}  // namespace litekeep::testing
