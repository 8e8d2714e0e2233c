// ltx::DecodePageFrame, the single-frame decoding range reads use: every
// frame of a file, block and legacy encodings, decodes to the page the
// streaming decoder gives, and the decoder's size limits and page checks
// hold for a frame read on its own.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "ltx/frame.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using testutil::AsBytes;

std::span<const uint8_t> FrameOf(const std::string& file,
                                 const PageIndexEntry& e) {
  return AsBytes(file).subspan(e.offset, e.size);
}

TEST(LtxFrameTest, EveryFrameDecodesLikeTheStreamingDecoder) {
  std::mt19937_64 rng(7);
  testutil::RawLtx raw(testutil::MakeHeader(1024, 4, 1, 1, true));
  std::vector<std::string> pages;
  for (int i = 0; i < 4; ++i)
    pages.push_back(
        testutil::MakePage(rng, 1024, static_cast<testutil::PageKind>(i)));
  raw.AddBlockPage(1, pages[0]);
  raw.AddLegacyPage(2, pages[1]);
  raw.AddBlockPage(3, pages[2]);
  raw.AddLegacyPage(4, pages[3], false);
  const std::string file = raw.Build();
  auto decoded = testutil::DecodeBytes(file, "f.ltx");
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
  ASSERT_EQ(decoded.index.size(), 4u);
  std::vector<uint8_t> page(1024);
  for (size_t i = 0; i < 4; ++i) {
    const PageIndexEntry& e = decoded.index[i];
    Status s = DecodePageFrame(FrameOf(file, e), e.pgno, page, e.offset, "f");
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(std::string(page.begin(), page.end()), pages[i]) << e.pgno;
  }
  // The wrong page number, a cut frame, trailing bytes.
  const PageIndexEntry& e = decoded.index[0];
  Status s = DecodePageFrame(FrameOf(file, e), 2, page, e.offset, "f");
  EXPECT_NE(s.message().find("frame holds page 1"), std::string::npos)
      << s.message();
  s = DecodePageFrame(FrameOf(file, e).first(e.size - 1), 1, page, e.offset,
                      "f");
  EXPECT_EQ(s.code(), base::Code::kCorrupt);
  const PageIndexEntry& l = decoded.index[1];
  s = DecodePageFrame(AsBytes(file).subspan(l.offset, l.size + 1), 2, page,
                      l.offset, "f");
  EXPECT_EQ(s.code(), base::Code::kCorrupt);
  s = DecodePageFrame(FrameOf(file, l).first(l.size - 1), 2, page, l.offset,
                      "f");
  EXPECT_EQ(s.code(), base::Code::kCorrupt);
}

TEST(LtxFrameTest, SizeLimitOfTheDecoderHolds) {
  // A block frame whose size field claims more than any page can need.
  const uint32_t csize = static_cast<uint32_t>(MaxPagePayload(512)) + 1;
  std::vector<uint8_t> frame(kPageHeaderSize + 4 + csize, 0);
  base::PutBE32(frame.data(), 1);
  base::PutBE16(frame.data() + 4, kPageFlagSize);
  base::PutBE32(frame.data() + kPageHeaderSize, csize);
  std::vector<uint8_t> page(512);
  Status s = DecodePageFrame(frame, 1, page, 100, "f.ltx");
  ASSERT_EQ(s.code(), base::Code::kCorrupt);
  EXPECT_NE(s.message().find("f.ltx: offset 106: compressed size: page 1: "
                             "compressed size 2049 is impossible"),
            std::string::npos)
      << s.message();
  // Unknown flags.
  base::PutBE16(frame.data() + 4, 0x0004);
  s = DecodePageFrame(frame, 1, page, 100, "f.ltx");
  EXPECT_NE(s.message().find("unknown page flags"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace litekeep::ltx
