// Files our Encoder writes are checked by an independent reader,
// ../shared/tools/ltx_inspect.py: it must print "ok" for each, and applying
// our snapshot + incremental with it must give the database we expect. The
// inspector lives outside this repository: without it these tests skip.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/io.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using testing::ReadFile;
using testing::Sha256Hex;
using testing::TempDir;
using testutil::EncodeFile;
using testutil::MakeHeader;
using testutil::MakePage;
using testutil::Page;
using testutil::PageKind;
using testutil::RawLtx;

std::string Inspector() { return litekeep::testing::LtxInspector(); }

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Writes file under its replica name in a subdirectory per tag (the oracle
// then also checks that the name matches the header) and expects
// ltx_inspect.py to accept it.
std::string CheckWithOracle(const TempDir& dir, const Header& h,
                            const std::string& file, const std::string& tag) {
  const std::string sub = dir.Join(tag);
  EXPECT_TRUE(base::MakeDirs(sub).ok());
  const std::string path = sub + "/" + FormatFileName(h.min_txid, h.max_txid);
  WriteFile(path, file);
  auto r = litekeep::testing::Run({"python3", Inspector(), "--quiet", path});
  EXPECT_EQ(r.exit_code, 0) << tag << ": " << r.out << r.err;
  EXPECT_EQ(r.out, "ok\n") << tag;
  return path;
}

std::string ApplyPages(std::string db, const Header& h,
                       const std::vector<Page>& pages) {
  db.resize(static_cast<size_t>(h.commit) * h.page_size, '\0');
  for (const Page& p : pages) {
    db.replace(static_cast<size_t>(p.first - 1) * h.page_size, h.page_size,
               p.second);
  }
  return db;
}

TEST(LtxOracleTest, EncodedFilesAreValid) {
  LK_SKIP_WITHOUT_LTX_INSPECTOR();
  TempDir dir;
  int checked = 0;
  for (uint32_t ps : {512u, 4096u, 65536u}) {
    for (bool no_checksum : {true, false}) {
      // Each case once per page encoding: the current block encoding, and
      // the LZ4 frames Litestream 0.5.0-0.5.15 read (flag 0).
      const PageEncoding encoding =
          no_checksum ? PageEncoding::kBlock : PageEncoding::kLz4Frame;
      SCOPED_TRACE(std::to_string(ps) + (no_checksum ? " nochecksum" : "") +
                   " " + std::string(PageEncodingName(encoding)));
      std::mt19937_64 rng(ps + no_checksum);
      const uint32_t commit = 6;
      std::vector<Page> snap;
      for (Pgno p = 1; p <= commit; ++p) {
        snap.emplace_back(p, MakePage(rng, ps, static_cast<PageKind>(p % 4)));
      }
      Header sh = MakeHeader(ps, commit, 1, 1, no_checksum);
      const uint64_t snap_sum = testutil::DbChecksum(ps, snap);
      base::Status s;
      std::string sfile =
          EncodeFile(sh, snap, no_checksum ? 0 : snap_sum, &s, encoding);
      ASSERT_TRUE(s.ok()) << s.message();
      std::string spath = CheckWithOracle(
          dir, sh, sfile,
          "snap" + std::to_string(ps) + (no_checksum ? "n" : "c"));

      // Incremental 2..3 changing pages 2 and 5 and growing to 8 pages.
      std::vector<Page> inc = {{2, MakePage(rng, ps, PageKind::kRandom)},
                               {5, MakePage(rng, ps, PageKind::kText)},
                               {8, MakePage(rng, ps, PageKind::kMixed)}};
      std::string base_db = ApplyPages("", sh, snap);
      Header ih =
          MakeHeader(ps, 8, 2, 3, no_checksum, no_checksum ? 0 : snap_sum);
      std::string want_db = ApplyPages(base_db, ih, inc);
      std::vector<Page> result;
      for (Pgno p = 1; p <= 8; ++p) {
        result.emplace_back(
            p, want_db.substr(static_cast<size_t>(p - 1) * ps, ps));
      }
      const uint64_t post = no_checksum ? 0 : testutil::DbChecksum(ps, result);
      std::string ifile = EncodeFile(ih, inc, post, &s, encoding);
      ASSERT_TRUE(s.ok()) << s.message();
      std::string ipath = CheckWithOracle(
          dir, ih, ifile,
          "inc" + std::to_string(ps) + (no_checksum ? "n" : "c"));
      checked += 2;

      // Apply with the oracle: snapshot to db1, incremental on top to db2.
      const std::string db1 = dir.Join("db1"), db2 = dir.Join("db2");
      auto r = litekeep::testing::Run(
          {"python3", Inspector(), "--quiet", "--apply", "-", db1, spath});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_EQ(Sha256Hex(ReadFile(db1)), Sha256Hex(base_db));
      r = litekeep::testing::Run(
          {"python3", Inspector(), "--quiet", "--apply", db1, db2, ipath});
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_EQ(Sha256Hex(ReadFile(db2)), Sha256Hex(want_db));
    }
  }
  EXPECT_EQ(checked, 12);
}

TEST(LtxOracleTest, EmptyAndReencodedAndLegacyFilesAreValid) {
  LK_SKIP_WITHOUT_LTX_INSPECTOR();
  TempDir dir;
  base::Status s;
  Header eh = MakeHeader(4096, 27, 3, 3, true);
  CheckWithOracle(dir, eh, EncodeFile(eh, {}, 0, &s), "empty");
  ASSERT_TRUE(s.ok());
  Header zh = MakeHeader(4096, 0, 4, 4, false, kChecksumFlag);
  CheckWithOracle(dir, zh, EncodeFile(zh, {}, kChecksumFlag, &s), "commit0");
  ASSERT_TRUE(s.ok()) << s.message();

  for (const char* name : {"snapshot_small", "incremental_l0", "page_size_512",
                           "snapshot_large"}) {
    std::string file = ReadFile(testutil::GoldenDir() + "/" + name + ".ltx");
    auto d = testutil::DecodeBytes(file, name);
    ASSERT_TRUE(d.status.ok()) << d.status.message();
    std::string again =
        EncodeFile(d.header, d.pages, d.trailer.post_apply_checksum, &s);
    ASSERT_TRUE(s.ok()) << s.message();
    CheckWithOracle(dir, d.header, again, name);
  }

  // The test-side legacy builder agrees with the oracle's frame decoder.
  std::mt19937_64 rng(3);
  RawLtx raw(MakeHeader(4096, 3, 1, 1, true));
  for (Pgno p = 1; p <= 3; ++p) {
    raw.AddLegacyPage(p, MakePage(rng, 4096, static_cast<PageKind>(p)));
  }
  CheckWithOracle(dir, raw.header, raw.Build(), "legacy");
}

}  // namespace
}  // namespace litekeep::ltx
