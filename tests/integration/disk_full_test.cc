// Disk full, with the real binary and small tmpfs mounts (the tests need
// root to mount; without it they skip saying so): a file replica whose disk
// fills up while replicating, then gets space back, and a restore whose
// target disk is too small (docs/reliability.md, "Crash and replace").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// A tmpfs of `size` (e.g. "2m") mounted at path until destroyed.
class Tmpfs {
 public:
  Tmpfs(const std::string& path, const std::string& size) : path_(path) {
    fs::create_directories(path);
    const std::string opts = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  std::string skip_reason() const {
    return "cannot mount a tmpfs at " + path_ + " (" + error_ +
           "): disk-full tests need root";
  }
  bool Resize(const std::string& size) {
    const std::string opts = "size=" + size;
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) ==
           0;
  }

 private:
  std::string path_;
  std::string error_;
  bool mounted_ = false;
};

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.push_back(e.path().string());
  }
  return out;
}

// The replica's disk fills up under a writing application: the replicator
// reports the error and keeps the application's writes (the WAL keeps
// them); once there is space again it catches up, and the restore equals
// the source.
TEST(DiskFullTest, ReplicaDiskFullThenSpaceReturns) {
  TempDir dir;
  const std::string replica = dir.Join("replica");
  Tmpfs disk(replica, "1m");
  if (!disk.mounted()) GTEST_SKIP() << disk.skip_reason();
  const std::string db = dir.Join("app.db");
  const std::string cfg = dir.Join("litekeep.yml");
  const int port = FreePort();  // litestream_disk_full (docs/metrics.md)
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                     << "dbs:\n  - path: " << db << "\n"
                     << "    replica:\n      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  const std::string full = "litestream_disk_full{db=\"" + db + "\"} ";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("replicating") != std::string::npos;
  })) << rep.Log();
  // ~3 MiB of incompressible rows: more than the replica's disk holds.
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(50000))"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("No space left on device") != std::string::npos;
  })) << rep.Log();
  ASSERT_TRUE(rep.running()) << rep.Log();
  EXPECT_TRUE(WaitUntil([&] {
    return HttpGet(port, "/metrics").second.find(full + "1") !=
           std::string::npos;
  }));
  // The application keeps writing while the replica is full.
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(1000))"), "");
  ASSERT_TRUE(disk.Resize("64m"));
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(1000))"), "");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(WaitUntil([&] {
    return HttpGet(port, "/metrics").second.find(full + "0") !=
           std::string::npos;
  }));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t"), "62");
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  // No partial upload is left in the replica (beside the LTX files: the
  // replica lease object and its lock file, docs/storage_layout.md).
  for (const std::string& p : Entries(replica)) {
    EXPECT_TRUE(fs::is_directory(p) || p.ends_with(".ltx") ||
                p == replica + "/lock.json" || p == replica + "/lock.json.lock")
        << p;
  }
}

// The restore target's disk is too small: the restore fails naming the
// cause, leaves nothing on that disk, and succeeds once there is room.
TEST(DiskFullTest, RestoreTargetFullFailsCleanly) {
  TempDir dir;
  const std::string out_dir = dir.Join("out");
  Tmpfs disk(out_dir, "1m");
  if (!disk.mounted()) GTEST_SKIP() << disk.skip_reason();
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                    "FROM c WHERE i<40) INSERT INTO t SELECT randomblob(50000) "
                    "FROM c;"),
            "");
  auto once = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", db, replica});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  const std::string out = out_dir + "/app.db";
  auto full =
      litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, replica});
  EXPECT_NE(full.exit_code, 0);
  EXPECT_NE(full.err.find("No space left on device"), std::string::npos)
      << full.err;
  EXPECT_TRUE(Entries(out_dir).empty())
      << "left behind: " << Entries(out_dir).front();
  ASSERT_TRUE(disk.Resize("16m"));
  auto ok =
      litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, replica});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ContentHash(out), ContentHash(db));
}

}  // namespace
}  // namespace litekeep::testing
