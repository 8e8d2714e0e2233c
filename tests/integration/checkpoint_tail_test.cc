// litekeep's own checkpoint and the tail it captures under the write lock
// (docs/architecture.md, "Checkpoints"), driven through the Replicator with
// a real file replica while another process (the sqlite3 CLI) writes: the
// copied tail whose encoding fails after the lock is released costs a
// snapshot, never a gap; a tail too large to copy is encoded under the lock
// and keeps the L0 chain contiguous. Every test restores the replica with the
// real binary and compares it with the source.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ltx/file_name.h"
#include "replicate/replicator.h"
#include "storage/file/file_client.h"
#include "tests/support/restore_checks.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

class CheckpointTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ExecSql(db_, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  }

  // A replicator of db_ into replica_; Open has run, the first sync (a
  // snapshot) has shipped, and then one transaction of the application, so
  // that the position follows a WAL generation.
  std::unique_ptr<replicate::Replicator> Start(
      replicate::ReplicatorOptions options) {
    options.db_path = db_;
    auto r =
        std::make_unique<replicate::Replicator>(std::move(options), replica_);
    Status open = r->Open();
    EXPECT_TRUE(open.ok()) << open.ToString();
    auto first = r->Sync();
    EXPECT_TRUE(first.ok() && first->snapshot) << first.status().ToString();
    AppWrite("INSERT INTO t VALUES('start')");
    auto second = r->Sync();
    EXPECT_TRUE(second.ok() && !second->snapshot && second->txid != 0)
        << second.status().ToString();
    return r;
  }

  // Start, with a checkpoint whose tail is the transaction tail_sql
  // (written between the last pre-pass and the write lock) and whose
  // encoding of that tail fails once the lock is released: the L0 file's
  // name in the local state directory is taken by a directory, blocker_,
  // as a full or read-only directory would refuse the file.
  std::unique_ptr<replicate::Replicator> StartWithFailingTail(
      const std::string& tail_sql) {
    replicate::ReplicatorOptions o;
    o.before_checkpoint_lock = [this, tail_sql] { AppWrite(tail_sql); };
    o.after_checkpoint_unlock = [this] {
      const TxId next = failing_->replicated_txid() + 1;
      blocker_ =
          failing_->meta_dir() + "/" + ltx::FormatFileName(next, next) + ".tmp";
      ASSERT_TRUE(fs::create_directory(blocker_)) << blocker_;
    };
    auto r = Start(std::move(o));
    failing_ = r.get();
    return r;
  }

  // One transaction written by another process, as the application would.
  void AppWrite(const std::string& sql) {
    auto r =
        litekeep::testing::Run({"sqlite3", "-cmd", ".timeout 5000", db_, sql});
    ASSERT_EQ(r.exit_code, 0) << sql << ": " << r.err;
  }

  // The L0 files in the replica, in TXID order.
  std::vector<storage::FileInfo> L0Files() {
    auto files = replica_->ListFiles(0);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    if (!files.ok()) return {};
    std::sort(files->begin(), files->end(), [](const auto& a, const auto& b) {
      return a.min_txid < b.min_txid;
    });
    return *files;
  }

  TempDir dir_;
  const std::string db_ = dir_.Join("app.db");
  std::shared_ptr<storage::FileReplicaClient> replica_ =
      std::make_shared<storage::FileReplicaClient>(dir_.Join("replica"));
  replicate::Replicator* failing_ = nullptr;  // see StartWithFailingTail
  std::string blocker_;
};

// The tail copied under the lock cannot be encoded once the lock is
// released (its file name in the local state directory is taken, as a full
// or read-only directory would refuse it): Checkpoint reports that, the
// position stays before the tail, and the application's next write restarts
// the WAL (our checkpoint copied everything back), so the next sync cannot
// prove the new generation lossless and writes a snapshot. Accepting that
// generation instead would lose the tail: the restore would lack its pages.
TEST_F(CheckpointTailTest, TailEncodingFailureAfterUnlockCostsASnapshot) {
  // A small tail, copied under the lock. Its overflow pages are in no later
  // transaction, so a replica that missed the tail could not restore.
  auto r =
      StartWithFailingTail("INSERT INTO t VALUES('tail'), (randomblob(20000))");
  const TxId before = r->replicated_txid();
  const uint64_t put_off = r->restarts_put_off();

  Status cp = r->Checkpoint();
  ASSERT_FALSE(cp.ok()) << "the tail's encoding was to fail";
  EXPECT_NE(cp.message().find(blocker_), std::string::npos) << cp.ToString();
  EXPECT_EQ(r->replicated_txid(), before);
  ASSERT_TRUE(fs::remove(blocker_));
  // A disk slow to flush puts the restart off (R keeps the WAL): the next
  // write then appends, and the next sync ships the tail from the WAL.
  const bool restarts = r->restarts_put_off() == put_off;

  AppWrite("INSERT INTO t VALUES('after')");
  auto next = r->Sync();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  if (restarts) {
    EXPECT_TRUE(next->snapshot) << "a new WAL generation after a lost tail "
                                   "was accepted without a snapshot";
  } else {
    std::printf("the disk was slow to flush: the WAL did not restart\n");
    EXPECT_FALSE(next->snapshot) << next->reason;
  }
  AppWrite("INSERT INTO t VALUES('last')");
  auto last = r->Sync();
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->snapshot) << last->reason;
  r->Close();
  EXPECT_EQ(QueryOne(db_, "SELECT count(*) FROM t WHERE x = 'tail'"), "1");
  ExpectRestoresExactly(replica_->root(), db_, dir_.Join("restored.db"));
}

// The same failure, but the next sync runs before the application writes
// again: the WAL still holds the tail (nothing restarted it), so that sync
// ships it as the next L0 file, and the restart that follows costs nothing.
TEST_F(CheckpointTailTest, TailEncodingFailureThenSyncShipsTheTailFromTheWal) {
  auto r = StartWithFailingTail("INSERT INTO t VALUES('tail')");
  const TxId before = r->replicated_txid();
  ASSERT_FALSE(r->Checkpoint().ok());
  ASSERT_TRUE(fs::remove(blocker_));

  auto tail = r->Sync();
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_FALSE(tail->snapshot) << tail->reason;
  EXPECT_EQ(tail->txid, before + 1);
  AppWrite("INSERT INTO t VALUES('after')");  // restarts the WAL
  auto after = r->Sync();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->snapshot) << after->reason;
  r->Close();
  ExpectRestoresExactly(replica_->root(), db_, dir_.Join("restored.db"));
}

// A transaction of about 20 MiB lands between the last pre-pass and the
// lock: a tail past the 16 MiB that are copied into memory, so it is
// encoded into an L0 file under the lock. It ships as one L0 file of that
// size, the WAL restart that follows costs no snapshot, the L0 chain has
// no gap, and the replica restores exactly.
TEST_F(CheckpointTailTest, TailLargerThanTheCopyBoundIsEncodedUnderTheLock) {
  replicate::ReplicatorOptions o;
  bool wrote = false;
  o.before_checkpoint_lock = [&] {
    if (wrote) return;
    wrote = true;
    AppWrite("INSERT INTO t VALUES('big'), (randomblob(20 * 1024 * 1024))");
  };
  auto r = Start(o);
  const TxId before = r->replicated_txid();

  Status cp = r->Checkpoint();
  ASSERT_TRUE(cp.ok()) << cp.ToString();
  ASSERT_TRUE(wrote);
  EXPECT_EQ(r->replicated_txid(), before + 1) << "the tail is one L0 file";
  auto files = L0Files();
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.back().max_txid, before + 1);
  // Random bytes do not compress: the file holds more than 16 MiB of pages,
  // so the tail took the path under the lock.
  EXPECT_GT(files.back().size, 16 << 20);

  for (int i = 0; i < 3; ++i) {
    AppWrite("INSERT INTO t VALUES(" + std::to_string(i) + ")");
    auto s = r->Sync();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_FALSE(s->snapshot) << s->reason;
  }
  r->Close();
  // One snapshot (the first sync), then L0 files with consecutive TXIDs.
  auto snapshots = replica_->ListFiles(9);
  ASSERT_TRUE(snapshots.ok());
  ASSERT_EQ(snapshots->size(), 1u);
  files = L0Files();
  TxId expect = (*snapshots)[0].max_txid + 1;
  for (const auto& f : files) {
    if (f.max_txid <= (*snapshots)[0].max_txid) continue;
    EXPECT_EQ(f.min_txid, expect) << "gap before " << f.min_txid;
    expect = f.max_txid + 1;
  }
  EXPECT_EQ(expect, r->replicated_txid() + 1);
  ExpectRestoresExactly(replica_->root(), db_, dir_.Join("restored.db"));
}

}  // namespace
}  // namespace litekeep::testing
