// Compaction, snapshots and retention end to end with the real binary and
// real SQLite. The test writes one transaction per sync and records the
// database's content hash and the time right after each TXID reaches the
// replica; then
//  * while `litekeep replicate` compacts (L1 1s, L2 3s, L3 6s, snapshots
//    every 5s, retention 8s, l0-retention 2s) it freezes the replicator
//    (SIGSTOP) at many moments and checks that every recorded moment inside
//    the retention window restores to exactly the state it names (or, inside
//    a compacted file, the newest state before it), and the newest state
//    always restores;
//  * with every L0 file kept, `restore -timestamp` and `restore -txid`
//    through compacted levels (L9 + L3 + L2 + L1 + L0) give exactly the
//    recorded state for every TXID.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "base/coding.h"
#include "base/rfc3339.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "restore/executor.h"
#include "restore/planner.h"
#include "storage/file/file_client.h"
#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::milliseconds;

// Newest TXID in a file replica (from the file names).
TxId ReplicaMaxTxId(const std::string& replica) {
  TxId max = 0;
  std::error_code ec;
  if (!fs::exists(replica + "/ltx", ec)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(replica + "/ltx", ec)) {
    auto range = ltx::ParseFileName(e.path().filename().string());
    if (range) max = std::max(max, range->max_txid);
  }
  return max;
}

size_t CountLevel(const std::string& replica, int level) {
  const std::string dir = replica + "/ltx/" + std::to_string(level);
  if (!fs::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (ltx::ParseFileName(e.path().filename().string())) ++n;
  }
  return n;
}

// Newest max TXID among a level's files (0 when none).
TxId LevelMaxTxId(const std::string& replica, int level) {
  const std::string dir = replica + "/ltx/" + std::to_string(level);
  TxId max = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto range = ltx::ParseFileName(e.path().filename().string());
    if (range) max = std::max(max, range->max_txid);
  }
  return max;
}

struct Point {
  TimePoint shipped;  // just after the TXID was seen in the replica
  std::string hash;   // ContentHash of the database at that TXID
};

// Writes transactions one sync at a time and records each TXID's state.
class Recorder {
 public:
  Recorder(std::string db, std::string replica)
      : db_(std::move(db)), replica_(std::move(replica)), rng_(11) {}

  // Waits for the initial snapshot and records it.
  void Start() {
    ASSERT_TRUE(WaitUntil([&] { return ReplicaMaxTxId(replica_) >= 1; }));
    Record(ReplicaMaxTxId(replica_));
  }

  // One transaction, then wait for its TXID and record it.
  void Step() {
    const TxId before = ReplicaMaxTxId(replica_);
    // Always an insert (so the transaction writes), sometimes with an
    // update or a delete, as one transaction.
    std::string sql =
        "BEGIN; INSERT INTO t(v) SELECT randomblob(300) FROM "
        "(SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3);";
    switch (rng_() % 3) {
      case 0:
        sql +=
            "UPDATE t SET v = randomblob(200) WHERE id IN (SELECT id FROM t "
            "ORDER BY random() LIMIT 3);";
        break;
      case 1:
        sql +=
            "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() "
            "LIMIT 2);";
        break;
      default:
        break;
    }
    sql += "COMMIT;";
    ASSERT_EQ(ExecSql(db_, sql), "");
    ASSERT_TRUE(WaitUntil([&] { return ReplicaMaxTxId(replica_) > before; }));
    const TxId now = ReplicaMaxTxId(replica_);
    ASSERT_EQ(now, before + 1) << "one transaction, one TXID";
    Record(now);
  }

  const std::map<TxId, Point>& points() const { return points_; }

 private:
  void Record(TxId txid) {
    points_[txid] = Point{Clock::now(), ContentHash(db_)};
    // The next TXID must be created strictly after this moment.
    std::this_thread::sleep_for(Ms(2));
  }

  std::string db_;
  std::string replica_;
  std::mt19937_64 rng_;
  std::map<TxId, Point> points_;
};

std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& replica, const std::string& top) {
  std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << top << "dbs:\n"
                      << "  - path: " << db << "\n"
                      << "    replica:\n"
                      << "      type: file\n"
                      << "      path: " << replica << "\n"
                      << "      sync-interval: 100ms\n"
                      << "      retention-check-interval: 1s\n";
  return path;
}

void PrepareDb(const std::string& db) {
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER "
                    "PRIMARY KEY, v BLOB); INSERT INTO t(v) SELECT "
                    "randomblob(300) FROM (SELECT 1 UNION ALL SELECT 2);"),
            "");
}

// Top-level compaction settings: three levels, snapshots, retention.
std::string Compaction(const std::vector<std::string>& levels,
                       const std::string& snapshot,
                       const std::string& retention,
                       const std::string& l0_retention) {
  std::string top = "levels:\n";
  for (const auto& l : levels) top += "  - interval: " + l + "\n";
  return top + "snapshot:\n  interval: " + snapshot +
         "\n  retention: " + retention + "\nl0-retention: " + l0_retention +
         "\nl0-retention-check-interval: 1s\n";
}

TEST(CompactionTest, EveryMomentInTheRetentionWindowRestoresExactly) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  PrepareDb(db);
  const std::string cfg = Config(
      dir, db, replica, Compaction({"1s", "3s", "6s"}, "5s", "8s", "2s"));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  Recorder rec(db, replica);
  ASSERT_NO_FATAL_FAILURE(rec.Start()) << rep.Log();
  const Ms retention(8000);
  storage::FileReplicaClient client(replica);
  int checks = 0, restores = 0, coarser = 0;
  // At least 26 s (several snapshot, retention and l0-retention cycles),
  // then until the checks and restores asserted below are done, however
  // slowly the machine runs the steps: counts are waited for, not what
  // happens to fit in a fixed time.
  const auto start = Clock::now();
  auto next_check = start + Ms(1500);
  while (Clock::now() - start < Ms(26000) || checks < 8 || restores <= 50) {
    ASSERT_LT(Clock::now() - start, Ms(300000))
        << checks << " checks and " << restores << " restores in 5 minutes";
    ASSERT_NO_FATAL_FAILURE(rec.Step()) << rep.Log();
    if (Clock::now() < next_check) continue;
    next_check = Clock::now() + Ms(1500);
    // Freeze the replicator: the replica is now one moment of its life.
    rep.Signal(SIGSTOP);
    const TimePoint now = Clock::now();
    auto files = restore::ListAllFiles(client);
    ASSERT_TRUE(files.ok());
    ++checks;
    for (const auto& [txid, point] : rec.points()) {
      if (point.shipped < now - retention) continue;
      const std::string what = "TXID " + ltx::FormatTxId(txid) + " (check " +
                               std::to_string(checks) + ")";
      restore::Target target;
      target.timestamp = point.shipped;
      auto plan = restore::MakePlan(*files, target, replica);
      ASSERT_TRUE(plan.ok()) << what << ": " << plan.status().message();
      ASSERT_LE(plan->txid, txid) << what;
      ASSERT_TRUE(rec.points().count(plan->txid)) << what;
      if (plan->txid != txid) ++coarser;
      // Restore every other point (and the edges) to keep the test short.
      if (txid % 2 == 0 || txid == rec.points().rbegin()->first) {
        restore::ExecuteOptions opts;
        opts.output = dir.Join("restored.db");
        opts.force = true;
        auto result = restore::Execute(client, *plan, opts);
        ASSERT_TRUE(result.ok()) << what << ": " << result.status().message();
        ASSERT_EQ(ContentHash(opts.output), rec.points().at(plan->txid).hash)
            << what << " restored TXID " << ltx::FormatTxId(plan->txid);
        ++restores;
      }
    }
    auto latest = restore::MakePlan(*files, {}, replica);
    ASSERT_TRUE(latest.ok()) << latest.status().message();
    EXPECT_EQ(latest->txid, rec.points().rbegin()->first);
    rep.Signal(SIGCONT);
  }
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_GE(checks, 8);
  EXPECT_GT(restores, 50);
  EXPECT_GT(coarser, 0) << "l0-retention never made an older point coarser";
  for (int level : {1, 2, 3, 9}) {
    EXPECT_GT(CountLevel(replica, level), 0u) << "level " << level << "\n"
                                              << rep.Log();
  }
  // Retention keeps the replica small: about one retention window.
  EXPECT_LT(CountLevel(replica, 0), 60u);
  EXPECT_LE(CountLevel(replica, 9), 4u);
  const std::string log = rep.Log();
  EXPECT_EQ(log.find("compaction:"), std::string::npos) << log;
  std::printf(
      "[ info ] %d checks, %d restores, %d points restored coarser, "
      "%zu TXIDs\n",
      checks, restores, coarser, rec.points().size());
}

std::string JsonTxid(const std::string& out) {
  std::smatch m;
  static const std::regex re("\"txid\":\\s*\"([0-9a-f]{16})\"");
  return std::regex_search(out, m, re) ? m[1].str() : "";
}

TEST(CompactionTest, PointInTimeRestoreAcrossCompactedLevels) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  PrepareDb(db);
  const std::string cfg = Config(
      dir, db, replica, Compaction({"1s", "2s", "4s"}, "3s", "1h", "1h"));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  Recorder rec(db, replica);
  ASSERT_NO_FATAL_FAILURE(rec.Start()) << rep.Log();
  const auto start = Clock::now();
  while (Clock::now() - start < Ms(9000)) {
    ASSERT_NO_FATAL_FAILURE(rec.Step()) << rep.Log();
  }
  // Let the last windows compact (L1 holds the last TXID, every level a
  // file: the compactor's thread may run late on a loaded machine), then
  // stop.
  const TxId last = rec.points().rbegin()->first;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return LevelMaxTxId(replica, 1) == last && CountLevel(replica, 2) > 0 &&
               CountLevel(replica, 3) > 0 && CountLevel(replica, 9) > 0;
      },
      Ms(120000)))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  for (int level : {1, 2, 3, 9}) {
    ASSERT_GT(CountLevel(replica, level), 0u) << "level " << level;
  }
  // The newest state comes from an L9 snapshot plus few files.
  auto dry = litekeep::testing::Run({LitekeepBin(), "restore", "-dry-run",
                                     "-json", "-o", dir.Join("x.db"), replica});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(std::regex_search(dry.out, std::regex("\"level\":\\s*9")))
      << dry.out;

  // Plans for the recorded moments mix the levels: L9 snapshots, compacted
  // L1-L3 files and L0 files.
  storage::FileReplicaClient client(replica);
  auto files = restore::ListAllFiles(client);
  ASSERT_TRUE(files.ok());
  std::set<int> levels_used;
  for (const auto& [txid, point] : rec.points()) {
    restore::Target target;
    target.timestamp = point.shipped;
    auto plan = restore::MakePlan(*files, target, replica);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(plan->txid, txid);
    for (const auto& f : plan->files) levels_used.insert(f.level);
  }
  for (int level : {0, 1, 9}) EXPECT_TRUE(levels_used.count(level)) << level;
  EXPECT_TRUE(levels_used.count(2) || levels_used.count(3));

  const std::string out = dir.Join("out.db");
  int n = 0;
  for (const auto& [txid, point] : rec.points()) {
    if (++n % 2 == 0 && txid != rec.points().rbegin()->first) continue;
    const std::string what = "TXID " + ltx::FormatTxId(txid);
    auto by_time = litekeep::testing::Run(
        {LitekeepBin(), "restore", "-force", "-json", "-timestamp",
         base::FormatRfc3339(point.shipped), "-o", out, replica});
    ASSERT_EQ(by_time.exit_code, 0) << what << ": " << by_time.err;
    EXPECT_EQ(JsonTxid(by_time.out), ltx::FormatTxId(txid)) << what;
    EXPECT_EQ(ContentHash(out), point.hash) << what << " by timestamp";
    auto by_txid = litekeep::testing::Run(
        {LitekeepBin(), "restore", "-force", "-json", "-txid",
         ltx::FormatTxId(txid), "-o", out, replica});
    ASSERT_EQ(by_txid.exit_code, 0) << what << ": " << by_txid.err;
    EXPECT_EQ(JsonTxid(by_txid.out), ltx::FormatTxId(txid)) << what;
    EXPECT_EQ(ContentHash(out), point.hash) << what << " by txid";
  }
  // A moment before the first transaction has nothing to restore.
  auto too_early =
      litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-timestamp",
                              "2001-01-01T00:00:00Z", "-o", out, replica});
  EXPECT_EQ(too_early.exit_code, 1);
}

// A database VACUUMed to another page size while litekeep was stopped: the
// restart stores a fresh full image, snapshots keep being taken, and every
// state before and after the change restores exactly.
TEST(CompactionTest, PageSizeChangeStartsFromAFreshImage) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  PrepareDb(db);
  const std::string cfg =
      Config(dir, db, replica, Compaction({"1s", "2s"}, "2s", "1h", "1h"));
  std::map<TxId, Point> points;
  {
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("before.log"));
    Recorder rec(db, replica);
    ASSERT_NO_FATAL_FAILURE(rec.Start()) << rep.Log();
    for (int i = 0; i < 5; ++i) ASSERT_NO_FATAL_FAILURE(rec.Step());
    std::this_thread::sleep_for(Ms(2500));  // a snapshot at 4096
    rep.Signal(SIGTERM);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
    points = rec.points();
  }
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; "
                    "VACUUM; PRAGMA journal_mode=WAL;"),
            "");
  ASSERT_EQ(QueryOne(db, "PRAGMA page_size"), "8192");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("after.log"));
  const TxId before_max = points.rbegin()->first;
  ASSERT_TRUE(WaitUntil([&] { return ReplicaMaxTxId(replica) > before_max; }))
      << rep.Log();
  // The fresh image is the snapshot 1-<txid>, in L9 only.
  const TxId image = ReplicaMaxTxId(replica);
  EXPECT_EQ(LevelMaxTxId(replica, 9), image);
  Recorder rec(db, replica);
  ASSERT_NO_FATAL_FAILURE(rec.Start());
  for (int i = 0; i < 5; ++i) ASSERT_NO_FATAL_FAILURE(rec.Step());
  const TxId last = rec.points().rbegin()->first;
  // A later snapshot is taken from the new image.
  EXPECT_TRUE(WaitUntil([&] { return LevelMaxTxId(replica, 9) == last; },
                        std::chrono::seconds(8)))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  const std::string log = rep.Log();
  EXPECT_EQ(log.find("page size"), std::string::npos) << log;
  EXPECT_EQ(log.find("compaction:"), std::string::npos) << log;
  for (const auto& [txid, point] : rec.points()) points[txid] = point;
  const std::string out = dir.Join("out.db");
  for (const auto& [txid, point] : points) {
    auto r =
        litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-txid",
                                ltx::FormatTxId(txid), "-o", out, replica});
    ASSERT_EQ(r.exit_code, 0) << "TXID " << txid << ": " << r.err;
    EXPECT_EQ(ContentHash(out), point.hash) << "TXID " << txid;
  }
}

}  // namespace
// `page-encoding: lz4-frame` (set at the top level): every file the
// replicator and the compactor write, at every level, stores each page as
// one LZ4 frame (page flags 0, what Litestream 0.5.0-0.5.15 read), and the
// replica restores exactly.
TEST(CompactionTest, Lz4FramePageEncodingAtEveryLevel) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  PrepareDb(db);
  const std::string cfg =
      Config(dir, db, replica,
             "page-encoding: lz4-frame\n" +
                 Compaction({"1s", "2s", "3s"}, "3s", "1h", "1h"));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  Recorder rec(db, replica);
  ASSERT_NO_FATAL_FAILURE(rec.Start()) << rep.Log();
  // A fixed number of transactions (each shipped before the next), then
  // wait until L1 and an L9 snapshot hold the last one: every level the
  // check below needs, however slowly the machine runs.
  for (int i = 0; i < 30; ++i) {
    ASSERT_NO_FATAL_FAILURE(rec.Step()) << rep.Log();
  }
  const TxId last = rec.points().rbegin()->first;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return LevelMaxTxId(replica, 1) == last &&
               LevelMaxTxId(replica, 9) == last;
      },
      std::chrono::seconds(120)))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();

  std::set<int> levels;
  size_t frames = 0;
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(replica + "/ltx")) {
    if (!ltx::ParseFileName(e.path().filename().string())) continue;
    const std::string path = e.path().string();
    files.push_back(path);
    levels.insert(std::stoi(e.path().parent_path().filename().string()));
    const std::string bytes = ReadFile(path);
    std::span<const uint8_t> all(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size());
    auto index = ltx::DecodePageIndexFromTail(all.subspan(ltx::kHeaderSize),
                                              bytes.size(), path);
    ASSERT_TRUE(index.ok()) << index.status().message();
    for (const ltx::PageIndexEntry& f : *index) {
      EXPECT_EQ(base::GetBE16(all.data() + f.offset + 4), 0) << path;
      EXPECT_EQ(base::GetLE32(all.data() + f.offset + ltx::kPageHeaderSize),
                0x184D2204u)
          << path << ": page " << f.pgno << " is not an LZ4 frame";
      ++frames;
    }
  }
  for (int level : {0, 1, 9}) EXPECT_TRUE(levels.count(level)) << level;
  EXPECT_GT(frames, 10u);

  const std::string out = dir.Join("out.db");
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(out), rec.points().rbegin()->second.hash);
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");

  LK_SKIP_WITHOUT_LTX_INSPECTOR();
  for (const auto& f : files) {
    auto check =
        litekeep::testing::Run({"python3", LtxInspector(), "--quiet", f});
    EXPECT_EQ(check.exit_code, 0) << f << ": " << check.out << check.err;
  }
}

}  // namespace litekeep::testing
