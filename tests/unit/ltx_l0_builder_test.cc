// ltx::L0Builder, shared by the replicator and the VFS's write mode: the L0
// header rules (NoChecksum, min = max = TXID) and the lock page left out,
// checked by decoding the file it writes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ltx/l0_builder.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

TEST(L0BuilderTest, WritesOneTransactionWithoutTheLockPage) {
  const Pgno lock = LockPgno(512);
  const Header h = L0Header(7, 512, lock + 1, 1718100000000);
  EXPECT_TRUE(h.NoChecksum());
  EXPECT_EQ(h.min_txid, 7u);
  EXPECT_EQ(h.max_txid, 7u);
  std::string out;
  base::StringWriter writer(&out);
  L0Builder builder(&writer);
  ASSERT_TRUE(builder.Begin(h).ok());
  std::vector<uint8_t> page(512, 0xab);
  for (Pgno p : {Pgno{1}, lock, lock + 1}) {
    Status s = builder.AddPage(p, page);
    ASSERT_TRUE(s.ok()) << p << ": " << s.message();
  }
  ASSERT_TRUE(builder.Finish().ok());
  EXPECT_EQ(builder.pages(), 2u);
  auto d = testutil::DecodeBytes(out, "l0.ltx");
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  EXPECT_EQ(d.header.commit, lock + 1);
  EXPECT_EQ(d.trailer.post_apply_checksum, 0u);
  ASSERT_EQ(d.pages.size(), 2u);
  EXPECT_EQ(d.pages[0].first, 1u);
  EXPECT_EQ(d.pages[1].first, lock + 1);
  EXPECT_EQ(d.pages[1].second, std::string(512, '\xab'));
}

}  // namespace
}  // namespace litekeep::ltx
