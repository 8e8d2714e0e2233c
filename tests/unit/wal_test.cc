// The WAL reader on WAL files written by SQLite itself: header, checksum
// chain in both byte orders, commit detection, partial transactions and
// corruption; reading a database image's pages (WAL, else database file).
#include "sqlite/wal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "base/coding.h"
#include "base/io.h"
#include "sqlite/db_header.h"
#include "sqlite/db_image.h"
#include "tests/support/test_util.h"

namespace litekeep::sqlite {
namespace {

using litekeep::testing::ReadFile;
using litekeep::testing::TempDir;

// Runs statements on a connection that never checkpoints, then copies the
// live WAL to `copy` while the connection is still open.
std::string MakeWal(const TempDir& dir, const std::vector<std::string>& txs,
                    const std::string& copy) {
  std::string db_path = dir.Join("w.db");
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;",
               nullptr, nullptr, nullptr);
  for (const auto& sql : txs) {
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sql;
  }
  std::string wal = ReadFile(db_path + "-wal");
  EXPECT_TRUE(base::WriteFileAtomic(copy, wal).ok());
  sqlite3_close(db);
  return wal;
}

Result<WalScan> ScanFile(const std::string& path,
                         WalHeader* header_out = nullptr) {
  LK_ASSIGN_OR_RETURN(base::File f, base::File::Open(path, O_RDONLY));
  LK_ASSIGN_OR_RETURN(WalHeader h, ReadWalHeader(f));
  if (header_out) *header_out = h;
  return ScanWal(f, h, kWalHeaderSize, h.checksum);
}

TEST(WalTest, ScansCommitsWrittenBySqlite) {
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  MakeWal(dir,
          {"CREATE TABLE t(x)", "INSERT INTO t VALUES(randomblob(5000))",
           "BEGIN; INSERT INTO t VALUES(1); INSERT INTO t VALUES(2); COMMIT"},
          copy);
  WalHeader h;
  auto scan = ScanFile(copy, &h);
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_EQ(h.page_size, 4096u);
  EXPECT_FALSE(h.big_endian());  // SQLite on x86 writes native (LE) sums
  EXPECT_EQ(scan->commits, 3u);
  EXPECT_GT(scan->frames, 3u);
  EXPECT_EQ(scan->end_offset,
            static_cast<int64_t>(kWalHeaderSize + scan->frames * (24 + 4096)));
  EXPECT_EQ(scan->end_offset, static_cast<int64_t>(ReadFile(copy).size()));
  // Table with a 5000-byte blob: root page 2 plus an overflow page.
  EXPECT_EQ(scan->commit, 3u);
  EXPECT_TRUE(scan->pages.count(1));
  EXPECT_TRUE(scan->pages.count(2));
}

TEST(WalTest, ResumesFromAnOffsetWithTheSavedChecksum) {
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  MakeWal(dir,
          {"CREATE TABLE t(x)", "INSERT INTO t VALUES(1)",
           "INSERT INTO t VALUES(2)"},
          copy);
  auto f = base::File::Open(copy, O_RDONLY);
  ASSERT_TRUE(f.ok());
  auto h = ReadWalHeader(*f);
  ASSERT_TRUE(h.ok());
  const int64_t frame = 24 + 4096;
  // First frame only (the CREATE TABLE commit may span frames: find it).
  auto all = ScanWal(*f, *h, kWalHeaderSize, h->checksum);
  ASSERT_TRUE(all.ok());
  // Scan the first commit by truncating a copy after it.
  std::string wal = ReadFile(copy);
  for (int64_t end = kWalHeaderSize + frame;
       end <= static_cast<int64_t>(wal.size()); end += frame) {
    std::string part = dir.Join("part-wal");
    ASSERT_TRUE(base::WriteFileAtomic(part, wal.substr(0, end)).ok());
    auto pf = base::File::Open(part, O_RDONLY);
    auto first = ScanWal(*pf, *h, kWalHeaderSize, h->checksum);
    ASSERT_TRUE(first.ok());
    if (first->empty()) continue;
    // Resume from the first commit with its checksum: the rest matches.
    auto rest = ScanWal(*f, *h, first->end_offset, first->checksum);
    ASSERT_TRUE(rest.ok());
    EXPECT_EQ(rest->end_offset, all->end_offset);
    EXPECT_EQ(rest->commits + first->commits, all->commits);
    // A wrong seed does not chain: nothing is found.
    auto wrong = ScanWal(*f, *h, first->end_offset, WalChecksum{1, 2});
    ASSERT_TRUE(wrong.ok());
    EXPECT_TRUE(wrong->empty());
    return;
  }
  FAIL() << "no commit found";
}

// max-sync-wal-bytes: a bounded scan ends at the first commit at or past the
// bound (never inside a transaction, at least one whole transaction), and
// scans resumed from where it stopped add up to the unbounded scan.
TEST(WalTest, BoundedScansStopAtCommitsAndAddUp) {
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  std::vector<std::string> txs = {"CREATE TABLE t(x)"};
  for (int i = 0; i < 20; ++i) {
    txs.push_back(
        "BEGIN; INSERT INTO t VALUES(randomblob(3000)); "
        "INSERT INTO t VALUES(randomblob(3000)); COMMIT");
  }
  MakeWal(dir, txs, copy);
  auto f = base::File::Open(copy, O_RDONLY);
  ASSERT_TRUE(f.ok());
  auto h = ReadWalHeader(*f);
  ASSERT_TRUE(h.ok());
  auto all = ScanWal(*f, *h, kWalHeaderSize, h->checksum);
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->limited);
  const int64_t frame = 24 + 4096;
  // A bound of one byte still takes a whole (first) transaction.
  auto one = ScanWal(*f, *h, kWalHeaderSize, h->checksum, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->commits, 1u);
  EXPECT_TRUE(one->limited);
  int64_t offset = kWalHeaderSize;
  WalChecksum ck = h->checksum;
  uint64_t commits = 0, frames = 0;
  int parts = 0;
  for (;;) {
    auto part = ScanWal(*f, *h, offset, ck, 4 * frame);
    ASSERT_TRUE(part.ok());
    if (part->empty()) break;
    ++parts;
    // Stops at the first commit at or past the bound: without its last
    // transaction the part would be under it.
    if (part->limited) {
      EXPECT_GE(part->end_offset - offset, 4 * frame);
    }
    commits += part->commits;
    frames += part->frames;
    offset = part->end_offset;
    ck = part->checksum;
  }
  EXPECT_GT(parts, 3);
  EXPECT_EQ(offset, all->end_offset);
  EXPECT_EQ(commits, all->commits);
  EXPECT_EQ(frames, all->frames);
}

TEST(WalTest, PartialTransactionIsNotReported) {
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  std::string wal = MakeWal(
      dir, {"CREATE TABLE t(x)", "INSERT INTO t VALUES(randomblob(20000))"},
      copy);
  // Drop the last frame (the commit frame of the second transaction).
  const size_t frame = 24 + 4096;
  ASSERT_TRUE(
      base::WriteFileAtomic(copy, wal.substr(0, wal.size() - frame)).ok());
  auto scan = ScanFile(copy);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->commits, 1u);
  // Corrupt a byte inside the second transaction's first frame instead.
  std::string bad = wal;
  size_t second_start = scan->end_offset;
  bad[second_start + 24 + 100] ^= 0x55;
  ASSERT_TRUE(base::WriteFileAtomic(copy, bad).ok());
  auto scan2 = ScanFile(copy);
  ASSERT_TRUE(scan2.ok());
  EXPECT_EQ(scan2->commits, 1u);
  EXPECT_EQ(scan2->end_offset, static_cast<int64_t>(second_start));
}

// Rewrites a little-endian-checksum WAL as a big-endian one (as SQLite on a
// big-endian host would write it) and checks the reader follows it.
TEST(WalTest, BigEndianChecksums) {
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  std::string wal =
      MakeWal(dir, {"CREATE TABLE t(x)", "INSERT INTO t VALUES(1)"}, copy);
  auto* p = reinterpret_cast<uint8_t*>(wal.data());
  base::PutBE32(p, kWalMagicBE);
  WalChecksum ck = ComputeWalChecksum(true, {p, 24}, {});
  base::PutBE32(p + 24, ck.s0);
  base::PutBE32(p + 28, ck.s1);
  const size_t frame = 24 + 4096;
  for (size_t off = kWalHeaderSize; off + frame <= wal.size(); off += frame) {
    ck = ComputeWalChecksum(true, {p + off, 8}, ck);
    ck = ComputeWalChecksum(true, {p + off + 24, 4096}, ck);
    base::PutBE32(p + off + 16, ck.s0);
    base::PutBE32(p + off + 20, ck.s1);
  }
  ASSERT_TRUE(base::WriteFileAtomic(copy, wal).ok());
  WalHeader h;
  auto scan = ScanFile(copy, &h);
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_TRUE(h.big_endian());
  EXPECT_EQ(scan->commits, 2u);
  EXPECT_EQ(scan->end_offset, static_cast<int64_t>(wal.size()));
}

TEST(WalTest, RejectsBadHeader) {
  uint8_t buf[32] = {};
  auto h = WalHeader::Decode(buf);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("magic"), std::string::npos);
  TempDir dir;
  std::string copy = dir.Join("copy-wal");
  std::string wal = MakeWal(dir, {"CREATE TABLE t(x)"}, copy);
  wal[20] ^= 1;  // salt changed without fixing the header checksum
  auto h2 = WalHeader::Decode(
      {reinterpret_cast<const uint8_t*>(wal.data()), kWalHeaderSize});
  ASSERT_FALSE(h2.ok());
  EXPECT_NE(h2.status().message().find("checksum"), std::string::npos);
}

// Every page of the image read from the WAL copy (newest frame) or the
// database file equals the database SQLite checkpointed on close; a frame
// that no longer matches the scan is kUnavailable naming the WAL.
TEST(ImagePageReaderTest, ReadsWalFramesElseTheDatabaseFile) {
  TempDir dir;
  const std::string copy = dir.Join("copy-wal");
  MakeWal(dir,
          {"CREATE TABLE t(x)", "INSERT INTO t VALUES(randomblob(9000))",
           "UPDATE t SET x = randomblob(9000)"},
          copy);
  WalHeader h;
  auto scan = ScanFile(copy, &h);
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  const std::string db_bytes = ReadFile(dir.Join("w.db"));
  ASSERT_EQ(db_bytes.size(), size_t{scan->commit} * h.page_size);
  auto db = base::File::Open(dir.Join("w.db"), O_RDONLY);
  auto wal = base::File::Open(copy, O_RDONLY);
  ASSERT_TRUE(db.ok() && wal.ok());
  // Only page 1 from the database file: the image still matches.
  std::map<Pgno, int64_t> wal_pages = scan->pages;
  wal_pages.erase(1);
  ImagePageReader reader(*db, &*wal, &h, wal_pages, h.page_size);
  for (Pgno pgno = 1; pgno <= scan->commit; ++pgno) {
    auto page = reader.Read(pgno);
    ASSERT_TRUE(page.ok()) << page.status().message();
    EXPECT_EQ(std::string(page->begin(), page->end()),
              db_bytes.substr(size_t{pgno - 1} * h.page_size, h.page_size))
        << "page " << pgno;
  }
  // A frame whose salt changed (the WAL restarted since the scan).
  WalHeader other = h;
  other.salt1 ^= 1;
  ImagePageReader stale(*db, &*wal, &other, wal_pages, h.page_size);
  auto page = stale.Read(wal_pages.begin()->first);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), base::Code::kUnavailable);
  EXPECT_NE(page.status().message().find(copy), std::string::npos)
      << page.status().message();
}

TEST(DbHeaderTest, ReadsPageSizeAndCount) {
  TempDir dir;
  std::string db = dir.Join("h.db");
  ASSERT_EQ(testing::ExecSql(db,
                             "PRAGMA page_size=8192; CREATE TABLE t(x); "
                             "INSERT INTO t VALUES(randomblob(30000));"),
            "");
  auto f = base::File::Open(db, O_RDONLY);
  ASSERT_TRUE(f.ok());
  auto h = ReadDbHeader(*f);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->page_size, 8192u);
  EXPECT_EQ(static_cast<int64_t>(h->page_count) * 8192, *f->Size());
  EXPECT_FALSE(h->wal_mode());
}

}  // namespace
}  // namespace litekeep::sqlite
