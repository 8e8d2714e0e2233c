// End to end with the real binary and real SQLite: an application writes
// 20,000 transactions (inserts, updates, deletes, a dropped and recreated
// table, a VACUUM) across many checkpoints while `litekeep replicate` ships
// them to a local directory; after a clean stop, `litekeep restore` must
// produce a database identical to the source page for page, and every LTX
// file written must pass the independent ltx_inspect.py reader.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

int CountOccurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

std::vector<std::string> LtxFiles(const std::string& replica) {
  std::vector<std::string> out;
  if (!fs::exists(replica + "/ltx")) return out;
  for (const auto& e : fs::recursive_directory_iterator(replica + "/ltx")) {
    if (e.is_regular_file() && e.path().extension() == ".ltx") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string WriteConfig(const TempDir& dir, const std::string& db,
                        const std::string& replica,
                        const std::string& extra_db = "") {
  std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << "dbs:\n"
                      << "  - path: " << db << "\n"
                      << extra_db << "    replica:\n"
                      << "      type: file\n"
                      << "      path: " << replica << "\n"
                      << "      sync-interval: 200ms\n";
  return path;
}

TEST(ReplicateRestoreTest, WorkloadRestoresIdenticalPageForPage) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  std::string cfg = WriteConfig(dir, db, replica);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return !LtxFiles(replica).empty(); }))
      << rep.Log();

  WorkloadOptions w;
  w.transactions = 20000;
  w.drop_recreate_at = 8000;
  w.vacuum_at = 14000;
  ASSERT_EQ(RunWorkload(db, w), "");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();

  const std::string out = dir.Join("restored.db");
  ASSERT_NO_FATAL_FAILURE(ExpectRestoresExactly("file://" + replica, db, out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  // The restored database and every replica file are owner-only.
  EXPECT_EQ(fs::status(out).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  for (const auto& f : LtxFiles(replica)) {
    EXPECT_EQ(fs::status(f).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << f;
  }

  // Our own checkpoints must never cost a snapshot: exactly the initial one.
  std::string log = rep.Log();
  EXPECT_EQ(CountOccurrences(log, "snapshot written"), 1) << log;

  // Every LTX file must satisfy the independent reader.
  auto files = LtxFiles(replica);
  EXPECT_GT(files.size(), 3u);
  LK_SKIP_WITHOUT_LTX_INSPECTOR();
  std::vector<std::string> argv = {"python3", LtxInspector(), "--quiet"};
  for (const auto& f : files) {
    auto check = litekeep::testing::Run({argv[0], argv[1], argv[2], f});
    EXPECT_EQ(check.exit_code, 0) << f << ": " << check.out << check.err;
  }
}

TEST(ReplicateRestoreTest, RestartContinuesWithoutSnapshot) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = WriteConfig(dir, db, replica);
  for (int round = 0; round < 3; ++round) {
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("replicate.log"));
    // Writes must start after litekeep holds the database open: otherwise
    // the application's close checkpoints and deletes the WAL, and a
    // snapshot is (rightly) needed.
    ASSERT_TRUE(WaitUntil([&] {
      return CountOccurrences(rep.Log(), "replicating") == round + 1;
    }));
    WorkloadOptions w;
    w.transactions = 500;
    w.seed = static_cast<uint64_t>(round + 7);
    ASSERT_EQ(RunWorkload(db, w), "");
    rep.Signal(SIGINT);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  }
  std::string log = ReadFile(dir.Join("replicate.log"));
  EXPECT_EQ(CountOccurrences(log, "snapshot written"), 1) << log;
  ExpectRestoresExactly(replica, db, dir.Join("restored.db"));
}

// max-sync-wal-bytes: a backlog larger than the bound ships as several L0
// files with consecutive TXIDs, each a whole number of transactions, and
// the replica restores exactly, also at a TXID between two of them.
TEST(ReplicateRestoreTest, MaxSyncWalBytesSplitsABacklog) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db
                     << "\n    max-sync-wal-bytes: 64KiB\n"
                     << "    replica:\n      path: " << replica
                     << "\n      sync-interval: 1h\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return CountOccurrences(rep.Log(), "replicating") == 1; }));
  // About 1.2 MB of WAL in 100 transactions, shipped by the final sync.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(
        ExecSql(db,
                "BEGIN; INSERT INTO t VALUES(randomblob(3000)); INSERT INTO t "
                "VALUES(randomblob(3000)); INSERT INTO t VALUES(" +
                    std::to_string(i) + "); COMMIT"),
        "");
  }
  const std::string at_50 = dir.Join("at50.db");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  int l0 = 0;
  for (const auto& f : LtxFiles(replica))
    l0 += f.find("/ltx/0/") != std::string::npos;
  // 64 KiB is about 16 frames: the backlog needs many files.
  EXPECT_GE(l0, 10) << rep.Log();
  ExpectRestoresExactly(replica, db, dir.Join("restored.db"));
  // A TXID in the middle: a whole number of the application's transactions.
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", at_50,
                                   "-txid", "0000000000000006", replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(at_50, "SELECT count(*) % 3 FROM t"), "0");
  EXPECT_EQ(QueryOne(at_50, "PRAGMA integrity_check"), "ok");
  LK_SKIP_WITHOUT_LTX_INSPECTOR();
  for (const auto& f : LtxFiles(replica)) {
    auto check =
        litekeep::testing::Run({"python3", LtxInspector(), "--quiet", f});
    EXPECT_EQ(check.exit_code, 0) << f << ": " << check.out << check.err;
  }
}

// A WAL generation past truncate-page-n is checkpointed and restarted like
// any other (no snapshot), and a later checkpoint shrinks the file back to
// the bound (docs/architecture.md, "Checkpoints").
TEST(ReplicateRestoreTest, WalPastTruncatePageNShrinksWithoutASnapshot) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string cfg = WriteConfig(
      dir, db, replica,
      "    truncate-page-n: 64\n    min-checkpoint-page-count: 8\n");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return CountOccurrences(rep.Log(), "snapshot written") == 1;
  })) << rep.Log();
  // About 250 pages in one transaction: a generation far past the bound.
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(1000000))"), "");
  // Then small transactions until a checkpoint after the restart shrinks
  // the file.
  const int64_t bound = 32 + 64 * (4096 + 24);
  int i = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        EXPECT_EQ(
            ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(i++) + ")"),
            "");
        return rep.Log().find("WAL file shrunk") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << rep.Log();
  EXPECT_LE(static_cast<int64_t>(fs::file_size(db + "-wal")), bound);
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('last')"), "");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(CountOccurrences(rep.Log(), "snapshot written"), 1) << rep.Log();
  ExpectRestoresExactly(replica, db, dir.Join("restored.db"));
}

TEST(ReplicateRestoreTest, DeletedLocalStateWritesSnapshotAndStaysExact) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = WriteConfig(dir, db, replica);
  for (int round = 0; round < 2; ++round) {
    fs::remove_all(dir.Join(".app.db-litekeep"));
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("replicate.log"));
    // Signals before litekeep installed its handlers would just kill it.
    ASSERT_TRUE(WaitUntil([&] {
      return CountOccurrences(rep.Log(), "replicating") == round + 1;
    }));
    WorkloadOptions w;
    w.transactions = 300;
    w.seed = static_cast<uint64_t>(round + 3);
    ASSERT_EQ(RunWorkload(db, w), "");
    rep.Signal(SIGTERM);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  }
  std::string log = ReadFile(dir.Join("replicate.log"));
  EXPECT_EQ(CountOccurrences(log, "snapshot written"), 2) << log;
  ExpectRestoresExactly(replica, db, dir.Join("restored.db"));
}

}  // namespace
}  // namespace litekeep::testing

namespace litekeep::testing {
namespace {

// Writers that open a fresh connection per transaction (cron jobs, scripts,
// PHP) write checkpoint sequence 1 into every new WAL header; litekeep's own
// checkpoints must still never cost a snapshot.
TEST(ReplicateRestoreTest, ProcessPerTransactionWritersAcrossCheckpoints) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db
                     << "\n    min-checkpoint-page-count: 20\n"
                     << "    replica:\n      path: " << replica
                     << "\n      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return CountOccurrences(rep.Log(), "replicating") == 1; }));
  for (int i = 0; i < 40; ++i) {
    // Like any app sharing a WAL database, the writer sets a busy timeout.
    auto r = RunShell("sqlite3 -cmd \".timeout 5000\" " + db +
                      " \"INSERT INTO t VALUES(randomblob(9000))\"");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (i % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  std::string log = rep.Log();
  EXPECT_EQ(CountOccurrences(log, "snapshot written"), 1) << log;
  const std::string out = dir.Join("restored.db");
  ASSERT_NO_FATAL_FAILURE(ExpectRestoresExactly(replica, db, out));
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "40");
}

}  // namespace
}  // namespace litekeep::testing
