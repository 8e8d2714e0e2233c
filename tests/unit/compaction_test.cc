// replicate::CompactionScheduler on a real file replica with a simulated clock:
// a steady stream of L0 files, compaction levels, L9 snapshots, L0 and snapshot
// retention. After every step the invariant of docs/architecture.md
// ("Compaction and retention") is checked by planning and executing restores:
// every timestamp and TXID inside the retention window restores exactly the
// database state it names (or, inside a compacted file, the newest state before
// it), and the newest state always restores.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ltx/encoder.h"
#include "ltx/file_name.h"
#include "replicate/compaction_scheduler.h"
#include "replicate/levels.h"
#include "replicate/replica_index.h"
#include "restore/executor.h"
#include "restore/planner.h"
#include "storage/file/file_client.h"
#include "tests/support/test_util.h"

namespace litekeep::replicate {
namespace {

using Ms = std::chrono::milliseconds;
constexpr uint32_t kPageSize = 512;

// Writes one L0 file per "sync" and remembers the database image after it.
class FakeDatabase {
 public:
  FakeDatabase(storage::ReplicaClient* replica, uint64_t seed)
      : replica_(replica), rng_(seed) {}

  // Ships TXID next as an L0 file created at `now`; the first is a snapshot,
  // stored in L9 as the replicator stores it. image: ship the whole database
  // as the snapshot 1-<txid> (what the replicator does after lost
  // continuity).
  void Ship(TimePoint now, bool image = false) {
    const TxId txid = ++txid_;
    const uint32_t old_commit = commit_;
    if (txid == 1) {
      commit_ = 12;
    } else if (rng_() % 5 == 0) {
      commit_ += 1 + rng_() % 3;
    } else if (rng_() % 11 == 0 && commit_ > 6) {
      commit_ -= 2;  // a VACUUM-like shrink
    }
    image_.resize(static_cast<size_t>(commit_) * kPageSize, '\0');
    std::vector<Pgno> changed;
    for (Pgno p = 1; p <= commit_; ++p) {
      // A database grows only by pages its transaction writes.
      if (txid == 1 || image || p == 1 || p > old_commit || rng_() % 4 == 0) {
        changed.push_back(p);
      }
    }
    ltx::Header h;
    h.flags = ltx::kHeaderFlagNoChecksum;
    h.page_size = kPageSize;
    h.commit = commit_;
    h.min_txid = image ? 1 : txid;
    h.max_txid = txid;
    h.timestamp_ms =
        std::chrono::duration_cast<Ms>(now.time_since_epoch()).count();
    std::string out;
    base::StringWriter writer(&out);
    ltx::Encoder enc(&writer);
    ASSERT_TRUE(enc.EncodeHeader(h).ok());
    for (Pgno p : changed) {
      std::string page(kPageSize, '\0');
      for (auto& c : page) c = static_cast<char>('a' + rng_() % 26);
      image_.replace(static_cast<size_t>(p - 1) * kPageSize, kPageSize, page);
      ASSERT_TRUE(
          enc.EncodePage(p, {reinterpret_cast<const uint8_t*>(page.data()),
                             page.size()})
              .ok());
    }
    ASSERT_TRUE(enc.Close(0).ok());
    storage::FileInfo info;
    info.level = StoredLevel(h);
    info.min_txid = h.min_txid;
    info.max_txid = txid;
    info.size = static_cast<int64_t>(out.size());
    info.created = TimePoint(Ms(h.timestamp_ms));
    base::SpanReader reader(
        {reinterpret_cast<const uint8_t*>(out.data()), out.size()});
    ASSERT_TRUE(replica_->WriteFile(info, reader).ok());
    images_[txid] = image_;
    shipped_[txid] = info.created;
  }

  TxId txid() const { return txid_; }
  const std::map<TxId, std::string>& images() const { return images_; }
  const std::map<TxId, TimePoint>& shipped() const { return shipped_; }

 private:
  storage::ReplicaClient* replica_;
  std::mt19937_64 rng_;
  TxId txid_ = 0;
  uint32_t commit_ = 0;
  std::string image_;
  std::map<TxId, std::string> images_;
  std::map<TxId, TimePoint> shipped_;
};

class CompactionTest : public ::testing::Test {
 protected:
  CompactionTest()
      : replica_(
            std::make_shared<storage::FileReplicaClient>(dir_.Join("replica"))),
        db_(replica_.get(), 42) {}

  CompactionOptions ShortOptions() {
    CompactionOptions o;
    o.level_intervals = {Ms(1000), Ms(3000), Ms(6000)};
    o.snapshot_interval = Ms(5000);
    o.retention = Ms(8000);
    o.retention_check_interval = Ms(1000);
    o.l0_retention = Ms(2000);
    o.l0_retention_check_interval = Ms(1000);
    o.temp_dir = dir_.Join("tmp");
    return o;
  }

  // Restores `target` and checks the result against the recorded image.
  // Returns the TXID restored (0 on failure, with a test failure).
  TxId RestoreAndCompare(const std::vector<storage::FileInfo>& files,
                         const restore::Target& target,
                         const std::string& what) {
    auto plan = restore::MakePlan(files, target, "test replica");
    EXPECT_TRUE(plan.ok()) << what << ": " << plan.status().message();
    if (!plan.ok()) return 0;
    restore::ExecuteOptions opts;
    opts.output = dir_.Join("restored.db");
    opts.force = true;
    opts.integrity = restore::IntegrityCheck::kNone;
    auto result = restore::Execute(*replica_, *plan, opts);
    EXPECT_TRUE(result.ok()) << what << ": " << result.status().message();
    if (!result.ok()) return 0;
    EXPECT_EQ(result->txid, plan->txid);
    auto it = db_.images().find(plan->txid);
    EXPECT_TRUE(it != db_.images().end()) << what;
    if (it == db_.images().end()) return 0;
    EXPECT_TRUE(testing::ReadFile(opts.output) == it->second)
        << what << ": restored TXID " << ltx::FormatTxId(plan->txid)
        << " differs from the database at that TXID";
    return plan->txid;
  }

  // The invariant at `now`: see the file comment. Counts in *coarser the
  // points restored with a coarser (earlier) state than asked.
  void CheckInvariant(TimePoint now, Ms retention, Ms l0_retention,
                      int* coarser) {
    auto files = restore::ListAllFiles(*replica_);
    ASSERT_TRUE(files.ok());
    // The newest state, exactly.
    EXPECT_EQ(RestoreAndCompare(*files, {}, "latest"), db_.txid());
    for (const auto& [txid, shipped] : db_.shipped()) {
      if (shipped < now - retention) continue;
      const std::string what = "TXID " + ltx::FormatTxId(txid);
      restore::Target by_time;
      by_time.timestamp = shipped;
      const TxId got =
          RestoreAndCompare(*files, by_time, "timestamp of " + what);
      EXPECT_LE(got, txid) << what;
      restore::Target by_txid;
      by_txid.txid = txid;
      auto plan = restore::MakePlan(*files, by_txid, "test replica");
      ASSERT_TRUE(plan.ok()) << what << ": " << plan.status().message();
      EXPECT_EQ(plan->txid, got) << what;
      // Shipped within l0-retention: still exact to the transaction.
      if (shipped >= now - l0_retention) {
        EXPECT_EQ(got, txid) << what << " is within l0-retention";
      }
      if (got != txid) ++*coarser;
    }
  }

  size_t CountFiles(int level) {
    auto files = replica_->ListFiles(level);
    EXPECT_TRUE(files.ok());
    return files.ok() ? files->size() : 0;
  }

  testing::TempDir dir_;
  std::shared_ptr<storage::FileReplicaClient> replica_;
  FakeDatabase db_;
};

// An hour boundary, so every interval window starts at a known step.
const TimePoint kStart(Ms(int64_t{472223} * 3600 * 1000));

TEST_F(CompactionTest, InvariantHoldsAtEveryStepOfASteadyWorkload) {
  CompactionOptions o = ShortOptions();
  CompactionScheduler compactor(replica_, o);
  int coarser = 0;
  size_t max_files = 0;
  const Ms step(250);
  for (int i = 0; i < 160; ++i) {  // 40 simulated seconds
    const TimePoint now = kStart + step * i;
    db_.Ship(now);
    auto report = compactor.RunDue(now);
    ASSERT_TRUE(report.ok()) << report.status().message();
    if (i % 4 == 0 || (!report->deleted.empty() && i % 4 == 2)) {
      CheckInvariant(now, o.retention, o.l0_retention, &coarser);
      if (HasFailure()) FAIL() << "at step " << i;
    }
    auto all = restore::ListAllFiles(*replica_);
    ASSERT_TRUE(all.ok());
    max_files = std::max(max_files, all->size());
  }
  // Compaction and retention really ran: every level has files, snapshots
  // are named 1-<max>, old L0 files are gone and the replica stays small.
  EXPECT_GT(CountFiles(1), 0u);
  EXPECT_GT(CountFiles(2), 0u);
  EXPECT_GT(CountFiles(3), 0u);
  auto l9 = replica_->ListFiles(9);
  ASSERT_TRUE(l9.ok());
  ASSERT_FALSE(l9->empty());
  for (const auto& f : *l9) EXPECT_EQ(f.min_txid, 1u);
  // L0 holds about l0-retention + one L1 window of files (4 per second).
  EXPECT_LE(CountFiles(0), 24u);
  EXPECT_LT(max_files, 80u);
  // Older points inside the window were restored at the coarser levels.
  EXPECT_GT(coarser, 0);
}

TEST_F(CompactionTest, FirstRunCompactsEverythingAndSnapshotsOnce) {
  for (int i = 0; i < 10; ++i) db_.Ship(kStart + Ms(100) * i);
  CompactionScheduler compactor(replica_, ShortOptions());
  auto report = compactor.RunDue(kStart + Ms(1500));
  ASSERT_TRUE(report.ok()) << report.status().message();
  // L1, L2, L3 each take the changes after the initial image (which is
  // stored once, in L9, and is this window's snapshot).
  ASSERT_EQ(report->written.size(), 3u);
  auto image = replica_->ListFiles(9);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image->size(), 1u);
  for (int level = 1; level <= 3; ++level) {
    EXPECT_EQ(report->written[level - 1].level, level);
    EXPECT_EQ(report->written[level - 1].min_txid, 2u);
    EXPECT_EQ(report->written[level - 1].max_txid, 10u);
  }
  // Created = the newest input's time.
  EXPECT_EQ(report->written[2].created, kStart + Ms(900));
  // Nothing new: nothing due and nothing written until the next windows.
  auto again = compactor.RunDue(kStart + Ms(1600));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->written.empty());
  // A new compactor (a restart) in the same window does not redo L9.
  db_.Ship(kStart + Ms(1700));
  CompactionScheduler restarted(replica_, ShortOptions());
  auto after = restarted.RunDue(kStart + Ms(1800));
  ASSERT_TRUE(after.ok());
  for (const auto& f : after->written) EXPECT_NE(f.level, 9);
  int coarser = 0;
  CheckInvariant(kStart + Ms(1800), Ms(8000), Ms(2000), &coarser);
  EXPECT_EQ(coarser, 0);
  // The next snapshot window writes the snapshot 1-11.
  auto snap = restarted.RunDue(kStart + Ms(5000));
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  ASSERT_FALSE(snap->written.empty());
  EXPECT_EQ(snap->written.back().level, 9);
  EXPECT_EQ(snap->written.back().max_txid, 11u);
}

TEST_F(CompactionTest, StaleMergeFilesOfAKilledProcessAreRemoved) {
  std::filesystem::create_directories(dir_.Join("tmp"));
  const std::string stale = dir_.Join("tmp/compact-999999-3.ltx.tmp");
  const std::string other = dir_.Join("tmp/position.json");
  std::ofstream(stale) << "partial";
  std::ofstream(other) << "{}";
  CompactionScheduler compactor(replica_, ShortOptions());
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(other));
}

TEST_F(CompactionTest, ManyInputsAreMergedInPasses) {
  for (int i = 0; i < 150; ++i) db_.Ship(kStart + Ms(10) * i);
  CompactionOptions o = ShortOptions();
  o.level_intervals.clear();  // the snapshot takes all 150 L0 files
  CompactionScheduler compactor(replica_, o);
  auto snap = compactor.Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  ASSERT_TRUE(snap->has_value());
  EXPECT_EQ((*snap)->max_txid, 150u);
  auto files = restore::ListAllFiles(*replica_);
  ASSERT_TRUE(files.ok());
  auto plan = restore::MakePlan(*files, {}, "r");
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->files.size(), 1u);
  EXPECT_EQ(plan->files[0].level, 9);
  EXPECT_EQ(RestoreAndCompare(*files, {}, "latest"), 150u);
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir_.Join("tmp"))) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
}

TEST_F(CompactionTest, RetentionKeepsTheAnchorSnapshotAndWhatFollows) {
  CompactionOptions o = ShortOptions();
  CompactionScheduler compactor(replica_, o);
  for (int i = 0; i < 120; ++i) {
    const TimePoint now = kStart + Ms(250) * i;
    db_.Ship(now);
    ASSERT_TRUE(compactor.RunDue(now).ok());
  }
  const TimePoint now = kStart + Ms(250) * 119;
  auto snaps = replica_->ListFiles(9);
  ASSERT_TRUE(snaps.ok());
  // Exactly one kept snapshot (the anchor) is at or before the window's
  // start (retention last ran at the 29 s check, cutoff 21 s).
  const TimePoint cutoff = kStart + Ms(29000) - o.retention;
  const storage::FileInfo* anchor = nullptr;
  for (const auto& f : *snaps) {
    if (f.created <= cutoff) {
      EXPECT_EQ(anchor, nullptr) << "two snapshots before the window";
      anchor = &f;
    }
  }
  ASSERT_NE(anchor, nullptr);
  // Nothing older than the anchor is left but each level's newest file.
  for (int level = 0; level <= 8; ++level) {
    auto files = replica_->ListFiles(level);
    ASSERT_TRUE(files.ok());
    for (size_t i = 0; i + 1 < files->size(); ++i) {
      EXPECT_GE((*files)[i].max_txid, anchor->max_txid)
          << "L" << level << " " << (*files)[i].max_txid;
    }
  }
  int coarser = 0;
  CheckInvariant(now, o.retention, o.l0_retention, &coarser);
}

TEST_F(CompactionTest, ImageAfterLostContinuityIsStoredOnlyInL9) {
  CompactionOptions o = ShortOptions();
  CompactionScheduler compactor(replica_, o);
  int coarser = 0;
  int64_t image_size = 0;
  for (int i = 0; i < 80; ++i) {
    const TimePoint now = kStart + Ms(250) * i;
    // TXID 31 is a full image (continuity lost): the snapshot 1-31.
    db_.Ship(now, /*image=*/i == 30);
    if (i == 30) {
      auto l9 = replica_->ListFiles(9);
      ASSERT_TRUE(l9.ok());
      for (const auto& f : *l9) {
        if (f.max_txid == 31) image_size = f.size;
      }
      ASSERT_GT(image_size, 0);
    }
    auto report = compactor.RunDue(now);
    ASSERT_TRUE(report.ok()) << report.status().message();
    if (i % 4 == 0) {
      CheckInvariant(now, o.retention, o.l0_retention, &coarser);
      if (HasFailure()) FAIL() << "at step " << i;
    }
    // No change level holds TXID 31 (the image): they stop at 30 and
    // resume at 32.
    for (int level = 1; level <= 3 && i >= 30; ++level) {
      auto files = replica_->ListFiles(level);
      ASSERT_TRUE(files.ok());
      for (const auto& f : *files) {
        EXPECT_FALSE(f.min_txid <= 31 && f.max_txid >= 31)
            << "L" << level << " "
            << ltx::FormatFileName(f.min_txid, f.max_txid);
        EXPECT_NE(f.min_txid, 1u);
      }
    }
  }
}

// Counts the requests that reach the store (atomically: ListLevels lists
// the levels from several threads).
class CountingClient : public storage::FileReplicaClient {
 public:
  using FileReplicaClient::FileReplicaClient;
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override {
    ++lists;
    return FileReplicaClient::ListFiles(level);
  }
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override {
    if (level < ltx::kSnapshotLevel) ++gets;
    return FileReplicaClient::OpenFile(level, min_txid, max_txid, offset,
                                       length);
  }
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override {
    ++puts;
    return FileReplicaClient::WriteFile(info, data);
  }
  std::atomic<int> lists = 0, gets = 0 /* of change files */, puts = 0;
};

TEST_F(CompactionTest, IdleReplicaCostsNoRequestsAndChangesAreNotReadBack) {
  auto store = std::make_shared<CountingClient>(dir_.Join("counted"));
  auto indexed = std::make_shared<IndexedReplica>(
      store, ReplicaIndexOptions{dir_.Join("state/ltx")});
  FakeDatabase db(indexed.get(), 7);
  CompactionOptions o = ShortOptions();
  o.retention_check_interval = Ms(60000);
  CompactionScheduler compactor(indexed, o);
  // Busy: every change file written once, none read back from the store.
  for (int i = 0; i < 40; ++i) {
    const TimePoint now = kStart + Ms(250) * i;
    db.Ship(now);
    ASSERT_TRUE(compactor.RunDue(now).ok());
  }
  EXPECT_EQ(store->gets.load(), 0) << "compaction read back files it wrote";
  // Only the first listing and the reconciles of the first retention check
  // and of the check after the snapshot (5 s).
  EXPECT_EQ(store->lists.load(), 3 * (ltx::kMaxLevel + 1));
  EXPECT_GT(indexed->cached_files(), 0u);
  // Idle for 45 s (until the next retention check): every schedule runs,
  // nothing is listed, read or written once the levels caught up.
  ASSERT_TRUE(compactor.RunDue(kStart + Ms(12000)).ok());
  const int lists = store->lists;
  const int puts = store->puts;
  for (int i = 0; i < 180; ++i) {
    ASSERT_TRUE(compactor.RunDue(kStart + Ms(12000) + Ms(250) * i).ok());
  }
  EXPECT_EQ(store->lists.load(), lists);
  EXPECT_EQ(store->puts.load(), puts);
  EXPECT_EQ(store->gets.load(), 0);
}

}  // namespace
}  // namespace litekeep::replicate
