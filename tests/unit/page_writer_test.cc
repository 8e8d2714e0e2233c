// Unit tests for restore::PageWriter: pages land at (pgno-1)*page_size
// whatever their order, consecutive pages share one write, and a change of
// page size needs a Flush.
#include "restore/page_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace litekeep::restore {
namespace {

constexpr uint32_t kPageSize = 512;

// Writes page pgno filled with the byte (pgno * 7).
void Put(PageWriter& w, Pgno pgno) {
  auto slot = w.Slot(kPageSize);
  ASSERT_TRUE(slot.ok()) << slot.status().ToString();
  std::fill(slot->begin(), slot->end(), static_cast<uint8_t>(pgno * 7));
  ASSERT_TRUE(w.Commit(pgno).ok());
}

std::string Expected(const std::vector<Pgno>& pgnos, Pgno max) {
  std::string want(size_t{max} * kPageSize, '\0');
  for (Pgno p : pgnos) {
    std::fill_n(want.begin() + (p - 1) * kPageSize, kPageSize,
                static_cast<char>(static_cast<uint8_t>(p * 7)));
  }
  return want;
}

TEST(PageWriterTest, RunsAndGapsLandAtTheirOffsets) {
  testing::TempDir dir;
  const std::string path = dir.Join("out.db");
  auto f = base::File::Open(path, O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(f.ok());
  // 4 pages per batch.
  std::vector<Pgno> pgnos;
  {
    PageWriter w(&*f, 4 * kPageSize);
    for (Pgno p = 1; p <= 10; ++p) pgnos.push_back(p);  // 3 writes
    for (Pgno p : {13, 14, 20, 22, 23, 24, 25, 26}) pgnos.push_back(p);  // 4
    for (Pgno p : pgnos) Put(w, p);
    w.Abandon();  // no open slot: no-op
    ASSERT_TRUE(w.Flush().ok());
    EXPECT_EQ(w.writes(), 7u);
    // Rewriting a page after a Flush (the next LTX file) overwrites it.
    Put(w, 3);
    auto slot = w.Slot(kPageSize);  // asked for, then abandoned
    ASSERT_TRUE(slot.ok());
    w.Abandon();
    ASSERT_TRUE(w.Flush().ok());
    EXPECT_EQ(w.writes(), 8u);
  }
  EXPECT_EQ(testing::ReadFile(path), Expected(pgnos, 26));
}

TEST(PageWriterTest, PageSizeChangeNeedsFlush) {
  testing::TempDir dir;
  auto f = base::File::Open(dir.Join("out.db"), O_RDWR | O_CREAT | O_TRUNC);
  ASSERT_TRUE(f.ok());
  PageWriter w(&*f);
  Put(w, 1);
  EXPECT_FALSE(w.Slot(kPageSize * 2).ok());
  ASSERT_TRUE(w.Flush().ok());
  auto slot = w.Slot(kPageSize * 2);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->size(), kPageSize * 2);
  EXPECT_FALSE(w.Slot(kPageSize * 2).ok());  // Slot twice without Commit
  EXPECT_TRUE(w.Commit(1).ok());
  EXPECT_TRUE(w.Flush().ok());
}

TEST(PageWriterTest, WriteErrorsAreReturned) {
  testing::TempDir dir;
  const std::string path = dir.Join("ro.db");
  { ASSERT_TRUE(base::File::Open(path, O_RDWR | O_CREAT).ok()); }
  auto f = base::File::Open(path, O_RDONLY);
  ASSERT_TRUE(f.ok());
  PageWriter w(&*f);
  Put(w, 1);
  base::Status s = w.Flush();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find(path), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace litekeep::restore
