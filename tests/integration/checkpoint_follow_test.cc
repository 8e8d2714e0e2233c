// The read transaction follows the WAL between syncs (docs/architecture.md,
// "Checkpoints"): with a long sync-interval, an application that commits
// thousands of frames can still checkpoint all but the last ~1000 of them,
// as it could without litekeep, and the replica still restores exactly with
// no snapshot but the first.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(CheckpointFollowTest, AppCheckpointsKeepUpBetweenSyncs) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "logging:\n  level: debug\n"
                     << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      path: " << replica
                     << "\n      sync-interval: 60s\n";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return rep.Log().find("replicating") != std::string::npos; }));

  sqlite3* c = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
  sqlite3_busy_timeout(c, 5000);
  // This connection never checkpoints on its own: the test measures what a
  // checkpoint is allowed to copy back.
  ASSERT_EQ(
      sqlite3_exec(c, "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  for (int i = 0; i < 4000; ++i) {
    ASSERT_EQ(sqlite3_exec(c, "INSERT INTO t VALUES(randomblob(1500))", nullptr,
                           nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(c);
    if (i % 500 == 0) {
      // Give the watcher a moment, as an application's other work would.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int log_frames = -1, copied = -1;
  ASSERT_EQ(sqlite3_wal_checkpoint_v2(c, "main", SQLITE_CHECKPOINT_PASSIVE,
                                      &log_frames, &copied),
            SQLITE_OK);
  sqlite3_close(c);
  // Without the follow, litekeep's read mark stays where its last sync
  // left it (the first few frames) until the next sync a minute later.
  EXPECT_GE(log_frames, 4000);
  EXPECT_GE(copied, log_frames - 1500) << "a checkpoint copied only " << copied
                                       << " of " << log_frames << " frames:\n"
                                       << rep.Log();

  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(CountOf(rep.Log(), "snapshot written as TXID"), 1) << rep.Log();
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t"), "4000");
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace litekeep::testing
