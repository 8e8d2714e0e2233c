// The litekeep binary on bad input: each error names the problem and what to
// try, exit codes are 0/1/2, and nothing is lost or half-written.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// A database replicated once (`replicate -once`) plus a few more syncs.
struct Replicated {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("replica");
  Replicated() {
    EXPECT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    // An open connection keeps the WAL between the runs, so each run after
    // the first ships an L0 change file (TXID 1 is the L9 image).
    sqlite3* keep = nullptr;
    EXPECT_EQ(sqlite3_open(db.c_str(), &keep), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(keep, "SELECT count(*) FROM t", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(3000))"), "");
      auto r = Litekeep({"replicate", "-once", db, "file://" + replica});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    sqlite3_close(keep);
  }
  std::string L0(int txid) const {
    char name[64];
    std::snprintf(name, sizeof(name), "/ltx/0/%016x-%016x.ltx", txid, txid);
    return replica + name;
  }
};

TEST(CliTest, VersionAndHelp) {
  auto v = Litekeep({"version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(Contains(v.out, "litekeep v"));
  for (const char* cmd : {"replicate", "restore", "ltx", "databases"}) {
    for (const char* flag : {"-h", "--help", "-help"}) {
      auto h = Litekeep({cmd, flag});
      EXPECT_EQ(h.exit_code, 0) << cmd << " " << flag << h.err;
      EXPECT_TRUE(Contains(h.out, "Usage")) << cmd << h.out;
    }
  }
  auto none = Litekeep({});
  EXPECT_EQ(none.exit_code, 2);
  auto unknown = Litekeep({"replicat"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "unknown command"));
}

TEST(CliTest, VersionNamesTheSqliteWithTheWalResetFix) {
  auto v = Litekeep({"version"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  // "SQLite 3.53.2 (2026-06-03 19:12:13 d6e03d8c…)": the amalgamation.
  auto at = v.out.find("SQLite 3.");
  ASSERT_NE(at, std::string::npos) << v.out;
  int minor = std::atoi(v.out.c_str() + at + 9);
  int patch = std::atoi(v.out.c_str() + v.out.find('.', at + 9) + 1);
  EXPECT_TRUE(minor > 51 || (minor == 51 && patch >= 3)) << v.out;
}

TEST(CliTest, RestoreRefusesBadTimestampsNamingThem) {
  TempDir dir;
  for (const std::string bad :
       {"2026-11-20T10:00:00+ab:cd", "2030-02-30T00:00:00Z", "yesterday"}) {
    auto r = Litekeep({"restore", "-timestamp", bad, "-o", dir.Join("out.db"),
                       "file://" + dir.Join("replica")});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, "invalid timestamp \"" + bad + "\""))
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.Join("out.db")));
  }
}

TEST(CliTest, UnknownFlagIsUsageError) {
  auto r = Litekeep({"restore", "-bogus-flag", "file:///tmp/x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "bogus-flag")) << r.err;
}

TEST(CliTest, MissingDatabase) {
  TempDir dir;
  auto r = Litekeep({"replicate", dir.Join("nope/app.db"), "file://" + dir.Join("r")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, dir.Join("nope/app.db"))) << r.err;
  EXPECT_TRUE(Contains(r.err, "does not exist")) << r.err;
  EXPECT_FALSE(fs::exists(dir.Join("r")));
}

TEST(CliTest, RollbackJournalDatabaseIsSwitchedToWal) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); "
                        "INSERT INTO t VALUES(42);"),
            "");
  auto r = Litekeep({"replicate", "-once", db, dir.Join("r")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "switching it to WAL")) << r.err;
  EXPECT_EQ(QueryOne(db, "PRAGMA journal_mode"), "wal");
  auto restore = Litekeep({"restore", "-o", dir.Join("out.db"), dir.Join("r")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT x FROM t"), "42");
}

TEST(CliTest, RollbackDatabaseInUseIsRefusedWithAnExplanation) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=DELETE; CREATE TABLE t(x);"), "");
  // Another process holds a read transaction, so the switch cannot happen.
  std::string sql = "BEGIN; SELECT * FROM t;";
  ChildProcess locker({"/bin/sh", "-c",
                       "(echo '" + sql + "'; sleep 5) | sqlite3 " + db},
                      dir.Join("locker.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = Litekeep({"replicate", "-once", db, dir.Join("r")});
  locker.Signal(SIGKILL);
  if (r.exit_code == 0) GTEST_SKIP() << "lock was not held in time";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "journal mode")) << r.err;
  EXPECT_TRUE(Contains(r.err, "PRAGMA journal_mode=wal")) << r.err;
}

TEST(CliTest, UnwritableReplicaNamesTheDirectory) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::ofstream(dir.Join("afile")) << "x";
  auto r = Litekeep({"replicate", "-once", db, "file://" + dir.Join("afile/replica")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, dir.Join("afile/replica"))) << r.err;
  // The database is untouched and still usable.
  EXPECT_EQ(QueryOne(db, "PRAGMA integrity_check"), "ok");
}

TEST(CliTest, CorruptLtxFileFailsNamingTheObjectAndLeavesNoOutput) {
  Replicated rep;
  std::string victim = rep.L0(2);
  ASSERT_TRUE(fs::exists(victim));
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    char c;
    f.seekg(200);
    f.get(c);
    f.seekp(200);
    f.put(static_cast<char>(c ^ 0x40));
  }
  std::string out = rep.dir.Join("out.db");
  auto r = Litekeep({"restore", "-o", out, rep.replica});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "0000000000000002-0000000000000002.ltx")) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST(CliTest, TruncatedLtxFileFails) {
  Replicated rep;
  std::string victim = rep.L0(3);
  fs::resize_file(victim, fs::file_size(victim) - 10);
  std::string out = rep.dir.Join("out.db");
  auto r = Litekeep({"restore", "-o", out, rep.replica});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "0000000000000003-0000000000000003.ltx")) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliTest, MissingMiddleLtxFileIsAGapNamingTheTxid) {
  Replicated rep;
  fs::remove(rep.L0(2));
  std::string out = rep.dir.Join("out.db");
  auto r = Litekeep({"restore", "-o", out, rep.replica});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "gap")) << r.err;
  EXPECT_TRUE(Contains(r.err, "0000000000000002")) << r.err;
  EXPECT_FALSE(fs::exists(out));
  // The suggested earlier point restores fine.
  auto earlier = Litekeep({"restore", "-txid", "1", "-o", out, rep.replica});
  EXPECT_EQ(earlier.exit_code, 0) << earlier.err;
}

TEST(CliTest, RestoreRefusesToOverwriteWithoutForce) {
  Replicated rep;
  std::string out = rep.dir.Join("out.db");
  std::ofstream(out) << "precious";
  auto r = Litekeep({"restore", "-o", out, rep.replica});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "already exists")) << r.err;
  EXPECT_TRUE(Contains(r.err, "-force")) << r.err;
  EXPECT_EQ(ReadFile(out), "precious");
  auto skip = Litekeep({"restore", "-if-db-not-exists", "-o", out, rep.replica});
  EXPECT_EQ(skip.exit_code, 0);
  EXPECT_EQ(ReadFile(out), "precious");
  auto forced = Litekeep({"restore", "-force", "-o", out, rep.replica});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(ContentHash(out), ContentHash(rep.db));
}

TEST(CliTest, IfReplicaExistsSkipsAnEmptyReplica) {
  TempDir dir;
  fs::create_directories(dir.Join("empty"));
  auto skip = Litekeep({"restore", "-if-replica-exists", "-o", dir.Join("o.db"),
                        dir.Join("empty")});
  EXPECT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_FALSE(fs::exists(dir.Join("o.db")));
  auto fail = Litekeep({"restore", "-o", dir.Join("o.db"), dir.Join("empty")});
  EXPECT_EQ(fail.exit_code, 1);
  EXPECT_TRUE(Contains(fail.err, "no LTX files")) << fail.err;
}

TEST(CliTest, ConfigTypoNamesKeyLineAndSuggestion) {
  TempDir dir;
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << dir.Join("app.db")
                     << "\n    replica:\n      path: " << dir.Join("r")
                     << "\n      sync-intervl: 1s\n";
  auto r = Litekeep({"replicate", "-config", cfg});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "sync-intervl")) << r.err;
  EXPECT_TRUE(Contains(r.err, ":5")) << r.err;
  EXPECT_TRUE(Contains(r.err, "sync-interval")) << r.err;
}

TEST(CliTest, DryRunAndLtxListing) {
  Replicated rep;
  auto plan = Litekeep({"restore", "-dry-run", "-o", rep.dir.Join("o.db"),
                        "file://" + rep.replica});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_TRUE(Contains(plan.out, "0000000000000003")) << plan.out;
  EXPECT_FALSE(fs::exists(rep.dir.Join("o.db")));
  auto ltx = Litekeep({"ltx", rep.replica});
  EXPECT_EQ(ltx.exit_code, 0) << ltx.err;
  EXPECT_TRUE(Contains(ltx.out, "0000000000000001  0000000000000001")) << ltx.out;
  auto bad_level = Litekeep({"ltx", "-level", "12", rep.replica});
  EXPECT_EQ(bad_level.exit_code, 2);
}

TEST(CliTest, SigtermDoesFinalSyncAndExitsZero) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("r");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", db, replica}, dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('last words')"), "");
  rep.Signal(SIGTERM);  // well before the 1 s sync interval ends
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT x FROM t"), "last words");
}

}  // namespace
}  // namespace litekeep::testing
