// SQLite's checkpointer lock taken from outside SQLite (sqlite/shm_lock.h):
// another process's checkpoint skips while litekeep holds it, a checkpoint
// on a connection of litekeep's process takes it over and ends the hold,
// DropCheckpointerLock ends it, and a hold by another process is reported.
// The other process is python3's sqlite3 module, as an application would be.
#include "sqlite/shm_lock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <string>

#include "base/io.h"
#include "tests/support/process.h"
#include "tests/support/test_util.h"

namespace litekeep::sqlite {
namespace {

using litekeep::testing::Run;
using litekeep::testing::TempDir;

// A PASSIVE checkpoint in another process, as the application's automatic
// checkpoint runs it; returns "busy,log,checkpointed".
std::string OtherProcessCheckpoint(const std::string& db) {
  auto r = Run({"python3", "-c",
                "import sqlite3, sys\n"
                "c = sqlite3.connect(sys.argv[1])\n"
                "print(','.join(str(v) for v in "
                "c.execute('PRAGMA wal_checkpoint(PASSIVE)').fetchone()))\n",
                db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

class ShmLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.Join("app.db");
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db_,
                           "PRAGMA journal_mode=WAL; PRAGMA "
                           "wal_autocheckpoint=0; CREATE TABLE t(x);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    auto shm = base::File::Open(db_path_ + "-shm", O_RDWR);
    ASSERT_TRUE(shm.ok()) << shm.status().message();
    shm_ = std::move(shm).value();
  }
  void TearDown() override {
    sqlite3_close(db_);  // before shm_ closes: see shm_lock.h
  }
  // Commits one more transaction: a frame no checkpoint has copied yet.
  void Write() {
    ASSERT_EQ(sqlite3_exec(db_, "INSERT INTO t VALUES (randomblob(100))",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }

  TempDir dir_;
  std::string db_path_;
  sqlite3* db_ = nullptr;
  base::File shm_;
};

TEST_F(ShmLockTest, AnotherProcessCheckpointSkipsWhileHeld) {
  Write();
  auto held = HoldCheckpointerLock(shm_, std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok()) << held.status().message();
  ASSERT_TRUE(*held);
  EXPECT_EQ(OtherProcessCheckpoint(db_path_), "1,-1,-1");
  DropCheckpointerLock(shm_);
  EXPECT_EQ(OtherProcessCheckpoint(db_path_), "0,3,3");
}

TEST_F(ShmLockTest, OurCheckpointTakesTheHoldOverAndEndsIt) {
  Write();
  auto held = HoldCheckpointerLock(shm_, std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok() && *held);
  Write();
  // A connection of this process is not blocked by the hold...
  int log = 0, ckpt = 0;
  ASSERT_EQ(sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE,
                                      &log, &ckpt),
            SQLITE_OK);
  EXPECT_EQ(log, 4);
  EXPECT_EQ(ckpt, 4);
  // ... and its end released the lock for the process (the write restarted
  // the fully checkpointed WAL: one frame).
  Write();
  EXPECT_EQ(OtherProcessCheckpoint(db_path_), "0,1,1");
}

TEST_F(ShmLockTest, AHoldByAnotherProcessIsReported) {
  // The other process holds byte 121 until the file "release" appears.
  const std::string held_flag = dir_.Join("held");
  const std::string release = dir_.Join("release");
  litekeep::testing::ChildProcess other(
      {"python3", "-c",
       "import fcntl, os, sys, time\n"
       "fd = os.open(sys.argv[1], os.O_RDWR)\n"
       "fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 121)\n"
       "open(sys.argv[2], 'w').close()\n"
       "while not os.path.exists(sys.argv[3]): time.sleep(0.01)\n",
       db_path_ + "-shm", held_flag, release},
      dir_.Join("other.log"));
  ASSERT_TRUE(litekeep::testing::WaitUntil([&] {
    return ::access(held_flag.c_str(), F_OK) == 0;
  })) << other.Log();
  auto held = HoldCheckpointerLock(shm_, std::chrono::milliseconds(20));
  ASSERT_TRUE(held.ok()) << held.status().message();
  EXPECT_FALSE(*held);
  ASSERT_TRUE(base::WriteFileAtomic(release, "").ok());
  EXPECT_EQ(other.Wait(), 0) << other.Log();
  held = HoldCheckpointerLock(shm_, std::chrono::milliseconds(0));
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(*held);
  DropCheckpointerLock(shm_);
}

}  // namespace
}  // namespace litekeep::sqlite
