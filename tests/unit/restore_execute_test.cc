// Restore execution and verification against hostile replicas (file
// backend): broken checksum chains, a wrong final post-apply checksum, page
// sizes that change without a full image, FIFOs named like LTX files,
// symlinks where temporaries used to go, and the restored file's mode
// (docs/reliability.md).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "restore/executor.h"
#include "restore/planner.h"
#include "restore/verify.h"
#include "storage/file/file_client.h"
#include "storage/layout.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::restore {
namespace {

using ltx::testutil::AsBytes;
using ltx::testutil::DbChecksum;
using ltx::testutil::EncodeFile;
using ltx::testutil::MakeHeader;
using ltx::testutil::MakePage;
using ltx::testutil::Page;
using ltx::testutil::PageKind;
namespace fs = std::filesystem;

class RestoreExecuteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    replica_ =
        std::make_unique<storage::FileReplicaClient>(dir_.Join("replica"));
  }

  // Writes an LTX file (encoded by our Encoder) to the replica.
  void Put(int level, const ltx::Header& h, const std::vector<Page>& pages,
           uint64_t post) {
    base::Status s;
    std::string bytes = EncodeFile(h, pages, post, &s);
    ASSERT_TRUE(s.ok()) << s.ToString();
    storage::FileInfo f{level, h.min_txid, h.max_txid,
                        static_cast<int64_t>(bytes.size()), Clock::now()};
    base::SpanReader r(AsBytes(bytes));
    ASSERT_TRUE(replica_->WriteFile(f, r).ok());
  }

  std::vector<Page> Pages(uint32_t page_size, std::vector<Pgno> pgnos) {
    std::vector<Page> out;
    for (Pgno p : pgnos)
      out.emplace_back(p, MakePage(rng_, page_size, PageKind::kRandom));
    return out;
  }

  // Restores the newest state of `from` (default: the file replica); a
  // remote one is downloaded in 64 KiB ranges.
  Result<ExecuteResult> Restore(const std::string& out,
                                storage::ReplicaClient* from = nullptr,
                                int parallelism = 8) {
    if (from == nullptr) from = replica_.get();
    LK_ASSIGN_OR_RETURN(auto files, ListAllFiles(*from));
    LK_ASSIGN_OR_RETURN(Plan plan, MakePlan(files, Target{}, "test replica"));
    ExecuteOptions o;
    o.output = out;
    o.integrity = IntegrityCheck::kNone;  // the pages are not a SQLite file
    o.parallelism = parallelism;
    o.range_bytes = 64 << 10;
    return Execute(*from, plan, o);
  }

  Result<VerifyReport> VerifyChecksums() {
    VerifyOptions o;
    o.depth = VerifyDepth::kChecksums;
    o.temp_dir = dir_.path();
    return Verify(*replica_, o);
  }

  // A checksummed snapshot of pages 1..3 (4096 bytes) and a checksummed
  // increment changing page 2, with the given pre-apply checksum (nullopt:
  // the right one) and post-apply checksum (nullopt: the right one).
  void ChecksummedChain(std::optional<uint64_t> pre,
                        std::optional<uint64_t> post) {
    auto snap = Pages(4096, {1, 2, 3});
    const uint64_t snap_sum = DbChecksum(4096, snap);
    Put(9, MakeHeader(4096, 3, 1, 1, false), snap, snap_sum);
    auto inc = Pages(4096, {2});
    std::vector<Page> after = {snap[0], inc[0], snap[2]};
    Put(0, MakeHeader(4096, 3, 2, 2, false, pre.value_or(snap_sum)), inc,
        post.value_or(DbChecksum(4096, after)));
    expected_ = snap[0].second + inc[0].second + snap[2].second;
  }

  // Whatever is in the output's directory besides `keep`.
  std::vector<std::string> Leftovers(const std::string& keep) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      const std::string n = e.path().filename().string();
      if (n != "replica" && n != keep) out.push_back(n);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::FileReplicaClient> replica_;
  std::mt19937_64 rng_{7};
  std::string expected_;
};

// The file replica made to look remote (downloaded through the Fetcher),
// recording every ranged open; `extra` is added to every listed size.
class RangedReplica : public storage::ReplicaClient {
 public:
  RangedReplica(storage::ReplicaClient* inner, int64_t extra)
      : inner_(inner), extra_(extra) {}
  std::string Type() const override { return "ranged"; }
  std::string Describe() const override { return "ranged test replica"; }
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override {
    LK_ASSIGN_OR_RETURN(auto files, inner_->ListFiles(level));
    for (auto& f : files) f.size += extra_;
    return files;
  }
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override {
    std::lock_guard<std::mutex> l(mu_);
    opens_.emplace_back(offset, length);
    return inner_->OpenFile(level, min_txid, max_txid, offset, length);
  }
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override {
    return inner_->WriteFile(info, data);
  }
  base::Status DeleteFiles(
      const std::vector<storage::FileInfo>& files) override {
    return inner_->DeleteFiles(files);
  }
  base::Status DeleteAll() override { return inner_->DeleteAll(); }
  std::vector<std::pair<int64_t, int64_t>> opens() {
    std::lock_guard<std::mutex> l(mu_);
    return opens_;
  }

 private:
  storage::ReplicaClient* inner_;
  int64_t extra_;
  std::mutex mu_;
  std::vector<std::pair<int64_t, int64_t>> opens_;
};

// A remote replica's files are fetched in many ranges at once, across
// files, and the restored bytes are exact.
TEST_F(RestoreExecuteTest, RemoteFilesInManyRangesRestoreExactly) {
  auto snap = Pages(4096, {});
  for (Pgno p = 1; p <= 200; ++p) {
    snap.emplace_back(p, MakePage(rng_, 4096, PageKind::kRandom));
  }
  Put(9, MakeHeader(4096, 200, 1, 1, true), snap, 0);
  auto inc = Pages(4096, {5, 6, 7, 150});
  Put(0, MakeHeader(4096, 200, 2, 2, true), inc, 0);
  for (const auto& [pgno, bytes] : inc) snap[pgno - 1].second = bytes;
  std::string want;
  for (const auto& p : snap) want += p.second;

  RangedReplica remote(replica_.get(), 0);
  auto r = Restore(dir_.Join("out.db"), &remote, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(testing::ReadFile(dir_.Join("out.db")) == want);
  // Over 800 KiB of random pages: at least 13 ranges of the snapshot, one
  // of the increment.
  EXPECT_GE(remote.opens().size(), 14u);
  EXPECT_TRUE(Leftovers("out.db").empty());
}

// A store that sends fewer bytes than listed, in a later range of a large
// file: the restore names the file and both sizes, and leaves nothing.
TEST_F(RestoreExecuteTest, RemoteFileShorterThanListedIsRefused) {
  std::vector<Page> snap;
  for (Pgno p = 1; p <= 100; ++p) {
    snap.emplace_back(p, MakePage(rng_, 4096, PageKind::kRandom));
  }
  Put(9, MakeHeader(4096, 100, 1, 1, true), snap, 0);
  RangedReplica remote(replica_.get(), 1000);
  auto files = remote.ListFiles(9);
  ASSERT_TRUE(files.ok() && files->size() == 1);
  auto r = Restore(dir_.Join("out.db"), &remote);
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_NE(m.find("download level 9 file "
                   "0000000000000001-0000000000000001.ltx"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("of the listed " + std::to_string((*files)[0].size)),
            std::string::npos)
      << m;
  EXPECT_FALSE(fs::exists(dir_.Join("out.db")));
  EXPECT_TRUE(Leftovers("").empty());
}

TEST_F(RestoreExecuteTest, ChecksummedChainRestoresAndIsChecked) {
  ChecksummedChain(std::nullopt, std::nullopt);
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->checksum_verified);
  EXPECT_EQ(testing::ReadFile(dir_.Join("out.db")), expected_);
  EXPECT_TRUE(Leftovers("out.db").empty());
  auto v = VerifyChecksums();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems.front().message;
}

TEST_F(RestoreExecuteTest, BrokenPreApplyChainIsRefusedNamingTheFile) {
  ChecksummedChain(ltx::kChecksumFlag | 0x1234, std::nullopt);
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pre-apply checksum mismatch"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("level 0 file "
                                      "0000000000000002-0000000000000002.ltx"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(dir_.Join("out.db")));
  EXPECT_TRUE(Leftovers("").empty());
}

TEST_F(RestoreExecuteTest, WrongFinalPostApplyChecksumIsRefused) {
  ChecksummedChain(std::nullopt, ltx::kChecksumFlag | 0xbad);
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("post-apply checksum mismatch"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("0000000000000002-0000000000000002.ltx"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(dir_.Join("out.db")));
  EXPECT_TRUE(Leftovers("").empty());
  // verify -checksums catches it too (the chain itself is consistent).
  auto v = VerifyChecksums();
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->ok());
  EXPECT_EQ(v->problems.front().check, "checksum");
  EXPECT_NE(v->problems.front().message.find("post-apply checksum mismatch"),
            std::string::npos)
      << v->problems.front().message;
  EXPECT_TRUE(Leftovers("").empty());
}

TEST_F(RestoreExecuteTest, IncrementWithAnotherPageSizeIsRefused) {
  Put(9, MakeHeader(4096, 3, 1, 1, true), Pages(4096, {1, 2, 3}), 0);
  Put(0, MakeHeader(1024, 3, 2, 2, true), Pages(1024, {2}), 0);
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("page size 1024 differs from the page "
                                      "size 4096"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("0000000000000002-0000000000000002.ltx"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(dir_.Join("out.db")));
  auto v = VerifyChecksums();
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->ok());
  EXPECT_NE(v->problems.front().message.find("page size 1024 differs"),
            std::string::npos)
      << v->problems.front().message;
}

TEST_F(RestoreExecuteTest, FullImageMayChangeThePageSize) {
  // What the replicator writes after a VACUUM to another page size.
  Put(9, MakeHeader(4096, 3, 1, 1, true), Pages(4096, {1, 2, 3}), 0);
  auto image = Pages(1024, {1, 2, 3, 4});
  Put(0, MakeHeader(1024, 4, 2, 2, true), image, 0);
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->page_size, 1024u);
  EXPECT_EQ(
      testing::ReadFile(dir_.Join("out.db")),
      image[0].second + image[1].second + image[2].second + image[3].second);
  auto v = VerifyChecksums();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems.front().message;
}

TEST_F(RestoreExecuteTest, RestoredFileIsPrivateAndNoSymlinkIsFollowed) {
  Put(9, MakeHeader(4096, 2, 1, 1, true), Pages(4096, {1, 2}), 0);
  // The names the old code used for temporaries, planted as symlinks.
  const std::string victim = dir_.Join("victim");
  std::ofstream(victim) << "precious";
  const std::string out = dir_.Join("out.db");
  for (const char* s : {".tmp", ".tmp-dl-0"}) {
    ASSERT_EQ(::symlink(victim.c_str(), (out + s).c_str()), 0);
  }
  ::umask(022);
  auto r = Restore(out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::ReadFile(victim), "precious");
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(RestoreExecuteTest, ScratchDirIsPrivateAndRemoved) {
  std::string path;
  {
    auto d = ScratchDir::Create(dir_.path(), "x");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    path = d->path();
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_TRUE(d->CreateFile("a").ok());
    // An existing name (or a symlink) is never opened.
    ASSERT_EQ(::symlink("/etc/passwd", (path + "/b").c_str()), 0);
    EXPECT_FALSE(d->CreateFile("b").ok());
    EXPECT_FALSE(d->CreateFile("a").ok());
    ASSERT_TRUE(d->CreateAnonymous("c").ok());
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(RestoreExecuteTest, FifoNamedLikeAnLtxFileDoesNotHang) {
  Put(9, MakeHeader(4096, 2, 1, 1, true), Pages(4096, {1, 2}), 0);
  const std::string fifo = storage::LtxFilePath(dir_.Join("replica"), 0, 2, 2);
  fs::create_directories(fs::path(fifo).parent_path());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Not listed, and opening it directly fails at once instead of blocking.
  auto listed = replica_->ListFiles(0);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto opened = replica_->OpenFile(0, 2, 2, 0, -1);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("not a regular file"),
            std::string::npos)
      << opened.status().message();
  auto r = Restore(dir_.Join("out.db"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->txid, 1u);
  auto v = VerifyChecksums();
  ASSERT_TRUE(v.ok());
}

}  // namespace
}  // namespace litekeep::restore
