// etc/entrypoint.sh run as a plain process (as a container would): with an
// empty data dir and no backup it starts fresh, runs the app under
// `replicate -exec`, and SIGTERM leaves an exact replica; with the data dir
// gone it restores from that replica and the app carries on.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

class EntrypointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Join("data");
    db_ = data_ + "/app.db";
    replica_ = dir_.Join("replica");
    config_ = dir_.Join("litekeep.yml");
    std::ofstream(config_) << "dbs:\n  - path: " << db_ << "\n    replica:\n"
                           << "      path: " << replica_ << "\n"
                           << "      sync-interval: 100ms\n";
    // The app: a row every 20 ms until SIGTERM.
    app_ = dir_.Join("app.sh");
    std::ofstream(app_) << "#!/bin/sh\n"
                        << "trap 'exit 0' TERM\n"
                        << "sqlite3 \"$1\" 'CREATE TABLE IF NOT EXISTS t(x)'\n"
                        << "while :; do sqlite3 \"$1\" \"INSERT INTO t VALUES "
                           "(randomblob(200))\"; sleep 0.02; done\n";
    fs::permissions(app_, fs::perms::owner_all);
  }

  // Runs the entrypoint until the app wrote more than `rows` rows, then
  // SIGTERMs it; returns the exit code.
  int RunUntilRows(int rows) {
    ChildProcess p({"/usr/bin/env", "LITEKEEP_DB=" + db_, "LITEKEEP_CONFIG=" + config_,
                    "LITEKEEP_BIN=" + LitekeepBin(),
                    SourceDir() + "/etc/entrypoint.sh", app_, db_},
                   dir_.Join("entrypoint" + std::to_string(++runs_) + ".log"));
    bool ok = WaitUntil([&] {
      return fs::exists(db_) &&
             std::atoi(QueryOne(db_, "SELECT count(*) FROM t").c_str()) > rows;
    });
    EXPECT_TRUE(ok) << p.Log();
    p.Signal(SIGTERM);
    int code = p.Wait();
    EXPECT_EQ(code, 0) << p.Log();
    log_ = p.Log();
    return code;
  }

  // The replica restores to exactly the database's content.
  void ExpectExactReplica() {
    const std::string out = dir_.Join("check.db");
    fs::remove(out);
    auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, "file://" + replica_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ContentHash(out), ContentHash(db_));
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"),
              QueryOne(db_, "SELECT count(*) FROM t"));
  }

  TempDir dir_;
  std::string data_, db_, replica_, config_, app_, log_;
  int runs_ = 0;
};

TEST_F(EntrypointTest, StartsFreshThenRestoresAndSigtermLeavesExactReplica) {
  ASSERT_EQ(RunUntilRows(10), 0);
  EXPECT_NE(log_.find("no backup found"), std::string::npos) << log_;
  ExpectExactReplica();
  const int before = std::atoi(QueryOne(db_, "SELECT count(*) FROM t").c_str());

  // A new container: the data dir is empty again.
  fs::remove_all(data_);
  ASSERT_EQ(RunUntilRows(before + 10), 0);
  EXPECT_EQ(log_.find("no backup found"), std::string::npos) << log_;
  ExpectExactReplica();
}

TEST_F(EntrypointTest, NoArgumentsIsAUsageError) {
  auto r = litekeep::testing::Run({"/usr/bin/env", "LITEKEEP_DB=" + db_, SourceDir() + "/etc/entrypoint.sh"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace litekeep::testing
