// storage::AgeReplica over the file backend: the ReplicaClient conformance
// suite through encryption, the stored files are age files the age command
// decrypts, size translation, ranged reads, and missing/wrong keys named.
#include "storage/age_replica.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/age.h"
#include "storage/file/file_client.h"
#include "storage/layout.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

using base::AgeIdentity;
using storage::AgeReplica;

const AgeIdentity& Key(int i) {
  static const std::vector<AgeIdentity>* keys = [] {
    auto* v = new std::vector<AgeIdentity>;
    for (int k = 0; k < 3; ++k) v->push_back(*base::GenerateAgeIdentity());
    return v;
  }();
  return (*keys)[static_cast<size_t>(i)];
}

TempDir& ConformanceDir() {
  static TempDir* dir = new TempDir();
  return *dir;
}

std::unique_ptr<AgeReplica> MakeAge(const std::string& root,
                                    std::vector<int> recipients,
                                    std::vector<int> identities) {
  std::vector<base::AgeRecipient> r;
  for (int i : recipients) r.push_back(Key(i).recipient);
  std::vector<AgeIdentity> ids;
  for (int i : identities) ids.push_back(Key(i));
  return std::make_unique<AgeReplica>(
      std::make_shared<storage::FileReplicaClient>(root), r, ids);
}

ReplicaBackend AgeFileBackend() {
  return ReplicaBackend{
      "age_file",
      [] {
        return std::unique_ptr<storage::ReplicaClient>(
            MakeAge(ConformanceDir().Join("replica"), {0, 1}, {1}));
      },
      3 << 20};
}

INSTANTIATE_TEST_SUITE_P(AgeFile, ReplicaConformanceTest,
                         ::testing::Values(AgeFileBackend()),
                         ReplicaBackendName);

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + i / 251);
  return s;
}

Status Put(storage::ReplicaClient& c, TxId txid, const std::string& data) {
  base::SpanReader in(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  storage::FileInfo info{0, txid, txid, static_cast<int64_t>(data.size()), {}};
  return c.WriteFile(info, in);
}

std::string ReadRange(storage::ReplicaClient& c, TxId txid, int64_t offset,
                      int64_t length) {
  auto r = c.OpenFile(0, txid, txid, offset, length);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  return ReadAllOrFail(**r);
}

TEST(AgeReplicaTest, SizesInvert) {
  for (size_t k : {size_t{1}, size_t{2}, size_t{5}}) {
    for (int64_t n : {0, 1, 65535, 65536, 65537, 131072, 1 << 20}) {
      EXPECT_EQ(AgeReplica::PlaintextSize(AgeReplica::EncryptedSize(n, k), k),
                n)
          << n << " " << k;
    }
  }
}

TEST(AgeReplicaTest, StoredFilesAreAgeFilesAndRangesWork) {
  TempDir dir;
  auto c = MakeAge(dir.Join("r"), {0}, {0});
  std::string data = Bytes(200000);
  ASSERT_TRUE(Put(*c, 1, data).ok());
  std::string path = storage::LtxFilePath(dir.Join("r"), 0, 1, 1);
  std::string stored = ReadFile(path);
  EXPECT_TRUE(base::LooksLikeAge(stored));
  EXPECT_EQ(stored.find(data.substr(1000, 64)), std::string::npos);
  EXPECT_EQ(static_cast<int64_t>(stored.size()),
            AgeReplica::EncryptedSize(200000, 1));
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].size, 200000);
  EXPECT_EQ(ReadRange(*c, 1, 0, -1), data);
  EXPECT_EQ(ReadRange(*c, 1, 199984, 16), data.substr(199984));
  EXPECT_EQ(ReadRange(*c, 1, 65530, 100), data.substr(65530, 100));
  EXPECT_EQ(ReadRange(*c, 1, 0, 100), data.substr(0, 100));

  if (RunShell("command -v age").exit_code != 0) {
    GTEST_SKIP() << "the age command is not installed (apt-get install age); "
                    "age -d check not run";
  }
  std::string key = dir.Join("key.txt");
  ASSERT_TRUE(base::WriteFileAtomic(key, Key(0).Encode() + "\n").ok());
  CommandResult r = litekeep::testing::Run({"age", "-d", "-i", key, path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, data);
}

TEST(AgeReplicaTest, MissingAndWrongKeysNamed) {
  TempDir dir;
  ASSERT_TRUE(Put(*MakeAge(dir.Join("r"), {0}, {}), 7, "hello").ok());
  auto no_ids = MakeAge(dir.Join("r"), {0}, {});
  auto r = no_ids->OpenFile(0, 7, 7, 0, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("ltx/0/0000000000000007-0000000000000007.ltx"),
      std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("no identity is configured"),
            std::string::npos);
  auto wrong = MakeAge(dir.Join("r"), {}, {2});
  r = wrong->OpenFile(0, 7, 7, 0, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no identity matches"),
            std::string::npos);
  EXPECT_NE(r.status().message().find("0000000000000007.ltx"),
            std::string::npos);
  Status w = Put(*wrong, 8, "x");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.message().find("no recipient is configured"), std::string::npos);
  // A plaintext file in an encrypted replica is refused, not passed through.
  ASSERT_TRUE(Put(*std::make_shared<storage::FileReplicaClient>(dir.Join("r")),
                  9, "plain LTX")
                  .ok());
  r = MakeAge(dir.Join("r"), {0}, {0})->OpenFile(0, 9, 9, 0, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::Code::kCorrupt);
}

// Counts the ranged reads that reach the store and the bytes they ask for.
class CountingReplica : public storage::FileReplicaClient {
 public:
  using FileReplicaClient::FileReplicaClient;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override {
    ++opens;
    asked += length;
    return FileReplicaClient::OpenFile(level, min_txid, max_txid, offset,
                                       length);
  }
  int opens = 0;
  int64_t asked = 0;
};

// A reader with only an identity (the VFS): exact plaintext sizes whatever
// the number of recipients a file was written to, and a ranged read fetches
// the header once and then only the chunks that cover the range.
TEST(AgeReplicaTest, ExactSizesAndChunkRangedReads) {
  TempDir dir;
  const std::string data = Bytes(300000);  // 5 chunks, the last partial
  ASSERT_TRUE(Put(*MakeAge(dir.Join("r"), {0, 1, 2}, {}), 1, data).ok());
  ASSERT_TRUE(
      Put(*MakeAge(dir.Join("r"), {1}, {}), 2, data.substr(0, 65536)).ok());
  auto inner = std::make_shared<CountingReplica>(dir.Join("r"));
  AgeReplica c(inner, {}, {Key(1)});
  c.SetExactSizes(true);
  auto files = c.ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].size, 300000);
  EXPECT_EQ((*files)[1].size, 65536);
  EXPECT_EQ(inner->opens, 2);  // one header read per file
  constexpr int64_t kSealed = 65536 + 16;
  for (auto [offset, length] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 100},
                                                {65530, 100},
                                                {131072, 65536},
                                                {299990, 10},
                                                {200000, 100000},
                                                {1, 299999}}) {
    inner->opens = 0;
    inner->asked = 0;
    EXPECT_EQ(ReadRange(c, 1, offset, length), data.substr(offset, length))
        << offset << "+" << length;
    const int64_t chunks = (offset + length - 1) / 65536 - offset / 65536 + 1;
    EXPECT_EQ(inner->opens, 1) << offset;
    EXPECT_EQ(inner->asked, chunks * kSealed + 1) << offset;
  }
  EXPECT_EQ(ReadRange(c, 2, 65000, 536), data.substr(65000, 536));
  EXPECT_EQ(ReadRange(c, 1, 70000, -1), data.substr(70000));

  // A changed byte in chunk 2: a range in it fails naming file and chunk;
  // ranges elsewhere still read.
  const std::string path = storage::LtxFilePath(dir.Join("r"), 0, 1, 1);
  std::string stored = ReadFile(path);
  const size_t payload = stored.size() - (300000 + 5 * 16);
  stored[payload + 2 * kSealed + 500] ^= 0x01;
  ASSERT_TRUE(base::WriteFileAtomic(path, stored).ok());
  auto bad = c.OpenFile(0, 1, 1, 2 * 65536 + 10, 100);
  if (bad.ok()) {
    std::string out(100, '\0');
    Status s =
        (*bad)->ReadFull({reinterpret_cast<uint8_t*>(out.data()), out.size()});
    ASSERT_FALSE(s.ok());
    bad = s;
  }
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), base::Code::kCorrupt);
  EXPECT_NE(bad.status().message().find(
                "ltx/0/0000000000000001-0000000000000001.ltx"),
            std::string::npos)
      << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("chunk 2 failed authentication"),
            std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(ReadRange(c, 1, 10, 100), data.substr(10, 100));

  // Cut at a chunk boundary: the now-last chunk was not sealed as the final
  // one, so reading it fails.
  stored[payload + 2 * kSealed + 500] ^= 0x01;
  ASSERT_TRUE(
      base::WriteFileAtomic(path, stored.substr(0, payload + 3 * kSealed))
          .ok());
  auto cut = c.ListFiles(0);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ((*cut)[0].size, 3 * 65536);
  auto r = c.OpenFile(0, 1, 1, 3 * 65536 - 10, 10);
  Status s = r.status();
  if (r.ok()) {
    std::string out(10, '\0');
    s = (*r)->ReadFull({reinterpret_cast<uint8_t*>(out.data()), out.size()});
  }
  EXPECT_FALSE(s.ok());
  // Cut inside the last chunk: its tag no longer authenticates.
  ASSERT_TRUE(
      base::WriteFileAtomic(path, stored.substr(0, stored.size() - 7)).ok());
  cut = c.ListFiles(0);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ((*cut)[0].size, 300000 - 7);
  r = c.OpenFile(0, 1, 1, 300000 - 100, 93);
  s = r.status();
  if (r.ok()) {
    std::string out(93, '\0');
    s = (*r)->ReadFull({reinterpret_cast<uint8_t*>(out.data()), out.size()});
  }
  EXPECT_EQ(s.code(), base::Code::kCorrupt) << s.ToString();
  // A size no age payload has (a last chunk shorter than its tag): the
  // listing refuses it.
  ASSERT_TRUE(
      base::WriteFileAtomic(path, stored.substr(0, payload + 4 * kSealed + 5))
          .ok());
  cut = c.ListFiles(0);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cut or extended"), std::string::npos)
      << cut.status().ToString();

  // Without an identity the listing names the file and the missing key.
  AgeReplica none(inner, {}, {});
  none.SetExactSizes(true);
  auto no = none.ListFiles(0);
  ASSERT_FALSE(no.ok());
  EXPECT_NE(no.status().message().find("no identity is configured"),
            std::string::npos);
}

}  // namespace
}  // namespace litekeep::testing
