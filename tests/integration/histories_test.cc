// After `replicate -new-history` the replica holds two histories: `ltx`
// marks each file previous/current and `status` names where the previous
// one ends (docs/architecture.md, "Lineage guard"), with the real binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

TEST(HistoriesTest, LtxAndStatusShowBothHistories) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(1),(2),(3);"),
            "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      url: file://" << replica << "\n"
                     << "      lease-ttl: 0\n";
  auto first = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", "-config", cfg});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // Before a new history: the usual listing, no history column.
  auto plain =
      litekeep::testing::Run({LitekeepBin(), "ltx", "-config", cfg, db});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("history"), std::string::npos) << plain.out;
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
  auto fresh = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", "-new-history", "-config", cfg});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;

  auto ltx = litekeep::testing::Run({LitekeepBin(), "ltx", "-config", cfg, db});
  ASSERT_EQ(ltx.exit_code, 0) << ltx.err;
  EXPECT_NE(ltx.out.find("history"), std::string::npos) << ltx.out;
  EXPECT_NE(ltx.out.find("0000000000000001  0000000000000001"),
            std::string::npos)
      << ltx.out;
  EXPECT_NE(ltx.out.find("previous"), std::string::npos) << ltx.out;
  EXPECT_NE(ltx.out.find("current"), std::string::npos) << ltx.out;
  EXPECT_NE(ltx.err.find("previous one ends at TXID 0000000000000001"),
            std::string::npos)
      << ltx.err;
  auto json = litekeep::testing::Run(
      {LitekeepBin(), "ltx", "-json", "-config", cfg, db});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto files = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(files.is_array()) << json.out;
  int previous = 0, current = 0;
  for (const auto& f : files) {
    const std::string h = f.value("history", "");
    if (h == "previous") {
      ++previous;
      EXPECT_EQ(f["max_txid"], "0000000000000001");
    } else if (h == "current") {
      ++current;
      EXPECT_EQ(f["max_txid"], "0000000000000002");
    } else {
      ADD_FAILURE() << "no history field: " << f.dump();
    }
  }
  EXPECT_EQ(previous, 1);
  EXPECT_EQ(current, 1);

  auto status =
      litekeep::testing::Run({LitekeepBin(), "status", "-config", cfg});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("previous one ends at TXID 0000000000000001"),
            std::string::npos)
      << status.out;
  auto sj = litekeep::testing::Run(
      {LitekeepBin(), "status", "-json", "-config", cfg});
  ASSERT_EQ(sj.exit_code, 0) << sj.err;
  auto st = nlohmann::json::parse(sj.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << sj.out;
  EXPECT_EQ(st["databases"][0]["previous_history_txid"], "0000000000000001")
      << sj.out;
  EXPECT_EQ(st["databases"][0]["replicated_txid"], "0000000000000002")
      << sj.out;
}

}  // namespace
}  // namespace litekeep::testing
