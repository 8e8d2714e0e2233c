// The ReplicaClient conformance tests (see replica_conformance.h): listing
// order, whole and ranged reads, NotFound, overwrite, deletes, creation
// time, concurrency, large files, which object names a listing shows.
#include "tests/support/replica_conformance.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "ltx/file_name.h"
#include "ltx/format.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

const int kReplicaConformanceLinked = 1;

// Binaries that link this file without instantiating the suite are fine.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ReplicaConformanceTest);

using storage::FileInfo;

std::string ReplicaBackendName(
    const ::testing::TestParamInfo<ReplicaBackend>& info) {
  return info.param.name;
}

void ReplicaConformanceTest::SetUp() {
  client_ = GetParam().factory();
  if (!client_) GTEST_SKIP() << GetParam().name << " backend not available";
  Status st = client_->DeleteAll();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

std::string ReadAllOrFail(base::Reader& reader) {
  std::string out;
  uint8_t buf[65536];
  for (;;) {
    auto n = reader.Read(buf);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) break;
    out.append(reinterpret_cast<char*>(buf), *n);
  }
  return out;
}

namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k)
      s[i + k] = static_cast<char>(v >> (8 * k));
  }
  return s;
}

FileInfo Info(int level, TxId min, TxId max, size_t size,
              TimePoint created = TimePoint(std::chrono::seconds(1700000000))) {
  FileInfo f;
  f.level = level;
  f.min_txid = min;
  f.max_txid = max;
  f.size = static_cast<int64_t>(size);
  f.created = created;
  return f;
}

Status Write(storage::ReplicaClient& c, const FileInfo& info,
             const std::string& data) {
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(info, r);
}

std::string Read(storage::ReplicaClient& c, int level, TxId min, TxId max,
                 int64_t offset = 0, int64_t length = -1) {
  auto r = c.OpenFile(level, min, max, offset, length);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "<error>";
  return ReadAllOrFail(**r);
}

}  // namespace

TEST_P(ReplicaConformanceTest, EmptyReplicaListsNothing) {
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    auto files = client_->ListFiles(level);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_TRUE(files->empty()) << "level " << level;
  }
  auto max = storage::MaxTxId(*client_);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, 0u);
}

TEST_P(ReplicaConformanceTest, ListIsSortedByMinThenMaxPerLevel) {
  struct W {
    int level;
    TxId min, max;
    size_t size;
  };
  std::vector<W> writes = {{0, 5, 5, 100},
                           {0, 1, 1, 10},
                           {0, 3, 3, 30},
                           {0, 2, 2, 20},
                           {0, 0x10, 0x10, 7},
                           {0, 0xA, 0xA, 9},
                           {1, 1, 3, 300},
                           {1, 1, 2, 200},
                           {1, 4, 0x20, 400},
                           {9, 1, 0x20, 999},
                           {3, 0x100000000ULL, 0x1FFFFFFFFULL, 5}};
  std::mt19937_64 rng(7);
  std::shuffle(writes.begin(), writes.end(), rng);
  for (const auto& w : writes) {
    std::string data = RandomBytes(w.size, w.min * 31 + w.max);
    ASSERT_TRUE(
        Write(*client_, Info(w.level, w.min, w.max, w.size), data).ok());
  }
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    std::vector<W> want;
    for (const auto& w : writes) {
      if (w.level == level) want.push_back(w);
    }
    std::sort(want.begin(), want.end(), [](const W& a, const W& b) {
      return a.min != b.min ? a.min < b.min : a.max < b.max;
    });
    auto files = client_->ListFiles(level);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), want.size()) << "level " << level;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*files)[i].level, level);
      EXPECT_EQ((*files)[i].min_txid, want[i].min);
      EXPECT_EQ((*files)[i].max_txid, want[i].max);
      EXPECT_EQ((*files)[i].size, static_cast<int64_t>(want[i].size));
    }
  }
  auto max = storage::MaxTxId(*client_);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, 0x1FFFFFFFFULL);
}

TEST_P(ReplicaConformanceTest, ReadsWholeFilesAndRanges) {
  const std::string data = RandomBytes(100000, 42);
  ASSERT_TRUE(Write(*client_, Info(0, 1, 1, data.size()), data).ok());
  EXPECT_EQ(Read(*client_, 0, 1, 1), data);
  EXPECT_EQ(Read(*client_, 0, 1, 1, 0, 10), data.substr(0, 10));
  EXPECT_EQ(Read(*client_, 0, 1, 1, 12345, 5000), data.substr(12345, 5000));
  EXPECT_EQ(Read(*client_, 0, 1, 1, 99000), data.substr(99000));
  EXPECT_EQ(Read(*client_, 0, 1, 1, 99999, 1), data.substr(99999, 1));
  EXPECT_EQ(Read(*client_, 0, 1, 1, 500, 0), "");
  EXPECT_EQ(Read(*client_, 0, 1, 1, 100000), "");
  // A range running past the end reads what is there.
  EXPECT_EQ(Read(*client_, 0, 1, 1, 99990, 50), data.substr(99990));
}

TEST_P(ReplicaConformanceTest, EmptyFile) {
  ASSERT_TRUE(Write(*client_, Info(0, 7, 7, 0), "").ok());
  auto files = client_->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].size, 0);
  EXPECT_EQ(Read(*client_, 0, 7, 7), "");
}

TEST_P(ReplicaConformanceTest, MissingFileIsNotFound) {
  auto r = client_->OpenFile(0, 0x123, 0x456);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::Code::kNotFound) << r.status().ToString();
  EXPECT_NE(r.status().message().find("0000000000000123-0000000000000456"),
            std::string::npos)
      << r.status().message();
  // Also on a level that has other files.
  ASSERT_TRUE(Write(*client_, Info(0, 1, 1, 3), "abc").ok());
  auto r2 = client_->OpenFile(0, 2, 2);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), base::Code::kNotFound);
}

TEST_P(ReplicaConformanceTest, OverwriteReplacesContent) {
  ASSERT_TRUE(Write(*client_, Info(1, 1, 9, 5), "first").ok());
  ASSERT_TRUE(Write(*client_, Info(1, 1, 9, 12), "second-bytes").ok());
  EXPECT_EQ(Read(*client_, 1, 1, 9), "second-bytes");
  auto files = client_->ListFiles(1);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].size, 12);
}

TEST_P(ReplicaConformanceTest, DeleteFilesIgnoresMissing) {
  ASSERT_TRUE(Write(*client_, Info(0, 1, 1, 1), "a").ok());
  ASSERT_TRUE(Write(*client_, Info(0, 2, 2, 1), "b").ok());
  Status st = client_->DeleteFiles(
      {Info(0, 1, 1, 1), Info(0, 50, 50, 0), Info(4, 1, 2, 0)});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto files = client_->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].min_txid, 2u);
  auto gone = client_->OpenFile(0, 1, 1);
  EXPECT_EQ(gone.status().code(), base::Code::kNotFound);
  EXPECT_TRUE(client_->DeleteFiles({}).ok());
  EXPECT_TRUE(client_->DeleteFiles({Info(0, 1, 1, 1)}).ok());
}

TEST_P(ReplicaConformanceTest, CreationTimeRoundTripsToTheSecond) {
  // 2021-03-04T05:06:07.891Z and a time with no fraction.
  const TimePoint t1 = TimePoint(std::chrono::milliseconds(1614834367891));
  const TimePoint t2 = TimePoint(std::chrono::seconds(1500000000));
  std::string a = "abcd", b = "efgh";
  if (GetParam().created_from_ltx_header) {
    auto header = [](TxId min, TxId max, TimePoint t) {
      ltx::Header h;
      h.page_size = 4096;
      h.commit = 1;
      h.min_txid = min;
      h.max_txid = max;
      h.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           t.time_since_epoch())
                           .count();
      std::string out(ltx::kHeaderSize, '\0');
      h.Encode(reinterpret_cast<uint8_t*>(out.data()));
      return out;
    };
    a = header(1, 4, t1) + a;
    b = header(5, 8, t2) + b;
  }
  ASSERT_TRUE(Write(*client_, Info(2, 1, 4, a.size(), t1), a).ok());
  ASSERT_TRUE(Write(*client_, Info(2, 5, 8, b.size(), t2), b).ok());
  auto check = [&](storage::ReplicaClient& c) {
    auto files = c.ListFiles(2);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), 2u);
    using std::chrono::floor;
    using std::chrono::seconds;
    EXPECT_EQ(floor<seconds>((*files)[0].created), floor<seconds>(t1));
    EXPECT_EQ(floor<seconds>((*files)[1].created), floor<seconds>(t2));
  };
  check(*client_);
  // A fresh client (no memory of the writes) reads the stored time too.
  auto fresh = GetParam().factory();
  ASSERT_TRUE(fresh);
  check(*fresh);
}

TEST_P(ReplicaConformanceTest, ConcurrentWritesFromThreads) {
  const int threads = GetParam().threads;
  const int per = GetParam().files_per_thread;
  std::vector<std::thread> pool;
  std::vector<Status> results(static_cast<size_t>(threads * per));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per; ++i) {
        TxId id = static_cast<TxId>(t * per + i + 1);
        std::string data = RandomBytes(1000 + static_cast<size_t>(id) * 37, id);
        results[static_cast<size_t>(id - 1)] =
            Write(*client_, Info(0, id, id, data.size()), data);
      }
    });
  }
  for (auto& th : pool) th.join();
  for (const auto& st : results) ASSERT_TRUE(st.ok()) << st.ToString();
  auto files = client_->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), static_cast<size_t>(threads * per));
  for (size_t i = 0; i < files->size(); ++i) {
    TxId id = static_cast<TxId>(i + 1);
    EXPECT_EQ((*files)[i].min_txid, id);
    EXPECT_EQ(Read(*client_, 0, id, id),
              RandomBytes(1000 + static_cast<size_t>(id) * 37, id));
  }
}

TEST_P(ReplicaConformanceTest, LargeFile) {
  const size_t n = static_cast<size_t>(GetParam().large_file_size);
  const std::string data = RandomBytes(n, 99);
  Status st = Write(*client_, Info(9, 1, 0x1000, n), data);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto files = client_->ListFiles(9);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].size, static_cast<int64_t>(n));
  std::string back = Read(*client_, 9, 1, 0x1000);
  EXPECT_EQ(back.size(), n);
  EXPECT_TRUE(back == data) << "content differs";
  EXPECT_EQ(Read(*client_, 9, 1, 0x1000, static_cast<int64_t>(n) - 1000, 1000),
            data.substr(n - 1000));
}

TEST_P(ReplicaConformanceTest, ShortDataIsAnError) {
  FileInfo info = Info(0, 3, 3, 100);
  Status st = Write(*client_, info, "only ten b");
  EXPECT_FALSE(st.ok());
  auto files = client_->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty()) << "a partial file was listed";
}

TEST_P(ReplicaConformanceTest, DeleteAllRemovesEverything) {
  ASSERT_TRUE(Write(*client_, Info(0, 1, 1, 1), "a").ok());
  ASSERT_TRUE(Write(*client_, Info(9, 1, 1, 1), "b").ok());
  ASSERT_TRUE(client_->DeleteAll().ok());
  for (int level : {0, 9}) {
    auto files = client_->ListFiles(level);
    ASSERT_TRUE(files.ok());
    EXPECT_TRUE(files->empty());
  }
}

TEST_P(ReplicaConformanceTest, DescribeAndType) {
  EXPECT_FALSE(client_->Type().empty());
  EXPECT_FALSE(client_->Describe().empty());
}

// Every backend lists exactly the canonical LTX names (ltx::ParseFileName):
// no range with min > max or min 0, no upper-case hex (it would be listed
// and then fail to open), no temporaries or strangers.
TEST_P(ReplicaConformanceTest, ListingShowsOnlyCanonicalNames) {
  if (!GetParam().put_named) GTEST_SKIP() << "no way to store raw names";
  GetParam().put_named(
      0, {{ltx::FormatFileName(1, 2), "good"},
          {"0000000000000005-0000000000000003.ltx", "min > max"},
          {"0000000000000000-0000000000000003.ltx", "min 0"},
          {"000000000000000A-000000000000000B.ltx", "upper case"},
          {"0000000000000001-0000000000000002.ltx.tmp", "temporary"},
          {"0000000000000004-0000000000000004.LTX", "extension case"},
          {"1-2.ltx", "short"},
          {"000000000000000g-0000000000000002.ltx", "not hex"},
          {"0000000000000001_0000000000000002.ltx", "separator"}});
  auto files = client_->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].min_txid, 1u);
  EXPECT_EQ((*files)[0].max_txid, 2u);
  EXPECT_EQ((*files)[0].size, 4);
  EXPECT_EQ(Read(*client_, 0, 1, 2), "good");
  auto max = storage::MaxTxId(*client_);
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(*max, 2u);
}

}  // namespace litekeep::testing
