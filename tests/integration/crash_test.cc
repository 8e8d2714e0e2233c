// Crash safety with the real binary: the replicator is killed with SIGKILL
// at random moments under a steady write load and restarted; the
// application is killed in the middle of transactions; another process
// checkpoints with TRUNCATE and runs VACUUM. Restores must always be a
// committed state no older than what the replicator reported as replicated,
// and exact once everything is shipped. LITEKEEP_SOAK=N runs N kill cycles
// (default 10).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

std::string Payload(int64_t seq) {
  return std::string(static_cast<size_t>(50 + seq % 300), static_cast<char>('a' + seq % 26));
}

// Appends transaction seq = 1, 2, ... each inserting one row and setting the
// counter, until stop; returns the last committed seq.
class SeqWriter {
 public:
  explicit SeqWriter(std::string db) : db_(std::move(db)) {}
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  int64_t Stop() {
    stop_ = true;
    thread_.join();
    return committed_;
  }
  int64_t committed() const { return committed_; }
  std::string error() const { return error_; }

 private:
  void Loop() {
    sqlite3* db = nullptr;
    sqlite3_open(db_.c_str(), &db);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE IF NOT EXISTS log(seq INTEGER PRIMARY KEY, payload TEXT);"
                 "CREATE TABLE IF NOT EXISTS counter(id INTEGER PRIMARY KEY, n INTEGER);"
                 "INSERT OR IGNORE INTO counter VALUES(1, 0);",
                 nullptr, nullptr, nullptr);
    while (!stop_) {
      int64_t seq = committed_ + 1;
      std::string sql = "BEGIN; INSERT INTO log VALUES(" + std::to_string(seq) +
                        ", '" + Payload(seq) + "'); UPDATE counter SET n = " +
                        std::to_string(seq) + "; COMMIT;";
      char* err = nullptr;
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        error_ = err ? err : "error";
        sqlite3_free(err);
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      committed_ = seq;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    sqlite3_close(db);
  }

  std::string db_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_{0};
  std::string error_;
};

// Checks a restored database is exactly the writer's state after commit n
// (rows 1..n with their payloads, counter n); returns n or -1.
int64_t CheckPrefixState(const std::string& path) {
  if (QueryOne(path, "PRAGMA integrity_check") != "ok") return -1;
  std::string n_text = QueryOne(path, "SELECT n FROM counter WHERE id = 1");
  if (n_text.empty()) return -1;
  int64_t n = std::stoll(n_text);
  std::string count = QueryOne(path, "SELECT count(*) FROM log");
  std::string max = QueryOne(path, "SELECT coalesce(max(seq), 0) FROM log");
  std::string bad = QueryOne(
      path,
      "SELECT count(*) FROM log WHERE length(payload) != 50 + seq % 300 OR "
      "substr(payload, 1, 1) != char(97 + seq % 26)");
  if (count != std::to_string(n) || max != std::to_string(n) || bad != "0") {
    ADD_FAILURE() << path << ": counter " << n << " but " << count
                  << " rows, max " << max << ", " << bad << " bad payloads";
    return -1;
  }
  return n;
}

// The TXID the replicator last reported as durably replicated.
std::string ReportedTxid(const std::string& meta_dir) {
  std::string p = meta_dir + "/position.json";
  if (!fs::exists(p)) return "";
  std::string json = ReadFile(p);
  auto pos = json.find("\"txid\":");
  if (pos == std::string::npos) return "";
  int64_t txid = std::stoll(json.substr(pos + 7));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<long long>(txid));
  return buf;
}

std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& replica) {
  std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << "dbs:\n  - path: " << db
                      << "\n    min-checkpoint-page-count: 200\n"
                      << "    replica:\n      path: " << replica
                      << "\n      sync-interval: 100ms\n";
  return path;
}

TEST(CrashTest, KillNineReplicatorUnderLoad) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string meta = dir.Join(".app.db-litekeep");
  std::string cfg = Config(dir, db, replica);
  SeqWriter writer(db);
  writer.Start();
  ASSERT_TRUE(WaitUntil([&] { return writer.committed() > 10; }));
  int cycles = 10;
  if (const char* soak = std::getenv("LITEKEEP_SOAK")) cycles = std::atoi(soak);
  std::mt19937 rng(12345);
  std::string reported;
  for (int i = 0; i < cycles; ++i) {
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("replicate.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 700));
    rep.Signal(SIGKILL);
    rep.Wait();
    reported = ReportedTxid(meta);
  }
  ASSERT_FALSE(reported.empty()) << ReadFile(dir.Join("replicate.log"));

  // After the last kill: the newest restorable state is a committed prefix
  // at least as new as the reported position.
  auto at_reported = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-txid", reported, "-o", dir.Join("reported.db"), replica});
  ASSERT_EQ(at_reported.exit_code, 0) << at_reported.err;
  int64_t n_reported = CheckPrefixState(dir.Join("reported.db"));
  auto latest = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("latest.db"), replica});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  int64_t n_latest = CheckPrefixState(dir.Join("latest.db"));
  EXPECT_GE(n_reported, 1);
  EXPECT_GE(n_latest, n_reported);

  // A clean run to the end ships everything: exact equality with the source.
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int64_t last = writer.Stop();
  EXPECT_EQ(writer.error(), "");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto final_restore = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("final.db"), replica});
  ASSERT_EQ(final_restore.exit_code, 0) << final_restore.err;
  EXPECT_EQ(CheckPrefixState(dir.Join("final.db")), last);
  EXPECT_EQ(ContentHash(dir.Join("final.db")), ContentHash(db));
}

TEST(CrashTest, KillNineApplicationMidTransactionShipsNoPartialTransaction) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER "
                        "PRIMARY KEY, v BLOB); INSERT INTO t(v) VALUES(1);"),
            "");
  std::string cfg = Config(dir, db, replica);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  for (int round = 0; round < 3; ++round) {
    // A tiny page cache makes SQLite spill uncommitted pages into the WAL.
    std::string script = dir.Join("app.sql");
    std::ofstream(script) << "PRAGMA cache_size=2;\nBEGIN;\n"
                          << "INSERT INTO t(v) SELECT randomblob(3000) FROM "
                             "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                             "SELECT x+1 FROM c WHERE x < 400) SELECT x FROM c);\n"
                          << ".shell sleep 5\n";
    ChildProcess app({"/bin/sh", "-c", "sqlite3 -cmd \".timeout 5000\" " + db + " < " + script},
                     dir.Join("app.log"));
    // Wait until uncommitted frames are in the WAL, let a sync or two pass.
    ASSERT_TRUE(WaitUntil([&] {
      return fs::exists(db + "-wal") && fs::file_size(db + "-wal") > 400 * 4096;
    })) << app.Log();
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    ::kill(app.pid(), SIGKILL);
    RunShell("pkill -9 -f 'sqlite3 .*" + db + "'");
    app.Wait();
    ASSERT_EQ(ExecSql(db, "INSERT INTO t(v) VALUES(" + std::to_string(round + 2) + ")"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-o",
                                     dir.Join("out.db"), replica});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t WHERE length(v) = 3000"),
              "0");
  }
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-o",
                                   dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t"), "4");
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

TEST(CrashTest, ForeignTruncateCheckpointAndVacuum) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  std::string cfg = Config(dir, db, replica);
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  for (int round = 0; round < 4; ++round) {
    WorkloadOptions w;
    w.transactions = 300;
    w.seed = static_cast<uint64_t>(round + 1);
    ASSERT_EQ(RunWorkload(db, w), "");
    // Another process checkpoints with TRUNCATE, then VACUUMs.
    auto ck = RunShell("sqlite3 -cmd \".timeout 5000\" " + db + " 'PRAGMA wal_checkpoint(TRUNCATE);'");
    EXPECT_EQ(ck.exit_code, 0) << ck.err;
    ASSERT_EQ(ExecSql(db, "DELETE FROM items WHERE id % 3 = 0; VACUUM;"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// Same with litekeep stopped while the foreign TRUNCATE happens: the next
// start must notice and write a snapshot rather than a gap.
TEST(CrashTest, ForeignTruncateWhileStoppedCostsASnapshotNotAGap) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string meta = dir.Join(".app.db-litekeep");
  std::string cfg = Config(dir, db, replica);
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  // Each start waits for what it must have done (conditions, not sleeps):
  // its own log file says it is replicating, and the replicator reports a
  // newer TXID as replicated.
  for (int round = 0; round < 3; ++round) {
    const std::string reported = ReportedTxid(meta);
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("replicate-" + std::to_string(round) + ".log"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep.Log().find("replicating") != std::string::npos;
    })) << rep.Log();
    // The start shipped what changed while it was stopped (a snapshot
    // after the TRUNCATE), then this insert.
    ASSERT_TRUE(WaitUntil([&] { return ReportedTxid(meta) != reported; }))
        << rep.Log();
    const std::string started = ReportedTxid(meta);
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(5000))"), "");
    ASSERT_TRUE(WaitUntil([&] { return ReportedTxid(meta) != started; }))
        << rep.Log();
    rep.Signal(SIGKILL);
    rep.Wait();
    // While stopped: more writes, then a TRUNCATE checkpoint and new writes.
    ASSERT_EQ(ExecSql(db,
                      "INSERT INTO t VALUES(randomblob(5000)); "
                      "PRAGMA wal_checkpoint(TRUNCATE); "
                      "INSERT INTO t VALUES(randomblob(100));"),
              "");
  }
  const std::string reported = ReportedTxid(meta);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate-last.log"));
  ASSERT_TRUE(WaitUntil([&] { return ReportedTxid(meta) != reported; }))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t"), "9");
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
}

}  // namespace
}  // namespace litekeep::testing
