// Litestream 0.3 replicas written by the official Litestream v0.3.13 binary
// (a real workload across checkpoints, a dropped table and a VACUUM), to a
// local directory and to s3rver, restored by litekeep: page for page what
// `litestream restore` produces (file), equal in content to the source, the
// same point-in-time state as `litestream restore -timestamp`, and the same
// `snapshots` / `wal` listings.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/litestream03.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

WorkloadOptions Workload(int transactions) {
  WorkloadOptions w;
  w.transactions = transactions;
  w.drop_recreate_at = transactions / 4;
  w.vacuum_at = transactions * 2 / 3;
  w.after_commit = [](int i) {
    if (i % 100 == 99)
      std::this_thread::sleep_for(std::chrono::milliseconds(350));
  };
  return w;
}

std::string FileSha(const std::string& path) {
  return Sha256Hex(ReadFile(path));
}

std::string MtimeRfc3339(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  std::time_t secs = st.st_mtim.tv_sec;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof(out), "%s.%09ldZ", buf, st.st_mtim.tv_nsec);
  return out;
}

class Legacy03FileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    db_ = dir_->Join("app.db");
    replica_ = dir_->Join("replica");
    config_ = dir_->Join("litestream.yml");
    std::ofstream(config_) << "dbs:\n"
                           << "  - path: " << db_ << "\n"
                           << "    min-checkpoint-page-count: 100\n"
                           << "    replicas:\n"
                           << "      - type: file\n"
                           << "        path: " << replica_ << "\n"
                           << "        sync-interval: 200ms\n";
    if (Litestream03Bin().empty()) return;
    error_ = ReplicateWithLitestream03(config_, db_, Workload(1500),
                                       dir_->Join("litestream.log"));
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override {
    if (Litestream03Bin().empty())
      GTEST_SKIP() << "litestream 0.3.13 not installed";
    ASSERT_EQ(error_, "");
  }
  std::vector<std::string> WalSegments() const {
    std::vector<std::string> out;
    for (const auto& f : FilesUnder(replica_)) {
      if (f.ends_with(".wal.lz4")) out.push_back(f);
    }
    return out;
  }

  static TempDir* dir_;
  static std::string db_, replica_, config_, error_;
};
TempDir* Legacy03FileTest::dir_ = nullptr;
std::string Legacy03FileTest::db_, Legacy03FileTest::replica_,
    Legacy03FileTest::config_, Legacy03FileTest::error_;

TEST_F(Legacy03FileTest, RestoreIsPageForPageWhatLitestreamRestores) {
  // The workload crossed checkpoints: several WAL indexes.
  std::set<std::string> indexes;
  for (const auto& f : WalSegments()) {
    indexes.insert(f.substr(f.rfind('/') + 1, 8));
  }
  EXPECT_GE(indexes.size(), 3u);

  TempDir out;
  auto ls = litekeep::testing::Run({Litestream03Bin(), "restore", "-config",
                                    config_, "-o", out.Join("ls.db"), db_});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto lk = litekeep::testing::Run({LitekeepBin(), "restore", "-config",
                                    config_, "-o", out.Join("lk.db"), db_});
  ASSERT_EQ(lk.exit_code, 0) << lk.err;
  EXPECT_EQ(FileSha(out.Join("lk.db")), FileSha(out.Join("ls.db")));
  EXPECT_EQ(ContentHash(out.Join("lk.db")), ContentHash(db_));
  EXPECT_EQ(QueryOne(out.Join("lk.db"), "PRAGMA integrity_check"), "ok");
  EXPECT_FALSE(std::filesystem::exists(out.Join("lk.db.tmp")));

  // The replica URL form gives the same file.
  auto url = litekeep::testing::Run({LitekeepBin(), "restore", "-o",
                                     out.Join("url.db"), "file://" + replica_});
  ASSERT_EQ(url.exit_code, 0) << url.err;
  EXPECT_EQ(FileSha(out.Join("url.db")), FileSha(out.Join("ls.db")));
}

TEST_F(Legacy03FileTest, PointInTimeMatchesLitestream) {
  auto segs = WalSegments();
  ASSERT_GE(segs.size(), 6u);
  std::sort(segs.begin(), segs.end(),
            [](const std::string& a, const std::string& b) {
              return MtimeRfc3339(a) < MtimeRfc3339(b);
            });
  const std::string final_hash = ContentHash(db_);
  for (size_t pick : {segs.size() / 4, segs.size() / 2, segs.size() * 3 / 4}) {
    const std::string ts = MtimeRfc3339(segs[pick]);
    SCOPED_TRACE("timestamp " + ts);
    TempDir out;
    auto ls =
        litekeep::testing::Run({Litestream03Bin(), "restore", "-timestamp", ts,
                                "-o", out.Join("ls.db"), "file://" + replica_});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto lk =
        litekeep::testing::Run({LitekeepBin(), "restore", "-timestamp", ts,
                                "-o", out.Join("lk.db"), "file://" + replica_});
    ASSERT_EQ(lk.exit_code, 0) << lk.err;
    EXPECT_EQ(FileSha(out.Join("lk.db")), FileSha(out.Join("ls.db")));
    EXPECT_NE(ContentHash(out.Join("lk.db")), final_hash);
  }
}

TEST_F(Legacy03FileTest, IndexFlagRestoresUpToThatIndex) {
  auto gens = litekeep::testing::Run(
      {LitekeepBin(), "generations", "file://" + replica_});
  ASSERT_EQ(gens.exit_code, 0) << gens.err;
  std::string gen;
  for (const auto& f : WalSegments()) {
    gen = f.substr(f.find("/generations/") + 13, 16);
  }
  TempDir out;
  auto ls = litekeep::testing::Run({Litestream03Bin(), "restore", "-generation",
                                    gen, "-index", "1", "-o", out.Join("ls.db"),
                                    "file://" + replica_});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  auto lk = litekeep::testing::Run({LitekeepBin(), "restore", "-generation",
                                    gen, "-index", "1", "-o", out.Join("lk.db"),
                                    "file://" + replica_});
  ASSERT_EQ(lk.exit_code, 0) << lk.err;
  EXPECT_EQ(FileSha(out.Join("lk.db")), FileSha(out.Join("ls.db")));
}

TEST_F(Legacy03FileTest, ListingsMatchLitestream) {
  for (const char* cmd : {"snapshots", "wal"}) {
    SCOPED_TRACE(cmd);
    auto ls =
        litekeep::testing::Run({Litestream03Bin(), cmd, "file://" + replica_});
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto lk =
        litekeep::testing::Run({LitekeepBin(), cmd, "file://" + replica_});
    ASSERT_EQ(lk.exit_code, 0) << lk.err;
    EXPECT_EQ(lk.out, ls.out);
  }
  // generations: same rows except the lag, which depends on "now".
  auto ls = litekeep::testing::Run(
      {Litestream03Bin(), "generations", "file://" + replica_});
  auto lk = litekeep::testing::Run(
      {LitekeepBin(), "generations", "file://" + replica_});
  ASSERT_EQ(lk.exit_code, 0) << lk.err;
  auto strip_lag = [](const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string name, gen, lag, start, end;
    while (in >> name >> gen >> lag >> start >> end) {
      out += name + " " + gen + " " + start + " " + end + "\n";
    }
    return out;
  };
  EXPECT_EQ(strip_lag(lk.out), strip_lag(ls.out));
  EXPECT_TRUE(lk.out.starts_with("name  generation ")) << lk.out;

  auto ltx =
      litekeep::testing::Run({LitekeepBin(), "ltx", "file://" + replica_});
  ASSERT_EQ(ltx.exit_code, 0) << ltx.err;
  EXPECT_NE(ltx.err.find("Litestream 0.3 data"), std::string::npos) << ltx.err;
}

TEST(Legacy03S3Test, RestoreFromS3EqualsTheSource) {
  if (Litestream03Bin().empty())
    GTEST_SKIP() << "litestream 0.3.13 not installed";
  std::string error;
  auto s3 = S3rver::Start("legacy", &error);
  ASSERT_NE(s3, nullptr) << error;
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string config = dir.Join("litestream.yml");
  std::ofstream(config) << "access-key-id: S3RVER\n"
                        << "secret-access-key: S3RVER\n"
                        << "dbs:\n"
                        << "  - path: " << db << "\n"
                        << "    min-checkpoint-page-count: 100\n"
                        << "    replicas:\n"
                        << "      - type: s3\n"
                        << "        bucket: legacy\n"
                        << "        path: backups/app\n"
                        << "        endpoint: " << s3->endpoint() << "\n"
                        << "        region: us-east-1\n"
                        << "        force-path-style: true\n"
                        << "        sync-interval: 200ms\n";
  ASSERT_EQ(ReplicateWithLitestream03(config, db, Workload(1000),
                                      dir.Join("litestream.log")),
            "");
  auto wal =
      litekeep::testing::Run({LitekeepBin(), "wal", "-config", config, db});
  ASSERT_EQ(wal.exit_code, 0) << wal.err;
  EXPECT_GE(std::count(wal.out.begin(), wal.out.end(), '\n'), 4) << wal.out;

  auto lk = litekeep::testing::Run({LitekeepBin(), "restore", "-config", config,
                                    "-o", dir.Join("restored.db"), db});
  ASSERT_EQ(lk.exit_code, 0) << lk.err;
  EXPECT_EQ(ContentHash(dir.Join("restored.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("restored.db"), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace litekeep::testing
