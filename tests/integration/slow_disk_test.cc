// A disk that stalls while litekeep checkpoints: the application must not
// wait for the stall behind litekeep's write lock, and nothing may be lost
// (docs/architecture.md, "Checkpoints"). The stall is injected into the
// litekeep process only, by the preloaded tests/preload/slow_fsync.cc.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// The WAL header's first salt: it changes each time the WAL restarts.
std::string WalSalt(const std::string& db) {
  std::ifstream in(db + "-wal", std::ios::binary);
  char salt[4] = {};
  in.seekg(16);
  in.read(salt, sizeof(salt));
  return in ? std::string(salt, sizeof(salt)) : "";
}

// One application connection that times each commit.
class App {
 public:
  explicit App(const std::string& db) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 30000);
    Exec("PRAGMA synchronous=NORMAL");
  }
  ~App() { sqlite3_close(db_); }
  // Commits one row after a millisecond's pause (an application that
  // writes about a thousand rows a second, so that the WAL stays below
  // truncate-page-n); returns how long the commit took.
  std::chrono::microseconds Insert(int i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto start = std::chrono::steady_clock::now();
    Exec("INSERT INTO t VALUES(" + std::to_string(i) + ", randomblob(200))");
    return std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Every fsync litekeep makes of the database and its WAL takes 1 s while the
// stall file exists. litekeep's checkpoints still release the write lock
// within tens of milliseconds (the WAL's restart is put off, not the
// application), and once the disk is fast again the WAL restarts without a
// snapshot; the replica restores exactly.
TEST(SlowDiskTest, AStalledFlushPutsTheRestartOffNotTheApplication) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(i, x);"), "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "logging:\n  level: debug\ndbs:\n  - path: " << db
                     << "\n    min-checkpoint-page-count: 32\n"
                     << "    replica:\n      path: " << replica
                     << "\n      sync-interval: 100ms\n";
  const std::string stall = dir.Join("disk-stalls");
  std::ofstream(stall) << "";
  std::string asan = "verify_asan_link_order=0";
  if (const char* a = std::getenv("ASAN_OPTIONS"))
    asan = std::string(a) + ":" + asan;
  ChildProcess rep(
      {"/usr/bin/env",
       "LD_PRELOAD=" + BuildDir() + "/tests/liblitekeep_slow_fsync.so",
       "LITEKEEP_TEST_SLOW_FSYNC=1000:/app.db,/app.db-wal",
       "LITEKEEP_TEST_SLOW_FSYNC_WHILE=" + stall, "ASAN_OPTIONS=" + asan,
       LitekeepBin(), "replicate", "-config", cfg},
      dir.Join("log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return rep.Log().find("snapshot written") != std::string::npos; },
      std::chrono::seconds(60)))
      << rep.Log();
  App app(db);
  int i = 0;
  std::chrono::microseconds longest{0};
  // Write while litekeep runs two checkpoints under the write lock.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto holds = [&] {
    const std::string log = rep.Log();
    int n = 0;
    for (size_t p = log.find("held the write lock"); p != std::string::npos;
         p = log.find("held the write lock", p + 1)) {
      ++n;
    }
    return n;
  };
  while (holds() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (int k = 0; k < 50; ++k) longest = std::max(longest, app.Insert(i++));
  }
  ASSERT_GE(holds(), 2) << rep.Log();
  // With the flushes waited for under the lock, a commit that met one of
  // those checkpoints waited two stalled fsyncs (2 s).
  EXPECT_LT(longest.count(), 700000)
      << "longest commit " << longest.count() << " us\n"
      << rep.Log();
  EXPECT_NE(rep.Log().find("the WAL restarts at a later checkpoint"),
            std::string::npos)
      << rep.Log();
  // The disk recovers: the WAL restarts at a later checkpoint.
  const std::string salt = WalSalt(db);
  fs::remove(stall);
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int k = 0; k < 20; ++k) app.Insert(i++);
        return WalSalt(db) != salt;
      },
      std::chrono::seconds(60)))
      << rep.Log();
  app.Insert(i++);
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  const std::string log = rep.Log();
  size_t snapshots = 0;
  for (size_t p = log.find("snapshot written"); p != std::string::npos;
       p = log.find("snapshot written", p + 1)) {
    ++snapshots;
  }
  EXPECT_EQ(snapshots, 1u) << log;
  const std::string out = dir.Join("restored.db");
  ExpectRestoresExactly(replica, db, out);
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), std::to_string(i));
}

}  // namespace
}  // namespace litekeep::testing
