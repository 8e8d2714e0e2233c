// LTX encoder/decoder: round trips over page sizes, checksum modes and page
// kinds; every decoder rule on hand-built files; encoder refusals; legacy
// LZ4-frame pages; file names.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/coding.h"
#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using testing::ReadFile;
using testutil::AsBytes;
using testutil::DecodeBytes;
using testutil::Decoded;
using testutil::EncodeFile;
using testutil::MakeHeader;
using testutil::MakePage;
using testutil::Page;
using testutil::PageKind;
using testutil::RawLtx;

std::vector<Page> MakePages(std::mt19937_64& rng, uint32_t page_size,
                            const std::vector<Pgno>& pgnos) {
  std::vector<Page> pages;
  const PageKind kinds[] = {PageKind::kRandom, PageKind::kZero, PageKind::kText,
                            PageKind::kMixed};
  for (size_t i = 0; i < pgnos.size(); ++i) {
    pages.emplace_back(pgnos[i], MakePage(rng, page_size, kinds[i % 4]));
  }
  return pages;
}

std::vector<Pgno> Range(Pgno first, Pgno last) {
  std::vector<Pgno> v;
  for (Pgno p = first; p <= last; ++p) v.push_back(p);
  return v;
}

void ExpectSamePages(const std::vector<Page>& got,
                     const std::vector<Page>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    EXPECT_TRUE(got[i].second == want[i].second) << "page " << want[i].first;
  }
}

struct RoundTripCase {
  uint32_t page_size;
  bool snapshot;
  bool no_checksum;
  PageEncoding encoding = PageEncoding::kBlock;
};

void PrintTo(const RoundTripCase& c, std::ostream* os) {
  *os << c.page_size << (c.snapshot ? " snapshot" : " incremental")
      << (c.no_checksum ? " nochecksum" : " checksum") << " "
      << PageEncodingName(c.encoding);
}

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, EncodeDecode) {
  const RoundTripCase c = GetParam();
  std::mt19937_64 rng(c.page_size * 7 + c.snapshot * 3 + c.no_checksum);
  const uint32_t commit = 9;
  std::vector<Page> pages =
      MakePages(rng, c.page_size,
                c.snapshot ? Range(1, commit) : std::vector<Pgno>{2, 3, 7, 9});
  uint64_t pre = c.snapshot || c.no_checksum ? 0 : 0x8000000012345678ULL;
  Header h = MakeHeader(c.page_size, commit, c.snapshot ? 1 : 5,
                        c.snapshot ? 4 : 6, c.no_checksum, pre);
  // For a snapshot the post-apply checksum is the checksum of its pages;
  // for an incremental file any flagged value is acceptable to the format.
  uint64_t post = c.no_checksum ? 0
                  : c.snapshot  ? testutil::DbChecksum(c.page_size, pages)
                                : 0x80000000deadbeefULL;
  base::Status s;
  std::string file = EncodeFile(h, pages, post, &s, c.encoding);
  ASSERT_TRUE(s.ok()) << s.message();
  Decoded d = DecodeBytes(file, FormatFileName(h.min_txid, h.max_txid));
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  EXPECT_EQ(d.header.flags, h.flags);
  EXPECT_EQ(d.header.page_size, h.page_size);
  EXPECT_EQ(d.header.commit, h.commit);
  EXPECT_EQ(d.header.min_txid, h.min_txid);
  EXPECT_EQ(d.header.max_txid, h.max_txid);
  EXPECT_EQ(d.header.timestamp_ms, h.timestamp_ms);
  EXPECT_EQ(d.header.pre_apply_checksum, h.pre_apply_checksum);
  EXPECT_EQ(d.header.wal_offset, h.wal_offset);
  EXPECT_EQ(d.header.wal_size, h.wal_size);
  EXPECT_EQ(d.header.wal_salt1, h.wal_salt1);
  EXPECT_EQ(d.header.wal_salt2, h.wal_salt2);
  EXPECT_EQ(d.trailer.post_apply_checksum, post);
  ExpectSamePages(d.pages, pages);
  // The incompressible page is stored longer than the page.
  EXPECT_GT(d.index[0].size, c.page_size);
  // Every frame carries the encoding's page flags (0: an LZ4 frame, whose
  // magic follows the page header).
  for (const PageIndexEntry& e : d.index) {
    const auto* frame =
        reinterpret_cast<const uint8_t*>(file.data()) + e.offset;
    if (c.encoding == PageEncoding::kBlock) {
      EXPECT_EQ(base::GetBE16(frame + 4), kPageFlagSize);
    } else {
      EXPECT_EQ(base::GetBE16(frame + 4), 0);
      EXPECT_EQ(base::GetLE32(frame + kPageHeaderSize), 0x184D2204u);
    }
  }

  auto tail = DecodePageIndexFromTail(AsBytes(file), file.size(), "x");
  ASSERT_TRUE(tail.ok()) << tail.status().message();
  ASSERT_EQ(tail->size(), d.index.size());
  for (size_t i = 0; i < tail->size(); ++i) {
    EXPECT_EQ((*tail)[i].offset, d.index[i].offset);
    EXPECT_EQ((*tail)[i].size, d.index[i].size);
  }

  // DecodeAll agrees and reports header and trailer.
  Header h2;
  Trailer t2;
  size_t n = 0;
  ASSERT_TRUE(DecodeAll(
                  AsBytes(file), "x", [&](Pgno, auto) { ++n; }, &h2, &t2)
                  .ok());
  EXPECT_EQ(n, pages.size());
  EXPECT_EQ(t2.file_checksum, d.trailer.file_checksum);
}

INSTANTIATE_TEST_SUITE_P(
    All, RoundTripTest,
    ::testing::Values(
        RoundTripCase{512, true, true}, RoundTripCase{512, false, false},
        RoundTripCase{4096, true, false}, RoundTripCase{4096, false, true},
        RoundTripCase{4096, true, true}, RoundTripCase{4096, false, false},
        RoundTripCase{65536, true, false}, RoundTripCase{65536, false, true},
        RoundTripCase{512, true, true, PageEncoding::kLz4Frame},
        RoundTripCase{4096, true, false, PageEncoding::kLz4Frame},
        RoundTripCase{4096, false, false, PageEncoding::kLz4Frame},
        RoundTripCase{65536, false, true, PageEncoding::kLz4Frame}),
    [](const auto& info) {
      return std::to_string(info.param.page_size) +
             (info.param.snapshot ? "_snapshot" : "_incremental") +
             (info.param.no_checksum ? "_nochecksum" : "_checksum") +
             (info.param.encoding == PageEncoding::kLz4Frame ? "_lz4frame"
                                                             : "");
    });

TEST(LtxCodecTest, AgeEncryptedFileIsNamedAsSuch) {
  std::string file = "age-encryption.org/v1\n-> X25519 abc\n";
  file.resize(200, 'x');
  Decoded d = DecodeBytes(file, "0000000000000001-0000000000000001.ltx");
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("age-encrypted"), std::string::npos)
      << d.status.message();
  EXPECT_NE(d.status.message().find("identities"), std::string::npos);
}

TEST(LtxCodecTest, PageEncodingNames) {
  for (PageEncoding e : {PageEncoding::kBlock, PageEncoding::kLz4Frame}) {
    auto parsed = ParsePageEncoding(PageEncodingName(e));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, e);
  }
  auto bad = ParsePageEncoding("lz4");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"lz4\""), std::string::npos)
      << bad.status().message();
}

TEST(LtxCodecTest, SnapshotSkipsLockPage) {
  const uint32_t ps = 65536;
  const Pgno lock = LockPgno(ps);  // 16385
  std::string zero(ps, '\0');
  Header h = MakeHeader(ps, lock + 1, 1, 1, true);
  std::string out;
  base::StringWriter w(&out);
  Encoder enc(&w);
  ASSERT_TRUE(enc.EncodeHeader(h).ok());
  for (Pgno p = 1; p <= lock + 1; ++p) {
    if (p == lock) {
      EXPECT_FALSE(enc.EncodePage(p, AsBytes(zero)).ok());
      continue;
    }
    ASSERT_TRUE(enc.EncodePage(p, AsBytes(zero)).ok()) << p;
  }
  ASSERT_TRUE(enc.Close(0).ok());
  Decoded d = DecodeBytes(out, "lock.ltx");
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  EXPECT_EQ(d.pages.size(), lock);
  EXPECT_EQ(d.pages.back().first, lock + 1);
}

TEST(LtxCodecTest, ReencodedGoldenFilesKeepPagesAndChecksum) {
  for (const char* name : {"snapshot_small", "snapshot_nochecksum",
                           "incremental_l0", "page_size_512", "empty_pages"}) {
    SCOPED_TRACE(name);
    std::string file = ReadFile(testutil::GoldenDir() + "/" + name + ".ltx");
    Decoded d = DecodeBytes(file, name);
    ASSERT_TRUE(d.status.ok()) << d.status.message();
    base::Status s;
    std::string again =
        EncodeFile(d.header, d.pages, d.trailer.post_apply_checksum, &s);
    ASSERT_TRUE(s.ok()) << s.message();
    Decoded d2 = DecodeBytes(again, name);
    ASSERT_TRUE(d2.status.ok()) << d2.status.message();
    ExpectSamePages(d2.pages, d.pages);
    EXPECT_EQ(d2.trailer.post_apply_checksum, d.trailer.post_apply_checksum);
    EXPECT_EQ(d2.header.min_txid, d.header.min_txid);
    EXPECT_EQ(d2.header.commit, d.header.commit);
    // Header bytes are identical (the encoder writes the same fields).
    EXPECT_EQ(again.substr(0, kHeaderSize), file.substr(0, kHeaderSize));
  }
}

TEST(LtxCodecTest, EmptyIncrementalIsSmallestFile) {
  base::Status s;
  std::string file = EncodeFile(MakeHeader(4096, 27, 3, 3, true), {}, 0, &s);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(file.size(), 131u);
  EXPECT_TRUE(DecodeBytes(file, "e").status.ok());
}

// --- Decoder rules, on files built byte by byte ----------------------------

struct RuleCase {
  std::string what;
  std::string rule;  // substring of the expected error
  std::function<void(RawLtx&)> edit;
};

RawLtx BaseIncremental() {
  std::mt19937_64 rng(1);
  RawLtx raw(MakeHeader(4096, 10, 2, 2, true));
  for (Pgno p : {2, 5, 9})
    raw.AddBlockPage(p, MakePage(rng, 4096, PageKind::kMixed));
  return raw;
}

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.what; }

class DecoderRuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(DecoderRuleTest, Rejects) {
  RawLtx raw = BaseIncremental();
  ASSERT_TRUE(DecodeBytes(raw.Build(), "base").status.ok());
  GetParam().edit(raw);
  std::string file = raw.Build();
  Decoded d = DecodeBytes(file, "f.ltx");
  ASSERT_FALSE(d.status.ok()) << GetParam().what;
  EXPECT_EQ(d.status.code(), base::Code::kCorrupt);
  EXPECT_NE(d.status.message().find(GetParam().rule), std::string::npos)
      << d.status.message();
  EXPECT_EQ(d.status.message().rfind("f.ltx: offset ", 0), 0u)
      << d.status.message();
}

std::string Page4k(uint8_t fill) {
  return std::string(4096, static_cast<char>(fill));
}

const RuleCase kRuleCases[] = {
    {"page size", "page size", [](RawLtx& r) { r.header.page_size = 1000; }},
    {"min txid 0", "MinTXID", [](RawLtx& r) { r.header.min_txid = 0; }},
    {"max txid 0", "MaxTXID", [](RawLtx& r) { r.header.max_txid = 0; }},
    {"negative wal offset", "WAL fields",
     [](RawLtx& r) { r.header.wal_offset = -1; }},
    {"salts without offset", "WAL fields",
     [](RawLtx& r) {
       r.header.wal_offset = 0;
       r.header.wal_size = 0;
     }},
    {"size without offset", "WAL fields",
     [](RawLtx& r) {
       r.header.wal_offset = 0;
       r.header.wal_salt1 = r.header.wal_salt2 = 0;
     }},
    {"pre-apply in nochecksum", "pre-apply checksum",
     [](RawLtx& r) { r.header.pre_apply_checksum = 0x8000000000000001ULL; }},
    {"pre-apply missing flag", "pre-apply checksum",
     [](RawLtx& r) {
       r.header.flags = 0;
       r.header.pre_apply_checksum = 5;
       r.post = 0x8000000000000005ULL;
     }},
    {"pre-apply in snapshot", "pre-apply checksum",
     [](RawLtx& r) {
       r.header.flags = 0;
       r.header.min_txid = 1;
       r.header.pre_apply_checksum = 0x8000000000000001ULL;
     }},
    {"page flags", "page flags", [](RawLtx& r) { r.frames[1].flags = 3; }},
    {"pgno 0 with flags", "page header",
     [](RawLtx& r) { r.frames[0].pgno = 0; }},
    {"beyond commit", "page beyond commit",
     [](RawLtx& r) { r.header.commit = 8; }},
    {"lock page", "lock page",
     [](RawLtx& r) {
       r.header.commit = 300000;
       r.AddBlockPage(LockPgno(4096), Page4k(1));
     }},
    {"duplicate page", "page order",
     [](RawLtx& r) { r.AddBlockPage(9, Page4k(1)); }},
    {"decreasing pages", "page order",
     [](RawLtx& r) { std::swap(r.frames[0], r.frames[1]); }},
    {"snapshot gap", "page order",
     [](RawLtx& r) {
       r.header.min_txid = 1;
       r.header.wal_offset = 0;
       r.header.wal_size = 0;
       r.header.wal_salt1 = 0;
       r.header.wal_salt2 = 0;
     }},
    {"snapshot incomplete", "snapshot incomplete",
     [](RawLtx& r) {
       r.header = MakeHeader(4096, 3, 1, 1, true);
       r.frames.clear();
       r.AddBlockPage(1, Page4k(1));
       r.AddBlockPage(2, Page4k(2));
     }},
    {"compressed size 0", "compressed size",
     [](RawLtx& r) { r.frames[1].payload = std::string(4, '\0'); }},
    {"compressed size huge", "compressed size",
     [](RawLtx& r) { r.frames[1].payload = "\x7f\xff\xff\xff"; }},
    {"short page", "page data",
     [](RawLtx& r) {
       std::string small(100, 'a');
       RawLtx tmp(r.header);
       tmp.AddBlockPage(5, small);
       r.frames[1].payload = tmp.frames[0].payload;
     }},
    {"malformed block", "page data",
     [](RawLtx& r) {
       r.frames[1].payload[4] = '\xff';
       r.frames[1].payload[5] = '\xff';
     }},
    {"truncated in page", "truncated",
     [](RawLtx& r) {
       r.frames.back().payload.resize(100);
       r.index_override.emplace();
       r.size_field_override = 0;
       r.trailing.clear();
     }},
    {"index missing entry", "page index",
     [](RawLtx& r) {
       r.index_override = r.FrameIndex();
       r.index_override->pop_back();
     }},
    {"index wrong offset", "page index",
     [](RawLtx& r) {
       r.index_override = r.FrameIndex();
       (*r.index_override)[1].offset += 1;
     }},
    {"index wrong size", "page index",
     [](RawLtx& r) {
       r.index_override = r.FrameIndex();
       (*r.index_override)[2].size -= 1;
     }},
    {"index extra entry", "page index",
     [](RawLtx& r) {
       r.index_override = r.FrameIndex();
       r.index_override->push_back({10, 9999, 20});
     }},
    {"index unsorted", "page index",
     [](RawLtx& r) {
       r.index_override = r.FrameIndex();
       std::swap((*r.index_override)[0], (*r.index_override)[1]);
     }},
    {"index size too small", "index size",
     [](RawLtx& r) { r.size_field_override = 3; }},
    {"trailing data", "trailing data", [](RawLtx& r) { r.trailing = "x"; }},
    {"post in nochecksum", "post-apply checksum",
     [](RawLtx& r) { r.post = 0x8000000000000001ULL; }},
    {"post without flag", "post-apply checksum",
     [](RawLtx& r) {
       r.header.flags = 0;
       r.header.pre_apply_checksum = 0x8000000000000005ULL;
       r.post = 5;
     }},
    {"file checksum without flag", "file checksum",
     [](RawLtx& r) { r.file_checksum_override = 0x1234; }},
    {"file checksum mismatch", "file checksum",
     [](RawLtx& r) { r.file_checksum_override = 0x8000000000001234ULL; }},
    {"commit 0 nochecksum", "post-apply checksum",
     [](RawLtx& r) {
       r.header.commit = 0;
       r.frames.clear();
     }},
    {"snapshot post mismatch", "post-apply checksum",
     [](RawLtx& r) {
       r.header = MakeHeader(4096, 2, 1, 1, false);
       r.frames.clear();
       r.AddBlockPage(1, Page4k(1));
       r.AddBlockPage(2, Page4k(2));
       r.post = 0x8000000000000042ULL;
     }},
};

INSTANTIATE_TEST_SUITE_P(Rules, DecoderRuleTest,
                         ::testing::ValuesIn(kRuleCases), [](const auto& info) {
                           std::string n;
                           for (char c : info.param.what) {
                             n += std::isalnum(static_cast<unsigned char>(c))
                                      ? c
                                      : '_';
                           }
                           return n;
                         });

TEST(LtxCodecTest, FileNameMustMatchHeader) {
  std::string file = BaseIncremental().Build();
  EXPECT_TRUE(
      DecodeBytes(file, "/r/ltx/0/0000000000000002-0000000000000002.ltx")
          .status.ok());
  Decoded d =
      DecodeBytes(file, "/r/ltx/0/0000000000000002-0000000000000003.ltx");
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("file name"), std::string::npos);
  // A name that no listing accepts (min > max) is refused the same way.
  d = DecodeBytes(file, "/r/ltx/0/0000000000000003-0000000000000002.ltx");
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("0000000000000003-0000000000000002.ltx"),
            std::string::npos);
}

TEST(LtxCodecTest, ChecksumsCoverUncompressedPages) {
  // A flipped bit inside a literal changes the page, so the file checksum.
  RawLtx raw = BaseIncremental();
  std::string file = raw.Build();
  file[kHeaderSize + 6 + 4 + 3] ^= 0x01;
  Decoded d = DecodeBytes(file, "f");
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("file checksum"), std::string::npos)
      << d.status.message();
}

TEST(LtxCodecTest, LegacyFramePagesDecode) {
  std::mt19937_64 rng(9);
  RawLtx raw(MakeHeader(4096, 6, 1, 1, false));
  std::vector<Page> pages;
  for (Pgno p = 1; p <= 6; ++p) {
    pages.emplace_back(
        p, MakePage(rng, 4096, p % 2 ? PageKind::kText : PageKind::kRandom));
    if (p == 3) {
      raw.AddBlockPage(p, pages.back().second);  // mixed encodings
    } else {
      raw.AddLegacyPage(p, pages.back().second, p % 2 == 0);
    }
  }
  raw.post = testutil::DbChecksum(4096, pages);
  std::string file = raw.Build();
  Decoded d = DecodeBytes(file, "legacy");
  ASSERT_TRUE(d.status.ok()) << d.status.message();
  ExpectSamePages(d.pages, pages);
  auto tail = DecodePageIndexFromTail(AsBytes(file), file.size(), "legacy");
  ASSERT_TRUE(tail.ok()) << tail.status().message();
  EXPECT_EQ(tail->size(), 6u);

  // A legacy frame of the wrong length, or with a broken content checksum.
  RawLtx bad(MakeHeader(4096, 6, 2, 2, true));
  bad.AddLegacyPage(2, std::string(4000, 'a'));
  bad.frames[0].page = std::string(4096, 'a');
  d = DecodeBytes(bad.Build(), "bad");
  EXPECT_NE(d.status.message().find("page data"), std::string::npos)
      << d.status.message();
  RawLtx bad2(MakeHeader(4096, 6, 2, 2, true));
  bad2.AddLegacyPage(2, std::string(4096, 'a'), true);
  bad2.frames[0].payload[bad2.frames[0].payload.size() - 1] ^= 1;
  d = DecodeBytes(bad2.Build(), "bad2");
  EXPECT_NE(d.status.message().find("page data"), std::string::npos)
      << d.status.message();
  RawLtx bad3(MakeHeader(4096, 6, 2, 2, true));
  bad3.AddLegacyPage(2, std::string(4096, 'a'), true);
  bad3.frames[0].payload.resize(10);
  d = DecodeBytes(bad3.Build(), "bad3");
  EXPECT_FALSE(d.status.ok());
}

// --- Encoder refusals ------------------------------------------------------

TEST(LtxEncoderTest, RefusesInvalidHeaders) {
  for (Header h :
       {MakeHeader(1000, 1, 1, 1, true), MakeHeader(4096, 1, 0, 1, true),
        MakeHeader(4096, 1, 3, 2, true), MakeHeader(4096, 1, 2, 2, false, 0)}) {
    std::string out;
    base::StringWriter w(&out);
    Encoder enc(&w);
    base::Status s = enc.EncodeHeader(h);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), base::Code::kInvalidArgument);
    EXPECT_TRUE(out.empty());
  }
  Header h = MakeHeader(4096, 1, 1, 1, true);
  h.flags = 0x4;
  std::string out;
  base::StringWriter w(&out);
  Encoder enc(&w);
  EXPECT_NE(enc.EncodeHeader(h).message().find("flags"), std::string::npos);
}

TEST(LtxEncoderTest, RefusesBadPagesAndTrailers) {
  std::string page = Page4k(7);
  auto fresh = [&](const Header& h, std::string* out) {
    auto w = std::make_unique<base::StringWriter>(out);
    auto enc = std::make_unique<Encoder>(w.get());
    EXPECT_TRUE(enc->EncodeHeader(h).ok());
    return std::make_pair(std::move(w), std::move(enc));
  };
  std::string out;
  {
    auto [w, enc] = fresh(MakeHeader(4096, 5, 2, 2, true), &out);
    EXPECT_FALSE(enc->EncodePage(0, AsBytes(page)).ok());
    EXPECT_FALSE(enc->EncodePage(6, AsBytes(page)).ok());
    EXPECT_FALSE(enc->EncodePage(3, AsBytes(page).first(100)).ok());
    EXPECT_TRUE(enc->EncodePage(3, AsBytes(page)).ok());
    EXPECT_FALSE(enc->EncodePage(3, AsBytes(page)).ok());
    EXPECT_FALSE(enc->EncodePage(2, AsBytes(page)).ok());
    EXPECT_FALSE(enc->Close(0x8000000000000001ULL).ok());  // NoChecksum
    EXPECT_TRUE(enc->Close(0).ok());
    EXPECT_FALSE(enc->EncodePage(4, AsBytes(page)).ok());
    EXPECT_FALSE(enc->Close(0).ok());
  }
  {
    out.clear();
    auto [w, enc] = fresh(MakeHeader(4096, 3, 1, 1, false), &out);
    EXPECT_FALSE(enc->EncodePage(2, AsBytes(page)).ok());  // must start at 1
    EXPECT_TRUE(enc->EncodePage(1, AsBytes(page)).ok());
    EXPECT_TRUE(enc->EncodePage(2, AsBytes(page)).ok());
    EXPECT_NE(
        enc->Close(0x8000000000000001ULL).message().find("snapshot incomplete"),
        std::string::npos);
    EXPECT_TRUE(enc->EncodePage(3, AsBytes(page)).ok());
    EXPECT_NE(enc->Close(0x8000000000000001ULL).message().find("post-apply"),
              std::string::npos);      // not the database checksum
    EXPECT_FALSE(enc->Close(0).ok());  // checksummed: needs bit 63
  }
  {
    out.clear();
    auto [w, enc] = fresh(MakeHeader(4096, 0, 2, 2, true), &out);
    EXPECT_FALSE(enc->Close(0).ok());  // NoChecksum + Commit 0 is impossible
  }
  {
    out.clear();
    auto [w, enc] =
        fresh(MakeHeader(4096, 0, 2, 2, false, kChecksumFlag), &out);
    EXPECT_TRUE(enc->Close(kChecksumFlag).ok());
    EXPECT_TRUE(DecodeBytes(out, "c0").status.ok());
  }
}

class FailingWriter : public base::Writer {
 public:
  base::Status Write(std::span<const uint8_t>) override {
    return base::IoError("disk full");
  }
};

TEST(LtxEncoderTest, WriteErrorsPropagate) {
  {
    FailingWriter w;
    Encoder enc(&w);
    ASSERT_TRUE(enc.EncodeHeader(MakeHeader(4096, 1, 1, 1, true)).ok());
    ASSERT_TRUE(enc.EncodePage(1, AsBytes(Page4k(0))).ok());  // buffered
    EXPECT_EQ(enc.Close(0).code(), base::Code::kIoError);
    EXPECT_FALSE(enc.Close(0).ok());
  }
  // Incompressible pages fill the write buffer before Close.
  std::mt19937_64 rng(5);
  FailingWriter w;
  Encoder enc(&w);
  ASSERT_TRUE(enc.EncodeHeader(MakeHeader(4096, 100, 2, 2, true)).ok());
  base::Status s;
  Pgno p = 1;
  for (; p <= 100 && s.ok(); ++p) {
    s = enc.EncodePage(p, AsBytes(MakePage(rng, 4096, PageKind::kRandom)));
  }
  EXPECT_EQ(s.code(), base::Code::kIoError);
  EXPECT_LT(p, 30u);
  EXPECT_FALSE(enc.EncodePage(p, AsBytes(Page4k(0))).ok());
}

class FailingReader : public base::Reader {
 public:
  Result<size_t> Read(std::span<uint8_t>) override {
    return base::UnavailableError("connection reset");
  }
};

TEST(LtxDecoderTest, ReadErrorsKeepTheirCode) {
  FailingReader r;
  Decoder dec(&r, "obj");
  base::Status s = dec.DecodeHeader();
  EXPECT_EQ(s.code(), base::Code::kUnavailable);
  EXPECT_NE(s.message().find("obj"), std::string::npos);
  EXPECT_FALSE(dec.Close().ok());
}

TEST(LtxDecoderTest, CallOrderAndBufferSize) {
  std::string file = BaseIncremental().Build();
  base::SpanReader r(AsBytes(file));
  Decoder dec(&r, "f");
  std::string page(4096, '\0');
  Pgno pgno;
  auto span = std::span<uint8_t>(reinterpret_cast<uint8_t*>(page.data()), 4096);
  EXPECT_FALSE(dec.DecodePage(&pgno, span).ok());  // before the header
  ASSERT_TRUE(dec.DecodeHeader().ok());
  EXPECT_EQ(dec.DecodePage(&pgno, span.first(512)).status().code(),
            base::Code::kInvalidArgument);
  ASSERT_TRUE(*dec.DecodePage(&pgno, span));
  EXPECT_EQ(pgno, 2u);
  ASSERT_TRUE(dec.Close().ok());  // drains pages 5 and 9
  EXPECT_EQ(dec.page_index().size(), 3u);
}

TEST(LtxDecoderTest, PageIndexFromTailErrors) {
  std::string file = BaseIncremental().Build();
  auto bytes = AsBytes(file);
  EXPECT_EQ(
      DecodePageIndexFromTail(bytes.last(10), file.size(), "f").status().code(),
      base::Code::kInvalidArgument);
  EXPECT_EQ(
      DecodePageIndexFromTail(bytes.last(30), file.size(), "f").status().code(),
      base::Code::kInvalidArgument);
  EXPECT_EQ(DecodePageIndexFromTail(bytes.first(50), 50, "f").status().code(),
            base::Code::kCorrupt);
  std::string bad = file;
  base::PutBE64(reinterpret_cast<uint8_t*>(bad.data()) + bad.size() - 24,
                1u << 30);
  auto r = DecodePageIndexFromTail(AsBytes(bad), bad.size(), "f");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("index size"), std::string::npos);
}

// --- File names ------------------------------------------------------------

TEST(LtxFileNameTest, FormatAndParse) {
  EXPECT_EQ(FormatTxId(0x1f), "000000000000001f");
  EXPECT_EQ(FormatFileName(1, 0xabc), "0000000000000001-0000000000000abc.ltx");
  auto r = ParseFileName("0000000000000001-0000000000000abc.ltx");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->min_txid, 1u);
  EXPECT_EQ(r->max_txid, 0xabcu);
  // Only the canonical (lower-case) form names a file: every listing skips
  // upper-case names, so nothing lists a file it then cannot open.
  for (const char* bad : {"", "0000000000000001-0000000000000abc.lt",
                          "0000000000000001-0000000000000ABC.ltx",
                          "0000000000000001_0000000000000abc.ltx",
                          "000000000000001-0000000000000abc.ltx",
                          "000000000000000g-0000000000000abc.ltx",
                          "0000000000000000-0000000000000001.ltx",
                          "0000000000000003-0000000000000002.ltx",
                          "0000000000000001-0000000000000abc.ltx.tmp"}) {
    EXPECT_FALSE(ParseFileName(bad).has_value()) << bad;
  }
  // The shape of a name, whatever its case and TXIDs (the decoder checks a
  // file named like this against its header).
  EXPECT_TRUE(HasFileNameShape("0000000000000005-0000000000000003.ltx"));
  EXPECT_TRUE(HasFileNameShape("0000000000000001-0000000000000ABC.ltx"));
  EXPECT_FALSE(HasFileNameShape("0000000000000001-0000000000000abc.ltx.tmp"));
  EXPECT_FALSE(HasFileNameShape("snapshot.ltx"));
  EXPECT_EQ(*ParseTxId("ff"), 0xffu);
  EXPECT_EQ(*ParseTxId("FFFFFFFFFFFFFFFF"), ~uint64_t{0});
  for (const char* bad : {"", "x", "0x10", "11111111111111111", "-1"}) {
    Result<TxId> t = ParseTxId(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), base::Code::kInvalidArgument);
  }
}

TEST(LtxFormatTest, Checksums) {
  // Empty database checksum and the documented formula.
  DatabaseChecksum empty(4096);
  EXPECT_EQ(empty.Value(), kChecksumFlag);
  std::string page(4096, 'q');
  uint8_t be[4];
  base::PutBE32(be, 3);
  base::Crc64 crc;
  crc.Update(be, 4);
  crc.Update(page.data(), page.size());
  EXPECT_EQ(ChecksumPage(3, AsBytes(page)), kChecksumFlag | crc.Value());
  DatabaseChecksum c(4096);
  c.AddPage(3, AsBytes(page));
  c.AddPage(LockPgno(4096), AsBytes(page));  // skipped
  EXPECT_EQ(c.Value(),
            kChecksumFlag | (kChecksumFlag ^ ChecksumPage(3, AsBytes(page))));
  // Header encode/decode round trip, reserved bytes zero.
  Header h = MakeHeader(4096, 7, 2, 9, false, 0x8000000000000777ULL);
  h.node_id = 0x0102030405060708ULL;
  h.timestamp_ms = -5;
  uint8_t buf[kHeaderSize];
  h.Encode(buf);
  for (size_t i = 80; i < kHeaderSize; ++i) EXPECT_EQ(buf[i], 0);
  auto back = Header::Decode({buf, kHeaderSize});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->node_id, h.node_id);
  EXPECT_EQ(back->timestamp_ms, -5);
  EXPECT_EQ(back->pre_apply_checksum, h.pre_apply_checksum);
  EXPECT_TRUE(back->Validate().ok());
  EXPECT_FALSE(Header::Decode({buf, 99}).ok());
}

}  // namespace
}  // namespace litekeep::ltx

namespace litekeep::ltx {
namespace {

// Every prefix and many random byte edits of a valid file: the decoder
// either accepts or reports kCorrupt, and never reads out of bounds (run
// under ASan to check the latter).
TEST(LtxDecoderTest, TruncatedAndMutatedFilesAreRejectedCleanly) {
  std::mt19937_64 rng(11);
  RawLtx legacy(MakeHeader(4096, 4, 1, 1, true));
  for (Pgno p = 1; p <= 4; ++p) {
    legacy.AddLegacyPage(p, MakePage(rng, 4096, static_cast<PageKind>(p % 4)));
  }
  const std::string files[] = {
      ReadFile(testutil::GoldenDir() + "/incremental_l0.ltx"),
      ReadFile(testutil::GoldenDir() + "/page_size_512.ltx"), legacy.Build()};
  int accepted = 0, rejected = 0;
  for (const std::string& file : files) {
    ASSERT_TRUE(DecodeBytes(file, "f").status.ok());
    for (size_t n = 0; n < file.size(); ++n) {
      Decoded d = DecodeBytes(file.substr(0, n), "f");
      ASSERT_FALSE(d.status.ok()) << n;
      ASSERT_EQ(d.status.code(), base::Code::kCorrupt) << d.status.message();
      auto tail = DecodePageIndexFromTail(
          AsBytes(file).first(n).last(std::min<size_t>(n, 64)), n, "f");
      (void)tail;
    }
    for (int i = 0; i < 1500; ++i) {
      std::string m = file;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        m[rng() % m.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      Decoded d = DecodeBytes(m, "f");
      if (d.status.ok()) {
        ++accepted;  // e.g. an edit in a reserved header byte
      } else {
        ++rejected;
        ASSERT_EQ(d.status.code(), base::Code::kCorrupt) << d.status.message();
      }
      auto tail = DecodePageIndexFromTail(AsBytes(m), m.size(), "f");
      if (tail.ok()) {
        for (const auto& e : *tail) ASSERT_LE(e.offset + e.size, m.size());
      }
    }
  }
  EXPECT_GT(rejected, 4000);
  EXPECT_LT(accepted, 100);
}

}  // namespace
}  // namespace litekeep::ltx
