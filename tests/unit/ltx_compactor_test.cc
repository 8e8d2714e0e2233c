// ltx::Compact: merging a chain of LTX files gives the same database bytes
// as applying the files one after the other (including shrinks and
// regrowth), snapshots stay snapshots and pass the independent reader
// (ltx_inspect.py), and bad chains or corrupt inputs are refused naming the
// file.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ltx/compactor.h"
#include "ltx/file_name.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using testutil::AsBytes;
using testutil::DecodeBytes;
using testutil::EncodeFile;
using testutil::MakeHeader;
using testutil::MakePage;
using testutil::Page;
using testutil::PageKind;

constexpr uint32_t kPageSize = 512;

// Applies a decoded LTX file to a database image the way the restore
// executor does: pages written at (pgno-1)*page_size (a write past the end
// leaves zeros in between), then the image is cut to commit pages.
void Apply(std::string* db, const std::string& file) {
  auto d = DecodeBytes(file, "apply");
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  for (const auto& [pgno, page] : d.pages) {
    const size_t off = static_cast<size_t>(pgno - 1) * d.header.page_size;
    if (db->size() < off + page.size()) db->resize(off + page.size(), '\0');
    db->replace(off, page.size(), page);
  }
  db->resize(static_cast<size_t>(d.header.commit) * d.header.page_size, '\0');
}

std::string Merge(const std::vector<std::string>& files, Status* status,
                  CompactResult* result = nullptr) {
  std::vector<base::SpanReader> readers;
  readers.reserve(files.size());
  for (const auto& f : files) readers.emplace_back(AsBytes(f));
  std::vector<CompactInput> inputs;
  for (size_t i = 0; i < files.size(); ++i) {
    inputs.push_back({&readers[i], "input" + std::to_string(i)});
  }
  std::string out;
  base::StringWriter writer(&out);
  auto r = Compact(inputs, &writer);
  *status = r.status();
  if (r.ok() && result != nullptr) *result = *r;
  return out;
}

// A random history: a snapshot of `pages` pages, then incremental files
// that change random pages, grow, and (sometimes) shrink the database.
struct History {
  std::vector<std::string> files;  // files[0] is the snapshot (TXID 1)
};

History MakeHistory(uint64_t seed, int n, bool shrink) {
  std::mt19937_64 rng(seed);
  History h;
  uint32_t commit = 20;
  std::vector<Page> pages;
  for (Pgno p = 1; p <= commit; ++p) {
    pages.emplace_back(p, MakePage(rng, kPageSize, PageKind::kMixed));
  }
  Status s;
  h.files.push_back(
      EncodeFile(MakeHeader(kPageSize, commit, 1, 1, true), pages, 0, &s));
  EXPECT_TRUE(s.ok()) << s.message();
  for (int i = 0; i < n; ++i) {
    const TxId txid = static_cast<TxId>(i) + 2;
    if (shrink && rng() % 4 == 0) {
      const uint32_t cut = 1 + static_cast<uint32_t>(rng() % 8);
      commit = commit > cut + 3 ? commit - cut : 3;
    } else if (rng() % 3 == 0) {
      commit += 1 + rng() % 6;
    }
    std::vector<Page> changed;
    for (Pgno p = 1; p <= commit; ++p) {
      if (rng() % 5 == 0) {
        changed.emplace_back(p, MakePage(rng, kPageSize, PageKind::kMixed));
      }
    }
    // Page 1 always changes (SQLite's header) so no file is empty.
    if (changed.empty() || changed.front().first != 1) {
      changed.insert(changed.begin(),
                     Page(1, MakePage(rng, kPageSize, PageKind::kText)));
    }
    h.files.push_back(EncodeFile(
        MakeHeader(kPageSize, commit, txid, txid, true), changed, 0, &s));
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return h;
}

std::string ApplyAll(const std::vector<std::string>& files) {
  std::string db;
  for (const auto& f : files) Apply(&db, f);
  return db;
}

TEST(LtxCompactorTest, MergedIncrementalsEqualSequentialApplication) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History h = MakeHistory(seed, 30, /*shrink=*/seed % 2 == 0);
    // Merge files 5..25 (incrementals only) and apply on the state at 4.
    std::vector<std::string> prefix(h.files.begin(), h.files.begin() + 4);
    std::vector<std::string> middle(h.files.begin() + 4, h.files.begin() + 25);
    std::vector<std::string> suffix(h.files.begin() + 25, h.files.end());
    Status s;
    CompactResult r;
    std::string merged = Merge(middle, &s, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(r.header.min_txid, 5u);
    EXPECT_EQ(r.header.max_txid, 25u);
    EXPECT_TRUE(r.header.NoChecksum());
    EXPECT_EQ(r.bytes, merged.size());
    auto decoded = DecodeBytes(merged, FormatFileName(5, 25));
    ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
    // The newest input's timestamp.
    EXPECT_EQ(decoded.header.timestamp_ms,
              MakeHeader(kPageSize, 1, 25, 25, true).timestamp_ms);

    std::string want = ApplyAll(prefix);
    for (const auto& f : middle) Apply(&want, f);
    std::string got = ApplyAll(prefix);
    Apply(&got, merged);
    ASSERT_EQ(got, want);
    for (const auto& f : suffix) {
      Apply(&want, f);
      Apply(&got, f);
    }
    EXPECT_EQ(got, want);
  }
}

TEST(LtxCompactorTest,
     SnapshotInputGivesASnapshotThatTheIndependentReaderAccepts) {
  testing::TempDir dir;
  const std::string inspector = testing::LtxInspector();
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History h = MakeHistory(seed, 40, /*shrink=*/true);
    Status s;
    CompactResult r;
    std::string merged = Merge(h.files, &s, &r);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(r.header.IsSnapshot());
    EXPECT_EQ(r.header.max_txid, 41u);
    auto decoded = DecodeBytes(merged, FormatFileName(1, 41));
    ASSERT_TRUE(decoded.status.ok()) << decoded.status.message();
    ASSERT_EQ(decoded.pages.size(), decoded.header.commit);
    for (size_t i = 0; i < decoded.pages.size(); ++i) {
      EXPECT_EQ(decoded.pages[i].first, i + 1);
    }
    EXPECT_EQ(ApplyAll({merged}), ApplyAll(h.files));

    if (!inspector.empty()) {
      const std::string path = dir.Join(FormatFileName(1, 41));
      std::ofstream(path, std::ios::binary) << merged;
      auto check = testing::Run({"python3", inspector, "--quiet", path});
      EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    }

    // A snapshot folded again with later files (how L9 snapshots grow).
    std::string again = Merge({merged}, &s);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(ApplyAll({again}), ApplyAll(h.files));
  }
  // Everything else ran; the independent reader could not.
  if (inspector.empty()) GTEST_SKIP() << testing::kNoLtxInspector;
}

TEST(LtxCompactorTest, OverlappingChainIsAllowed) {
  History h = MakeHistory(7, 12, true);
  Status s;
  // Compacted 2..8 and 5..10 overlap; the chain 1, [2-8], [5-10], 11..13
  // still restores state 13.
  std::string a = Merge(
      std::vector<std::string>(h.files.begin() + 1, h.files.begin() + 8), &s);
  ASSERT_TRUE(s.ok()) << s.message();
  std::string b = Merge(
      std::vector<std::string>(h.files.begin() + 4, h.files.begin() + 10), &s);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::string> chain = {h.files[0], a, b};
  chain.insert(chain.end(), h.files.begin() + 10, h.files.end());
  std::string merged = Merge(chain, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ApplyAll({merged}), ApplyAll(h.files));
}

TEST(LtxCompactorTest, RefusesGapsOrderAndPageSizeMismatch) {
  History h = MakeHistory(3, 6, false);
  Status s;
  Merge({h.files[1], h.files[3]}, &s);  // TXID 2, then 4: gap
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("gap"), std::string::npos) << s.message();
  Merge({h.files[3], h.files[2]}, &s);  // out of order
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  std::mt19937_64 rng(1);
  std::string other =
      EncodeFile(MakeHeader(1024, 3, 3, 3, true),
                 {Page(1, MakePage(rng, 1024, PageKind::kText))}, 0, &s);
  ASSERT_TRUE(s.ok());
  Merge({h.files[1], other}, &s);
  EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("page size"), std::string::npos) << s.message();
  Merge({}, &s);
  EXPECT_FALSE(s.ok());
}

TEST(LtxCompactorTest, CorruptInputIsNamed) {
  History h = MakeHistory(5, 4, false);
  std::string bad = h.files[2];
  bad[bad.size() - 3] ^= 0x55;  // file checksum
  Status s;
  Merge({h.files[1], bad, h.files[3]}, &s);
  EXPECT_EQ(s.code(), base::Code::kCorrupt);
  EXPECT_NE(s.message().find("input1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace litekeep::ltx
