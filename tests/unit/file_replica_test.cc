// The file backend: the shared ReplicaClient conformance suite, plus the
// on-disk layout of docs/storage_layout.md and its error messages.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/file/file_client.h"
#include "storage/layout.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

TempDir& ConformanceDir() {
  static TempDir* dir = new TempDir();
  return *dir;
}

// Writes files under raw names into a level directory of the replica.
void PutNamed(int level,
              const std::vector<std::pair<std::string, std::string>>& files) {
  const std::string dir =
      storage::LtxLevelDir(ConformanceDir().Join("replica"), level);
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : files) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << bytes;
    ASSERT_TRUE(out.good()) << dir << "/" << name;
  }
}

ReplicaBackend FileBackend() {
  ReplicaBackend b{
      "file",
      [] {
        return std::unique_ptr<storage::ReplicaClient>(
            new storage::FileReplicaClient(ConformanceDir().Join("replica")));
      },
      12 << 20};
  b.put_named = PutNamed;
  return b;
}

INSTANTIATE_TEST_SUITE_P(File, ReplicaConformanceTest,
                         ::testing::Values(FileBackend()), ReplicaBackendName);

TEST(FileReplicaTest, LayoutAndMtime) {
  TempDir dir;
  storage::FileReplicaClient c(dir.Join("r"));
  std::string data = "hello";
  base::SpanReader in({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  storage::FileInfo info{3, 0x10, 0x2a, 5,
                         TimePoint(std::chrono::seconds(1700000000))};
  ASSERT_TRUE(c.WriteFile(info, in).ok());
  std::string path = dir.Join("r/ltx/3/0000000000000010-000000000000002a.ltx");
  ASSERT_TRUE(std::filesystem::exists(path));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  // No temporary files are left behind.
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.Join("r/ltx/3"))) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FileReplicaTest, UnwritableReplicaNamesTheDirectory) {
  TempDir dir;
  ASSERT_EQ(ExecSql(dir.Join("plain-file"), "CREATE TABLE x(a)"), "");
  storage::FileReplicaClient c(dir.Join("plain-file/replica"));
  std::string data = "x";
  base::SpanReader in({reinterpret_cast<const uint8_t*>(data.data()), 1});
  Status s = c.WriteFile({0, 1, 1, 1, Clock::now()}, in);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("plain-file/replica"), std::string::npos)
      << s.message();
}

TEST(FileReplicaTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  storage::FileReplicaClient c(dir.path());
  auto r = c.OpenFile(0, 7, 7, 0, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::Code::kNotFound);
  EXPECT_NE(r.status().message().find("0000000000000007-0000000000000007.ltx"),
            std::string::npos);
}

}  // namespace
}  // namespace litekeep::testing
