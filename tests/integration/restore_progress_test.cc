// What `litekeep restore` prints (docs/cli/restore.md, "Progress and
// output"): -json reports bytes, files, seconds and throughput; with stderr
// not a terminal there is no progress line, only the one-line summary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

class RestoreProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.Join("app.db");
    ASSERT_EQ(ExecSql(db_,
                      "PRAGMA journal_mode=WAL; CREATE TABLE t(v BLOB);"
                      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                      "FROM c WHERE x < 2000) INSERT INTO t SELECT "
                      "randomblob(1000) FROM c;"),
              "");
    auto r = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", db_, Replica()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(ExecSql(db_, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  }
  std::string Replica() { return "file://" + dir_.Join("replica"); }

  TempDir dir_;
  std::string db_;
};

TEST_F(RestoreProgressTest, JsonReportsBytesFilesSecondsAndThroughput) {
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-json", "-o",
                                   dir_.Join("out.db"), Replica()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ReadFile(dir_.Join("out.db")) == ReadFile(db_));
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["files"], 1);
  EXPECT_GT(j["bytes_read"].get<int64_t>(), 2000 * 1000);
  EXPECT_EQ(j["bytes_written"].get<int64_t>(),
            static_cast<int64_t>(ReadFile(db_).size()));
  EXPECT_GT(j["seconds"].get<double>(), 0.0);
  EXPECT_NEAR(j["bytes_per_second"].get<double>(),
              j["bytes_read"].get<double>() / j["seconds"].get<double>(), 1.0);
  EXPECT_EQ(r.err.find("ETA"), std::string::npos) << r.err;
}

TEST_F(RestoreProgressTest, NoProgressLineWhenStderrIsNotATerminal) {
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir_.Join("out.db"), Replica()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ETA"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("restored " + dir_.Join("out.db") +
                       " to TXID 0000000000000001"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace litekeep::testing
