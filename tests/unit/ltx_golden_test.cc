// The golden LTX vectors of tests/testdata/ltx: valid files decode to
// exactly what their JSON says; invalid files are rejected naming the rule.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::ltx {
namespace {

using nlohmann::json;
using testing::ReadFile;
using testing::Sha256Hex;
using testutil::AsBytes;
using testutil::DecodeBytes;
using testutil::Decoded;
using testutil::GoldenDir;
using testutil::Page;

const std::vector<std::string> kValid = {
    "snapshot_small", "snapshot_nochecksum", "incremental_l0",
    "page_size_512",  "empty_pages",         "snapshot_large"};

struct InvalidCase {
  std::string name;
  std::string rule;  // substring the error must contain
};
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

const std::vector<InvalidCase> kInvalid = {
    {"bad_magic", "magic"},
    {"truncated", "truncated"},
    {"bad_header_flags", "flags"},
    {"txid_order", "MinTXID"},
    {"index_size_mismatch", "index size"},
};

std::string Hex16(uint64_t v) { return FormatTxId(v); }

json LoadJson(const std::string& name) {
  return json::parse(ReadFile(GoldenDir() + "/" + name + ".json"));
}

// Decodes through a FileReader, the way restore reads a downloaded file.
Decoded DecodePath(const std::string& path) {
  Result<base::File> file = base::File::Open(path, O_RDONLY);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok()) {
    Decoded d;
    d.status = file.status();
    return d;
  }
  base::FileReader reader(std::move(*file));
  return testutil::DecodeFrom(&reader, base::BaseName(path));
}

TEST(LtxGoldenTest, EveryVectorIsCovered) {
  std::set<std::string> known(kValid.begin(), kValid.end());
  for (const auto& c : kInvalid) known.insert(c.name);
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(GoldenDir())) {
    if (entry.path().extension() != ".ltx") continue;
    ++seen;
    EXPECT_TRUE(known.count(entry.path().stem().string()))
        << "untested vector " << entry.path();
  }
  EXPECT_EQ(seen, known.size());
}

class ValidVectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidVectorTest, DecodesToJson) {
  const std::string name = GetParam();
  const json j = LoadJson(name);
  ASSERT_TRUE(j["valid"].get<bool>());
  const std::string path = GoldenDir() + "/" + name + ".ltx";
  const std::string bytes = ReadFile(path);
  ASSERT_EQ(bytes.size(), j["file_size"].get<uint64_t>());
  ASSERT_EQ(Sha256Hex(bytes), j["file_sha256"].get<std::string>());

  Decoded d = DecodePath(path);
  ASSERT_TRUE(d.status.ok()) << d.status.message();

  const json& jh = j["header"];
  const Header& h = d.header;
  EXPECT_EQ(h.flags, jh["flags"].get<uint32_t>());
  EXPECT_EQ(h.page_size, jh["page_size"].get<uint32_t>());
  EXPECT_EQ(h.commit, jh["commit"].get<uint32_t>());
  EXPECT_EQ(h.min_txid, jh["min_txid"].get<uint64_t>());
  EXPECT_EQ(h.max_txid, jh["max_txid"].get<uint64_t>());
  EXPECT_EQ(h.timestamp_ms, jh["timestamp_ms"].get<int64_t>());
  EXPECT_EQ(Hex16(h.pre_apply_checksum),
            jh["pre_apply_checksum"].get<std::string>());
  EXPECT_EQ(h.wal_offset, jh["wal_offset"].get<int64_t>());
  EXPECT_EQ(h.wal_size, jh["wal_size"].get<int64_t>());
  EXPECT_EQ(h.wal_salt1, jh["wal_salt1"].get<uint32_t>());
  EXPECT_EQ(h.wal_salt2, jh["wal_salt2"].get<uint32_t>());
  EXPECT_EQ(h.node_id, jh["node_id"].get<uint64_t>());
  EXPECT_EQ(h.IsSnapshot(), jh["is_snapshot"].get<bool>());
  EXPECT_EQ(h.NoChecksum(), jh["no_checksum"].get<bool>());
  EXPECT_EQ(FormatFileName(h.min_txid, h.max_txid),
            j["ltx_filename"].get<std::string>());

  // Pages in file order: the index (sorted by pgno, verified against the
  // frames by Close) lists them in file order, since file order is pgno
  // order.
  const json& jp = j["pages"];
  ASSERT_EQ(d.pages.size(), jp.size());
  ASSERT_EQ(d.index.size(), jp.size());
  for (size_t i = 0; i < jp.size(); ++i) {
    SCOPED_TRACE("page #" + std::to_string(i));
    const PageIndexEntry& e = d.index[i];
    EXPECT_EQ(d.pages[i].first, jp[i]["pgno"].get<Pgno>());
    EXPECT_EQ(e.pgno, jp[i]["pgno"].get<Pgno>());
    EXPECT_EQ(e.offset, jp[i]["offset"].get<uint64_t>());
    EXPECT_EQ(e.size, jp[i]["size"].get<uint64_t>());
    const auto* frame = AsBytes(bytes).data() + e.offset;
    EXPECT_EQ(base::GetBE16(frame + 4), jp[i]["flags"].get<uint16_t>());
    EXPECT_EQ(base::GetBE32(frame + 6),
              jp[i]["compressed_size"].get<uint32_t>());
    EXPECT_EQ(e.size, 10 + base::GetBE32(frame + 6));
    EXPECT_EQ(Sha256Hex(d.pages[i].second), jp[i]["sha256"].get<std::string>());
  }

  const json& ji = j["page_index"];
  const uint64_t index_offset =
      d.index.empty()
          ? kHeaderSize + kPageHeaderSize
          : d.index.back().offset + d.index.back().size + kPageHeaderSize;
  EXPECT_EQ(index_offset, ji["offset"].get<uint64_t>());
  EXPECT_EQ(bytes.size() - 24 - index_offset, ji["length"].get<uint64_t>());
  EXPECT_EQ(base::GetBE64(AsBytes(bytes).data() + bytes.size() - 24),
            ji["size_field"].get<uint64_t>());
  EXPECT_EQ(d.index.size(), ji["entries"].get<size_t>());

  EXPECT_EQ(Hex16(d.trailer.post_apply_checksum),
            j["trailer"]["post_apply_checksum"].get<std::string>());
  EXPECT_EQ(Hex16(d.trailer.file_checksum),
            j["trailer"]["file_checksum"].get<std::string>());

  // The index read from the tail (VFS range reads) is the same index.
  Result<uint64_t> want =
      PageIndexTailLength(AsBytes(bytes).last(24), bytes.size(), name);
  ASSERT_TRUE(want.ok()) << want.status().message();
  EXPECT_EQ(*want, ji["length"].get<uint64_t>() + 24 + 6);
  for (uint64_t take : {*want - 6, *want, uint64_t{bytes.size()}}) {
    Result<std::vector<PageIndexEntry>> tail =
        DecodePageIndexFromTail(AsBytes(bytes).last(take), bytes.size(), name);
    ASSERT_TRUE(tail.ok()) << tail.status().message();
    ASSERT_EQ(tail->size(), d.index.size());
    for (size_t i = 0; i < d.index.size(); ++i) {
      EXPECT_EQ((*tail)[i].pgno, d.index[i].pgno);
      EXPECT_EQ((*tail)[i].offset, d.index[i].offset);
      EXPECT_EQ((*tail)[i].size, d.index[i].size);
    }
  }

  if (!j.contains("extra")) return;
  const json& extra = j["extra"];
  if (extra.contains("database_checksum")) {
    EXPECT_EQ(Hex16(testutil::DbChecksum(h.page_size, d.pages)),
              extra["database_checksum"].get<std::string>());
  }
  if (extra.contains("source_database_sha256")) {
    std::string db;
    for (const Page& p : d.pages) db += p.second;
    EXPECT_EQ(Sha256Hex(db),
              extra["source_database_sha256"].get<std::string>());
  }
  if (extra.contains("source_database")) {
    std::string db;
    for (const Page& p : d.pages) db += p.second;
    EXPECT_TRUE(db == ReadFile(GoldenDir() + "/" +
                               extra["source_database"].get<std::string>()))
        << "decoded snapshot differs from the source database";
  }
  if (extra.contains("applies_to")) {
    std::string db =
        ReadFile(GoldenDir() + "/" + extra["applies_to"].get<std::string>());
    db.resize(static_cast<size_t>(h.commit) * h.page_size, '\0');
    for (const Page& p : d.pages) {
      db.replace(static_cast<size_t>(p.first - 1) * h.page_size, h.page_size,
                 p.second);
    }
    EXPECT_EQ(db.size() / h.page_size,
              extra["result_database_pages"].get<size_t>());
    EXPECT_EQ(Sha256Hex(db),
              extra["result_database_sha256"].get<std::string>());
    DatabaseChecksum c(h.page_size);
    for (size_t i = 0; i < db.size() / h.page_size; ++i) {
      c.AddPage(static_cast<Pgno>(i + 1),
                AsBytes(db).subspan(i * h.page_size, h.page_size));
    }
    EXPECT_EQ(Hex16(c.Value()),
              extra["result_database_checksum"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, ValidVectorTest, ::testing::ValuesIn(kValid),
                         [](const auto& info) { return info.param; });

class InvalidVectorTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidVectorTest, RejectedNamingTheRule) {
  const InvalidCase& c = GetParam();
  const json j = LoadJson(c.name);
  ASSERT_FALSE(j["valid"].get<bool>());
  const std::string file = c.name + ".ltx";
  Decoded d = DecodePath(GoldenDir() + "/" + file);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.code(), base::Code::kCorrupt);
  const std::string& msg = d.status.message();
  EXPECT_NE(msg.find(c.rule), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind(file + ": offset ", 0), 0u) << msg;
  // Pages returned before the failure are those the reference decoder
  // returned (at least: a strict decoder may stop earlier, never later).
  EXPECT_LE(d.pages.size(), j["pages"].size()) << msg;
  for (size_t i = 0; i < d.pages.size(); ++i) {
    EXPECT_EQ(Sha256Hex(d.pages[i].second),
              j["pages"][i]["sha256"].get<std::string>());
  }

  // The same rule holds when only the header is decoded and Close drains.
  std::string bytes = ReadFile(GoldenDir() + "/" + file);
  base::SpanReader reader(AsBytes(bytes));
  Decoder dec(&reader, file);
  base::Status s = dec.DecodeHeader();
  if (s.ok()) s = dec.Close();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(c.rule), std::string::npos) << s.message();
}

TEST(LtxGoldenTest, IndexSizeMismatchRejectedFromTail) {
  std::string bytes = ReadFile(GoldenDir() + "/index_size_mismatch.ltx");
  for (size_t take : {size_t{44}, size_t{50}, bytes.size()}) {
    auto r = DecodePageIndexFromTail(AsBytes(bytes).last(take), bytes.size(),
                                     "index_size_mismatch.ltx");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("index size"), std::string::npos)
        << r.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, InvalidVectorTest,
                         ::testing::ValuesIn(kInvalid),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace litekeep::ltx
