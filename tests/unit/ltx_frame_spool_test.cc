// FrameSpool (the page frames behind the LTX page index) and the encoder and
// decoder on files with more pages than the spool keeps in memory: the
// frames move to an unlinked temporary file and the files stay exact.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "ltx/encoder.h"
#include "ltx/frame_spool.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using testutil::DecodeBytes;
using testutil::Decoded;
using testutil::EncodeFile;
using testutil::MakeHeader;
using testutil::MakePage;
using testutil::Page;
using testutil::PageKind;

// Sets $TMPDIR for the test's lifetime.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const std::string& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    ::setenv("TMPDIR", dir.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      ::setenv("TMPDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }

 private:
  std::optional<std::string> old_;
};

bool DirEmpty(const std::string& dir) {
  return std::filesystem::directory_iterator(dir) ==
         std::filesystem::directory_iterator();
}

TEST(FrameSpoolTest, FramesComeBackInOrderFromMemoryAndFile) {
  litekeep::testing::TempDir tmp;
  ScopedTmpdir env(tmp.path());
  FrameSpool spool(/*memory_frames=*/4);
  for (uint32_t i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(spool.Append({i * 2, i + 7}).ok());
  }
  EXPECT_TRUE(spool.spilled());
  EXPECT_EQ(spool.size(), 1000u);
  EXPECT_TRUE(DirEmpty(tmp.path())) << "the spool file is unlinked at once";
  for (int pass = 0; pass < 2; ++pass) {
    spool.Rewind();
    FrameSpool::Frame f;
    for (uint32_t i = 1; i <= 1000; ++i) {
      Result<bool> more = spool.Next(&f);
      ASSERT_TRUE(more.ok()) << more.status().message();
      ASSERT_TRUE(*more) << i;
      EXPECT_EQ(f.pgno, i * 2);
      EXPECT_EQ(f.size, i + 7);
    }
    Result<bool> end = spool.Next(&f);
    ASSERT_TRUE(end.ok());
    EXPECT_FALSE(*end);
  }
  spool.Clear();
  EXPECT_EQ(spool.size(), 0u);
  EXPECT_FALSE(spool.spilled());
}

TEST(FrameSpoolTest, FewFramesNeverTouchTheDisk) {
  FrameSpool spool(/*memory_frames=*/16);
  for (uint32_t i = 1; i <= 16; ++i) ASSERT_TRUE(spool.Append({i, 9}).ok());
  EXPECT_FALSE(spool.spilled());
}

TEST(FrameSpoolTest, UnwritableDirectoryIsAnErrorNamingIt) {
  ScopedTmpdir env("/nonexistent-litekeep-dir");
  FrameSpool spool(/*memory_frames=*/2);
  ASSERT_TRUE(spool.Append({1, 9}).ok());
  ASSERT_TRUE(spool.Append({2, 9}).ok());
  Status s = spool.Append({3, 9});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-litekeep-dir"), std::string::npos)
      << s.message();
}

// A snapshot of more pages than the spool keeps in memory, small pages so
// the test is quick.
std::vector<Page> ManyPages(Pgno n) {
  std::mt19937_64 rng(12);
  std::vector<Page> pages;
  const std::string zero(512, '\0');
  for (Pgno p = 1; p <= n; ++p) {
    pages.emplace_back(
        p, p % 97 == 0 ? MakePage(rng, 512, PageKind::kRandom) : zero);
  }
  return pages;
}

TEST(FrameSpoolTest, EncoderAndDecoderPastTheMemoryLimit) {
  litekeep::testing::TempDir tmp;
  ScopedTmpdir env(tmp.path());
  const Pgno n = FrameSpool::kDefaultMemoryFrames + 5000;
  const std::vector<Page> pages = ManyPages(n);
  Status st;
  const std::string file =
      EncodeFile(MakeHeader(512, n, 1, 3, true), pages, 0, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(DirEmpty(tmp.path()));
  Decoded d = DecodeBytes(file, "0000000000000001-0000000000000003.ltx");
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  ASSERT_EQ(d.pages.size(), pages.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    ASSERT_EQ(d.pages[i], pages[i]) << i;
  }
  // The index describes contiguous frames from the header to the marker.
  ASSERT_EQ(d.index.size(), pages.size());
  uint64_t offset = kHeaderSize;
  for (size_t i = 0; i < d.index.size(); ++i) {
    ASSERT_EQ(d.index[i].pgno, pages[i].first);
    ASSERT_EQ(d.index[i].offset, offset) << i;
    offset += d.index[i].size;
  }
  EXPECT_TRUE(DirEmpty(tmp.path()));
}

TEST(FrameSpoolTest, DecoderFindsAWrongIndexEntryPastTheMemoryLimit) {
  const Pgno n = FrameSpool::kDefaultMemoryFrames + 100;
  Status st;
  std::string file =
      EncodeFile(MakeHeader(512, n, 1, 3, true), ManyPages(n), 0, &st);
  ASSERT_TRUE(st.ok()) << st.message();
  // The last entry's pgno, n, becomes n + 1 (the same varint length).
  const uint64_t index_size = base::GetBE64(
      reinterpret_cast<const uint8_t*>(file.data()) + file.size() - 24);
  size_t pos = file.size() - 24 - index_size;
  size_t last = 0;
  for (;;) {
    std::span<const uint8_t> rest(
        reinterpret_cast<const uint8_t*>(file.data()) + pos, file.size() - pos);
    auto pgno = base::GetUvarint(rest);
    ASSERT_TRUE(pgno.has_value());
    if (pgno->value == 0) break;
    last = pos;
    pos += pgno->length;
    for (int k = 0; k < 2; ++k) {
      auto v = base::GetUvarint(std::span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(file.data()) + pos,
          file.size() - pos));
      ASSERT_TRUE(v.has_value());
      pos += v->length;
    }
  }
  std::string wrong;
  base::PutUvarint(wrong, n + 1);
  std::string right;
  base::PutUvarint(right, n);
  ASSERT_EQ(wrong.size(), right.size());
  ASSERT_EQ(file.compare(last, right.size(), right), 0);
  file.replace(last, wrong.size(), wrong);
  Decoded d = DecodeBytes(file, "0000000000000001-0000000000000003.ltx");
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("page " + std::to_string(n) +
                                    " has no page index entry"),
            std::string::npos)
      << d.status.message();
}

}  // namespace
}  // namespace litekeep::ltx
