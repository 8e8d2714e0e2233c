// A database past 1 GiB end to end: SQLite never writes the lock page (the
// page holding byte 0x40000000), so replicate, compaction, restore, verify
// and the VFS must all leave it out (docs/format.md, "Large databases" in
// docs/architecture.md). The test builds a ~1.1 GiB database cheaply (64 KiB
// pages, mostly-zero blobs that compress well), starts it just below the
// lock page, replicates it with `litekeep replicate` to a file replica while
// transactions grow it across the lock page, waits for compacted levels and
// an L9 snapshot past 1 GiB, then checks that the restore equals the
// checkpointed source byte for byte and passes integrity_check, that
// `verify -full` passes, and that the VFS answers queries on rows stored
// after the lock page. Skips when the disk is too small.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ltx/file_name.h"
#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kPageSize = 65536;
constexpr int64_t kLockPgno = 0x40000000 / kPageSize + 1;  // 16385
// Source, restore, verify's temporary restore, snapshots and slack.
constexpr uint64_t kDiskNeeded = 5ull << 30;

// Newest max TXID among the files of one level ("" when none).
TxId LevelMaxTxId(const std::string& replica, int level) {
  TxId max = 0;
  std::error_code ec;
  const std::string dir = replica + "/ltx/" + std::to_string(level);
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto range = ltx::ParseFileName(e.path().filename().string());
    if (range) max = std::max(max, range->max_txid);
  }
  return max;
}

int64_t PageCount(const std::string& db) {
  return std::stoll(QueryOne(db, "PRAGMA page_count"));
}

// "" when the two files are equal byte for byte, else where they differ.
std::string CompareFiles(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return "cannot open " + a + " or " + b;
  const size_t kChunk = 1 << 20;
  std::string ba(kChunk, '\0'), bb(kChunk, '\0');
  uint64_t offset = 0;
  for (;;) {
    fa.read(ba.data(), kChunk);
    fb.read(bb.data(), kChunk);
    const auto na = fa.gcount(), nb = fb.gcount();
    const size_t n = static_cast<size_t>(std::min(na, nb));
    if (std::memcmp(ba.data(), bb.data(), n) != 0) {
      for (size_t i = 0; i < n; ++i) {
        if (ba[i] != bb[i]) {
          return "first difference at byte " + std::to_string(offset + i) +
                 " (page " + std::to_string((offset + i) / kPageSize + 1) + ")";
        }
      }
    }
    if (na != nb) {
      return "sizes differ after byte " + std::to_string(offset + n);
    }
    if (na == 0) return "";
    offset += n;
  }
}

// One transaction of `rows` rows of 1 MiB (random head, zero tail): about
// 16.1 pages each.
std::string InsertRows(int rows, int tag) {
  return "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
         "WHERE n < " +
         std::to_string(rows) + ") INSERT INTO big(tag, v) SELECT 'tx" +
         std::to_string(tag) +
         "-' || n, randomblob(3000) || zeroblob(1045576) FROM s;";
}

TEST(LockPageTest, DatabasePastOneGiBReplicatesCompactsRestoresAndReads) {
  TempDir dir;
  struct statvfs sv {};
  ASSERT_EQ(::statvfs(dir.path().c_str(), &sv), 0);
  const uint64_t free_bytes = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  if (free_bytes < kDiskNeeded) {
    GTEST_SKIP() << "needs " << (kDiskNeeded >> 20) << " MiB free in "
                 << dir.path() << ", has " << (free_bytes >> 20) << " MiB";
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string db = dir.Join("big.db");
  const std::string replica = dir.Join("replica");

  // Just below the lock page, written without a WAL (cheap), then WAL.
  std::string sql =
      "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA "
      "synchronous=OFF; CREATE TABLE big(id INTEGER PRIMARY KEY, tag TEXT, v "
      "BLOB); CREATE INDEX big_tag ON big(tag);";
  sql += InsertRows(995, 0);
  ASSERT_EQ(ExecSql(db, sql), "");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL;"), "");
  ASSERT_EQ(QueryOne(db, "PRAGMA journal_mode"), "wal");
  const int64_t initial_pages = PageCount(db);
  ASSERT_LT(initial_pages, kLockPgno - 100) << "start below the lock page";
  ASSERT_GT(initial_pages, kLockPgno - 1000);

  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "levels:\n  - interval: 1s\n  - interval: 3s\n"
                     << "snapshot:\n  interval: 10s\n  retention: 1h\n"
                     << "l0-retention: 1h\n"
                     << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      type: file\n      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return LevelMaxTxId(replica, 9) >= 1; }, 60s))
      << rep.Log();

  // Transactions that grow the database across the lock page; the first
  // one's pages span it (page 1 and pages on both sides).
  TxId last = LevelMaxTxId(replica, 0);
  for (int tx = 1; tx <= 4; ++tx) {
    ASSERT_EQ(
        ExecSql(db, "PRAGMA synchronous=OFF; BEGIN;" + InsertRows(30, tx) +
                        "UPDATE big SET tag = tag || '+' WHERE id % 97 "
                        "= 0; COMMIT;"),
        "");
    ASSERT_TRUE(WaitUntil([&] { return LevelMaxTxId(replica, 0) > last; }, 60s))
        << rep.Log();
    last = LevelMaxTxId(replica, 0);
    if (tx == 1) {
      ASSERT_GT(PageCount(db), kLockPgno) << "the first transaction crosses";
    }
  }
  const int64_t final_pages = PageCount(db);
  ASSERT_GT(final_pages, kLockPgno + 300);

  // Compaction over the lock page: L1 and an L9 snapshot past 1 GiB.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return LevelMaxTxId(replica, 1) >= last &&
               LevelMaxTxId(replica, 9) >= last;
      },
      120s))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE);"), "");
  ASSERT_EQ(static_cast<int64_t>(fs::file_size(db)), final_pages * kPageSize);

  // Restore (from the snapshot past 1 GiB) equals the source byte for byte;
  // the lock page reads back as zeros, as SQLite leaves it.
  const std::string out = dir.Join("restored.db");
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, replica});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(CompareFiles(db, out), "");
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
  fs::remove(out);

  // An older state (the plan then ends with L0 files past the lock page):
  // after the second growing transaction.
  const std::string mid = dir.Join("mid.db");
  r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", mid, "-txid",
                              ltx::FormatTxId(last - 2), replica});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryOne(mid, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryOne(mid, "SELECT count(*) FROM big WHERE tag LIKE 'tx2-%'"),
            "30");
  EXPECT_EQ(QueryOne(mid, "SELECT count(*) FROM big WHERE tag LIKE 'tx3-%'"),
            "0");
  fs::remove(mid);

  // verify -full restores, checks and compares page by page with the source.
  r = litekeep::testing::Run({LitekeepBin(), "verify", "-full", "-temp-dir",
                              dir.path(), "-config", cfg, db});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // The VFS reads rows written after the lock page.
  const std::string q =
      "SELECT count(*), sum(length(v)) FROM big;"
      "SELECT id, tag, hex(substr(v, 1, 16)) FROM big WHERE id > 995 ORDER BY "
      "id;";
  Db src("file:" + db + "?mode=ro");
  ASSERT_TRUE(src.ok()) << src.error();
  const std::string expected = src.Query(q);
  Db vfs(VfsUri("file://" + replica));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_EQ(vfs.Query(q), expected);
  EXPECT_EQ(vfs.Query("PRAGMA page_count"), std::to_string(final_pages) + "\n");

  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  std::printf("lock page test: %lld pages (lock page %lld), %lld s\n",
              static_cast<long long>(final_pages),
              static_cast<long long>(kLockPgno), static_cast<long long>(secs));
}

}  // namespace
}  // namespace litekeep::testing
