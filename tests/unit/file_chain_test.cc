// The restore-chain rules of storage/file_chain (docs/architecture.md,
// "Restore chains") as the planner, verify, the compactor and the restore
// executor see them: gaps, overlaps across levels, several L9 snapshots,
// point-in-time targets, stranded files, and pages a chain must supply (a
// huge commit is refused before anything is written).
#include "storage/file_chain.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ltx/encoder.h"
#include "restore/executor.h"
#include "restore/planner.h"
#include "restore/verify.h"
#include "storage/file/file_client.h"
#include "tests/support/test_util.h"

namespace litekeep::storage {
namespace {

FileInfo F(int level, TxId min, TxId max) {
  FileInfo f;
  f.level = level;
  f.min_txid = min;
  f.max_txid = max;
  f.size = 100;
  return f;
}

std::vector<std::string> Names(const std::vector<FileInfo>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    out.push_back(std::to_string(f.level) + ":" + std::to_string(f.min_txid) +
                  "-" + std::to_string(f.max_txid));
  }
  return out;
}

TEST(FileChainTest, GreedyChainPrefersTheCoarsestFileAcrossLevels) {
  // L0 1..10, L1 2-5 and 6-10 overlapping them, L2 2-8.
  std::vector<FileInfo> files;
  for (TxId t = 1; t <= 10; ++t) files.push_back(F(0, t, t));
  files.push_back(F(1, 2, 5));
  files.push_back(F(1, 6, 10));
  files.push_back(F(2, 2, 8));
  TxId reached = 0;
  auto chain = GreedyChain(files, 1, 10, &reached);
  EXPECT_EQ(reached, 10u);
  EXPECT_EQ(Names(chain), (std::vector<std::string>{"2:2-8", "1:6-10"}));
  // A limit inside a compacted file: only files ending at or before it.
  chain = GreedyChain(files, 1, 7, &reached);
  EXPECT_EQ(reached, 7u);
  EXPECT_EQ(Names(chain),
            (std::vector<std::string>{"1:2-5", "0:6-6", "0:7-7"}));
}

TEST(FileChainTest, GapStopsEveryChainAndIsReportedOnce) {
  std::vector<FileInfo> files = {F(0, 1, 3), F(0, 4, 4), F(0, 7, 8), F(0, 9, 9),
                                 F(1, 11, 12)};
  TxId reached = 0;
  GreedyChain(files, 3, 12, &reached);
  EXPECT_EQ(reached, 4u);
  auto holes = FindHoles(files);
  ASSERT_EQ(holes.size(), 2u);
  EXPECT_EQ(holes[0].first, 5u);
  EXPECT_EQ(holes[0].last, 6u);
  EXPECT_EQ(holes[0].before.max_txid, 4u);
  EXPECT_EQ(holes[0].after.min_txid, 7u);
  EXPECT_EQ(holes[1].first, 10u);
  EXPECT_EQ(holes[1].last, 10u);
  EXPECT_EQ(ReachableTxIds(files), (std::vector<TxId>{3, 4}));

  auto plan = restore::MakePlan(files, {}, "r");
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("no LTX file starts at TXID "
                                         "0000000000000005"),
            std::string::npos)
      << plan.status().message();

  auto problems = restore::CheckListing(files, {});
  std::vector<std::string> checks;
  for (const auto& p : problems) checks.push_back(p.check);
  EXPECT_EQ(checks, (std::vector<std::string>{"gap", "gap", "orphan"}));
  EXPECT_NE(problems[0].message.find("between level 0 file "
                                     "0000000000000004-0000000000000004.ltx"),
            std::string::npos)
      << problems[0].message;
  EXPECT_NE(problems[2].message.find("3 file(s) after the gap"),
            std::string::npos)
      << problems[2].message;
}

TEST(FileChainTest, SnapshotCoveringAHoleClosesIt) {
  std::vector<FileInfo> files = {F(0, 1, 3), F(0, 6, 8), F(9, 1, 5)};
  EXPECT_TRUE(FindHoles(files).empty());
  EXPECT_EQ(ReachableTxIds(files), (std::vector<TxId>{3, 5, 8}));
}

TEST(FileChainTest, SeveralL9SnapshotsAreAHealthyReplica) {
  // Snapshots 1-5, 1-10, 1-15 at level 9, L1 and L0 after them.
  std::vector<FileInfo> files = {F(9, 1, 5),   F(9, 1, 10),  F(9, 1, 15),
                                 F(1, 11, 15), F(1, 16, 20), F(0, 21, 21),
                                 F(0, 22, 22)};
  const FileInfo* snap = NewestSnapshot(files, 22);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->max_txid, 15u);
  EXPECT_EQ(NewestSnapshot(files, 12)->max_txid, 10u);
  EXPECT_EQ(NewestSnapshot(files, 4), nullptr);
  // verify must not call snapshots of level 9 overlapping (they all start
  // at TXID 1); files of other levels still must not overlap.
  auto problems = restore::CheckListing(files, {});
  for (const auto& p : problems) ADD_FAILURE() << p.check << ": " << p.message;
  files.push_back(F(1, 18, 19));
  problems = restore::CheckListing(files, {});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].check, "overlap");
  EXPECT_NE(problems[0].message.find("level 1 file "
                                     "0000000000000012-0000000000000013"),
            std::string::npos)
      << problems[0].message;
}

TEST(FileChainTest, PointInTimeTargets) {
  // L0 files 1..4 were compacted into L1 1-4 and deleted; L0 5..8 remain.
  std::vector<FileInfo> files = {F(1, 1, 4), F(0, 5, 5), F(0, 6, 6), F(0, 7, 7),
                                 F(0, 8, 8)};
  restore::Target t;
  t.txid = 6;
  auto plan = restore::MakePlan(files, t, "r");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->txid, 6u);
  EXPECT_EQ(Names(plan->files),
            (std::vector<std::string>{"1:1-4", "0:5-5", "0:6-6"}));
  EXPECT_TRUE(plan->note.empty());
  // TXID 3 lies inside the compacted file: nothing at or before it.
  t.txid = 3;
  plan = restore::MakePlan(files, t, "r");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), base::Code::kNotFound);
  // With an older snapshot the newest state before it is restored, noted.
  files.push_back(F(9, 1, 2));
  plan = restore::MakePlan(files, t, "r");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->txid, 2u);
  EXPECT_EQ(plan->requested, 3u);
  EXPECT_NE(plan->note.find("inside a compacted LTX file"), std::string::npos);
}

TEST(FileChainTest, FirstStrandedNamesTheFileADeleteWouldStrand) {
  std::vector<FileInfo> all = {F(9, 1, 4), F(0, 5, 5), F(0, 6, 6)};
  std::vector<FileInfo> kept = {F(9, 1, 4), F(0, 6, 6)};
  const FileInfo* f = FirstStranded(all, kept);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->min_txid, 6u);
  EXPECT_EQ(FirstStranded(all, {F(9, 1, 4), F(0, 5, 5)}), nullptr);
}

TEST(PageSupplyTest, SnapshotMustCoverEveryPage) {
  PageSupply s;
  s.StartFile(true, 4096, 3, "snap");
  EXPECT_TRUE(s.AddPage(1).ok());
  EXPECT_TRUE(s.AddPage(2).ok());
  Status st = s.FinishFile();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), base::Code::kCorrupt);
  EXPECT_NE(st.message().find("snap: commit is 3 pages but page 3"),
            std::string::npos)
      << st.message();
}

TEST(PageSupplyTest, IncrementGrowsOnlyByPagesItCarries) {
  PageSupply s;
  s.StartFile(true, 4096, 2, "snap");
  ASSERT_TRUE(s.AddPage(1).ok());
  ASSERT_TRUE(s.AddPage(2).ok());
  ASSERT_TRUE(s.FinishFile().ok());
  // Grows by 3 and 4, which it carries; rewrites page 1.
  s.StartFile(false, 4096, 4, "inc");
  ASSERT_TRUE(s.AddPage(1).ok());
  ASSERT_TRUE(s.AddPage(3).ok());
  ASSERT_TRUE(s.AddPage(4).ok());
  ASSERT_TRUE(s.FinishFile().ok());
  EXPECT_EQ(s.pages(), 4u);
  // Shrinks: carries nothing new.
  s.StartFile(false, 4096, 2, "shrink");
  ASSERT_TRUE(s.AddPage(2).ok());
  ASSERT_TRUE(s.FinishFile().ok());
  EXPECT_EQ(s.pages(), 2u);
  // Grows to 300,000,000 pages carrying page 1 only.
  s.StartFile(false, 4096, 300000000, "huge");
  ASSERT_TRUE(s.AddPage(1).ok());
  Status st = s.FinishFile();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("huge: commit is 300000000 pages but page 3"),
            std::string::npos)
      << st.message();
  // Skips a new page: refused at the page after the hole.
  s.StartFile(false, 4096, 5, "skip");
  EXPECT_TRUE(s.AddPage(3).ok());
  st = s.AddPage(5);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("page 4 "), std::string::npos) << st.message();
  // A page beyond commit.
  s.StartFile(false, 4096, 2, "beyond");
  EXPECT_FALSE(s.AddPage(3).ok());
}

TEST(PageSupplyTest, NewPageSizeNeedsEveryPageAndLockPageIsSkipped) {
  PageSupply s(10, 4096);
  s.StartFile(false, 1024, 2, "resized");
  EXPECT_FALSE(s.AddPage(2).ok());  // page 1 missing at the new size
  s.StartFile(false, 1024, 2, "resized");
  EXPECT_FALSE(s.FinishFile().ok());
  // 512-byte pages: the lock page is 2097153 and is never stored.
  const Pgno lock = 0x40000000 / 512 + 1;
  PageSupply big;
  big.StartFile(true, 512, lock + 1, "big");
  for (Pgno p = 1; p < lock; ++p) ASSERT_TRUE(big.AddPage(p).ok()) << p;
  EXPECT_FALSE(big.AddPage(lock).ok());
  ASSERT_TRUE(big.AddPage(lock + 1).ok());
  EXPECT_TRUE(big.FinishFile().ok());
}

// Writes one LTX file holding `pages` (filled with their number) into the
// replica.
void Ship(ReplicaClient& replica, TxId min, TxId max, Pgno commit,
          const std::vector<Pgno>& pages) {
  ltx::Header h;
  h.flags = ltx::kHeaderFlagNoChecksum;
  h.page_size = 4096;
  h.commit = commit;
  h.min_txid = min;
  h.max_txid = max;
  h.timestamp_ms = 1700000000000;
  std::string out;
  base::StringWriter writer(&out);
  ltx::Encoder enc(&writer);
  ASSERT_TRUE(enc.EncodeHeader(h).ok());
  for (Pgno p : pages) {
    std::vector<uint8_t> page(4096, static_cast<uint8_t>(p));
    ASSERT_TRUE(enc.EncodePage(p, page).ok());
  }
  ASSERT_TRUE(enc.Close(0).ok());
  FileInfo info = F(0, min, max);
  info.size = static_cast<int64_t>(out.size());
  base::SpanReader reader(
      {reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  ASSERT_TRUE(replica.WriteFile(info, reader).ok());
}

TEST(PageSupplyTest, RestoreRefusesAHugeCommitBeforeWriting) {
  testing::TempDir dir;
  FileReplicaClient replica(dir.Join("replica"));
  Ship(replica, 1, 1, 2, {1, 2});
  Ship(replica, 2, 2, 300000000, {1});
  auto files = restore::ListAllFiles(replica);
  ASSERT_TRUE(files.ok());
  auto plan = restore::MakePlan(*files, {}, "r");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  restore::ExecuteOptions opts;
  opts.output = dir.Join("out.db");
  opts.integrity = restore::IntegrityCheck::kNone;
  auto result = restore::Execute(replica, *plan, opts);
  ASSERT_FALSE(result.ok()) << "restored " << result->pages << " pages";
  EXPECT_EQ(result.status().code(), base::Code::kCorrupt);
  EXPECT_NE(result.status().message().find(
                "level 0 file 0000000000000002-0000000000000002.ltx"),
            std::string::npos)
      << result.status().message();
  EXPECT_NE(result.status().message().find("commit is 300000000 pages but "
                                           "page 3"),
            std::string::npos)
      << result.status().message();
  EXPECT_FALSE(std::filesystem::exists(opts.output));
  EXPECT_FALSE(std::filesystem::exists(opts.output + ".tmp"));
}

}  // namespace
}  // namespace litekeep::storage
