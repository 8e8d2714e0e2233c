// Damaged Litestream 0.3 replicas (written by the official v0.3.13 binary,
// then edited): a truncated LZ4 frame, a WAL segment missing in the middle
// of an index, a WAL frame with a bad checksum. litekeep restore must fail
// with an error naming the object and leave no output file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/litestream03.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

class Legacy03CorruptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const std::string db = dir_->Join("app.db");
    replica_ = dir_->Join("replica");
    const std::string config = dir_->Join("litestream.yml");
    std::ofstream(config) << "dbs:\n"
                          << "  - path: " << db << "\n"
                          << "    replicas:\n"
                          << "      - type: file\n"
                          << "        path: " << replica_ << "\n"
                          << "        sync-interval: 200ms\n";
    if (Litestream03Bin().empty()) return;
    WorkloadOptions w;
    w.transactions = 600;
    w.after_commit = [](int i) {
      if (i % 100 == 99)
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    };
    error_ =
        ReplicateWithLitestream03(config, db, w, dir_->Join("litestream.log"));
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override {
    if (Litestream03Bin().empty())
      GTEST_SKIP() << "litestream 0.3.13 not installed";
    ASSERT_EQ(error_, "");
    copy_ = work_.Join("replica");
    fs::copy(replica_, copy_, fs::copy_options::recursive);
  }

  // The WAL segments of the copy, grouped by index (name order).
  std::map<std::string, std::vector<std::string>> SegmentsByIndex() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& f : FilesUnder(copy_)) {
      if (!f.ends_with(".wal.lz4")) continue;
      out[f.substr(f.rfind('/') + 1, 8)].push_back(f);
    }
    return out;
  }

  // Restores the copy; expects failure naming `object` and no output.
  void ExpectFailure(const std::string& object, const std::string& what) {
    const std::string out = work_.Join("out.db");
    auto r = litekeep::testing::Run(
        {LitekeepBin(), "restore", "-o", out, "file://" + copy_});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string rel = object.substr(copy_.size() + 1);
    EXPECT_NE(r.err.find(rel), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".tmp"));
    EXPECT_FALSE(fs::exists(out + ".tmp-txn"));
  }

  static TempDir* dir_;
  static std::string replica_, error_;
  TempDir work_;
  std::string copy_;
};
TempDir* Legacy03CorruptTest::dir_ = nullptr;
std::string Legacy03CorruptTest::replica_, Legacy03CorruptTest::error_;

TEST_F(Legacy03CorruptTest, UntouchedCopyRestores) {
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", work_.Join("ok.db"), "file://" + copy_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(Legacy03CorruptTest, TruncatedLz4Frame) {
  auto segs = SegmentsByIndex();
  ASSERT_FALSE(segs.empty());
  const std::string victim = segs.begin()->second.back();
  std::string data = ReadFile(victim);
  ASSERT_GT(data.size(), 40u);
  fs::resize_file(victim, data.size() / 2);
  ExpectFailure(victim, "truncated LZ4 frame");
}

// Every snapshot is truncated (under load Litestream may have started more
// than one generation, and restore reads only the newest one's): restore
// fails naming one of them.
TEST_F(Legacy03CorruptTest, TruncatedSnapshot) {
  std::vector<std::string> snaps;
  for (const auto& f : FilesUnder(copy_)) {
    if (f.ends_with(".snapshot.lz4")) snaps.push_back(f);
  }
  ASSERT_FALSE(snaps.empty());
  for (const auto& snap : snaps) {
    fs::resize_file(snap, fs::file_size(snap) - 7);
  }
  const std::string out = work_.Join("out.db");
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", out, "file://" + copy_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("LZ4"), std::string::npos) << r.err;
  bool named = false;
  for (const auto& snap : snaps) {
    named |= r.err.find(snap.substr(copy_.size() + 1)) != std::string::npos;
  }
  EXPECT_TRUE(named) << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(Legacy03CorruptTest, MissingSegmentInTheMiddle) {
  std::string victim;
  for (const auto& [index, files] : SegmentsByIndex()) {
    if (files.size() >= 3) victim = files[files.size() / 2];
  }
  ASSERT_FALSE(victim.empty()) << "no WAL index with 3 segments";
  fs::remove(victim);
  ExpectFailure(victim, "missing WAL segment");
}

TEST_F(Legacy03CorruptTest, BadWalChecksum) {
  auto segs = SegmentsByIndex();
  std::string victim;
  for (const auto& [index, files] : segs) {
    if (files.size() >= 2) victim = files[1];  // a segment of frames only
  }
  ASSERT_FALSE(victim.empty());
  std::string wal = Lz4Decompress(ReadFile(victim));
  ASSERT_GT(wal.size(), 24u + 512u);
  wal[24 + 100] ^= 0x5a;  // a byte of the first frame's page
  std::string frame = Lz4Compress(wal);
  ASSERT_FALSE(frame.empty());
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << frame;
  ExpectFailure(victim, "checksum mismatch");
}

}  // namespace
}  // namespace litekeep::testing
