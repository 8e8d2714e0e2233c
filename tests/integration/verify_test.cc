// `litekeep verify` against real replicas written by `litekeep replicate`:
// passes on a good replica (also -full, compared with the live database)
// and fails, naming the object, for a missing middle file, a flipped byte,
// a truncated file, an overlap, and a snapshot older than retention needs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "tests/support/process.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.Join("app.db");
    replica_ = dir_.Join("replica");
    config_ = dir_.Join("litekeep.yml");
    std::ofstream(config_) << "dbs:\n  - path: " << db_ << "\n    replica:\n"
                           << "      path: " << replica_ << "\n";
    ASSERT_EQ(ExecSql(db_, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    // An open connection keeps the WAL between the runs (and until the test
    // ends), so each run after the first ships an L0 change file (TXID 1 is
    // the L9 image).
    ASSERT_EQ(sqlite3_open(db_.c_str(), &keep_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(keep_, "SELECT count(*) FROM t", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES (randomblob(3000))"), "");
      auto r = litekeep::testing::Run({LitekeepBin(), "replicate", "-once", "-config", config_});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  void TearDown() override { sqlite3_close(keep_); }
  // The file holding TXID txid: the L9 image for 1, else an L0 file.
  std::string File(int txid) const {
    char name[64];
    std::snprintf(name, sizeof(name), "%016x-%016x.ltx", txid == 1 ? 1 : txid,
                  txid);
    return replica_ + (txid == 1 ? "/ltx/9/" : "/ltx/0/") + name;
  }
  CommandResult Verify(std::vector<std::string> flags) {
    std::vector<std::string> argv = {LitekeepBin(), "verify"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("file://" + replica_);
    return litekeep::testing::Run(argv);
  }

  TempDir dir_;
  std::string db_, replica_, config_;
  sqlite3* keep_ = nullptr;
};

TEST_F(VerifyTest, GoodReplicaPassesAtEveryDepth) {
  for (const char* depth : {"-listing", "-checksums", "-full"}) {
    auto r = Verify({depth});
    EXPECT_EQ(r.exit_code, 0) << depth << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  }
  auto j = Verify({"-checksums", "-json"});
  EXPECT_EQ(j.exit_code, 0) << j.out << j.err;
  EXPECT_NE(j.out.find("\"ok\":true"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"files_decoded\":5"), std::string::npos) << j.out;
  EXPECT_EQ(j.err, "");  // no progress bar when not a terminal
}

TEST_F(VerifyTest, FullComparesWithTheLiveDatabase) {
  auto r = litekeep::testing::Run({LitekeepBin(), "verify", "-full", "-config", config_, db_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("identical to the live database"), std::string::npos)
      << r.out;
}

TEST_F(VerifyTest, FullWhileReplicating) {
  ChildProcess rep({LitekeepBin(), "replicate", "-config", config_},
                   dir_.Join("replicate.log"));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES (randomblob(100))"), "");
  }
  auto r = litekeep::testing::Run({LitekeepBin(), "verify", "-full", "-json", "-config", config_, db_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << rep.Log();
  EXPECT_NE(r.out.find("\"compared_live\":true"), std::string::npos) << r.out;
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

TEST_F(VerifyTest, MissingMiddleFileFailsNamingIt) {
  fs::remove(File(3));
  auto r = Verify({"-listing"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("gap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0000000000000003-0000000000000003.ltx"), std::string::npos)
      << r.out;
  auto j = Verify({"-json"});
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_NE(j.out.find("\"object\":\"level 0 file 0000000000000003-0000000000000003.ltx\""),
            std::string::npos)
      << j.out;
}

TEST_F(VerifyTest, FlippedByteFailsNamingTheFile) {
  const std::string f = File(3);
  std::string data = ReadFile(f);
  data[data.size() / 2] ^= 0x40;
  std::ofstream(f, std::ios::binary | std::ios::trunc) << data;
  EXPECT_EQ(Verify({"-listing"}).exit_code, 0);  // the listing cannot see it
  auto r = Verify({"-checksums"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL checksum"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0000000000000003-0000000000000003.ltx"), std::string::npos)
      << r.out;
}

TEST_F(VerifyTest, TruncatedFileFailsNamingIt) {
  const std::string f = File(4);
  fs::resize_file(f, fs::file_size(f) / 2);
  auto r = Verify({"-checksums"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("0000000000000004-0000000000000004.ltx"), std::string::npos)
      << r.out;
  auto full = Verify({"-full"});
  EXPECT_EQ(full.exit_code, 1) << full.out;
}

TEST_F(VerifyTest, OverlapFailsNamingBothFiles) {
  fs::copy_file(File(3), replica_ + "/ltx/0/0000000000000002-0000000000000003.ltx");
  auto r = Verify({"-listing"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL overlap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0000000000000002-0000000000000003.ltx"), std::string::npos)
      << r.out;
}

TEST_F(VerifyTest, SnapshotOlderThanRetentionNeedsFails) {
  // The only snapshot (TXID 1) was created three days ago; the file
  // backend keeps the creation time as the mtime.
  struct utimbuf old;
  old.actime = old.modtime = ::time(nullptr) - 3 * 24 * 3600;
  ASSERT_EQ(::utime(File(1).c_str(), &old), 0);
  EXPECT_EQ(Verify({"-retention", "0"}).exit_code, 0);
  auto r = Verify({"-retention", "24h", "-snapshot-interval", "24h"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL snapshot"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0000000000000001-0000000000000001.ltx"), std::string::npos)
      << r.out;
  // With a week of retention the same snapshot is within the window.
  EXPECT_EQ(Verify({"-retention", "168h"}).exit_code, 0);
}

TEST_F(VerifyTest, UsageAndMissingReplica) {
  auto r = litekeep::testing::Run({LitekeepBin(), "verify", "file://" + dir_.Join("nothing")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("no LTX files"), std::string::npos) << r.out;
  EXPECT_EQ(litekeep::testing::Run({LitekeepBin(), "verify"}).exit_code, 2);
}

}  // namespace
}  // namespace litekeep::testing
