// `litekeep reset` (drops local state, dry run, refused while a replicator
// holds the state lock; the next sync still gives an exact replica) and the
// final sync's retries (`shutdown-sync-timeout`/`-interval`; a second
// signal stops them), each against a real file replica.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

TEST(ResetTest, DropsLocalStateAndNextSyncRestoresExactly) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string meta = dir.Join(".app.db-litekeep");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('before')"),
            "");
  auto r = Litekeep({"replicate", "-once", db, "file://" + replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(meta));

  auto dry = Litekeep({"reset", "-dry-run", db});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_TRUE(Contains(dry.out, "would remove " + meta)) << dry.out;
  EXPECT_TRUE(fs::exists(meta));

  {  // A replicator holds the state lock: refused, naming the database.
    const std::string lock = meta + "/lock";
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "4242\n", 5), 5);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    auto busy = Litekeep({"reset", db});
    EXPECT_EQ(busy.exit_code, 1) << busy.out;
    EXPECT_TRUE(Contains(busy.err, db)) << busy.err;
    EXPECT_TRUE(Contains(busy.err, "pid 4242")) << busy.err;
    EXPECT_TRUE(fs::exists(meta + "/position.json"));
    ::close(fd);
  }

  auto reset = Litekeep({"reset", db});
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_FALSE(fs::exists(meta));
  auto again = Litekeep({"reset", db});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "nothing to reset")) << again.out;

  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('after')"), "");
  // Without local state, a database that changed since its last sync cannot
  // be proven to descend from the replica (lineage guard): refused, unless a
  // new history is asked for.
  r = Litekeep({"replicate", "-once", db, "file://" + replica});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "-new-history")) << r.err;
  r = Litekeep({"replicate", "-once", "-new-history", db, "file://" + replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto restored = Litekeep({"restore", "-o", dir.Join("out.db"), replica});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT group_concat(x) FROM t"),
            "before,after");

  // Damaged local state: recovered automatically (auto-recover), said so.
  std::ofstream(meta + "/position.json", std::ios::trunc) << "{garbage";
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('damaged')"), "");
  r = Litekeep({"replicate", "-once", db, "file://" + replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "damaged; starting over (auto-recover)"))
      << r.err;
  restored = Litekeep({"restore", "-o", dir.Join("out2.db"), replica});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out2.db"), "SELECT group_concat(x) FROM t"),
            "before,after,damaged");
}

// A replicate run whose replica directory is replaced by a plain file, so
// every sync fails until Heal() puts it back.
struct BrokenReplica {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("r");
  std::unique_ptr<ChildProcess> rep;

  void Start() {
    ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    const std::string config = dir.Join("litekeep.yml");
    std::ofstream(config) << "shutdown-sync-timeout: 30s\n"
                             "shutdown-sync-interval: 200ms\n"
                             "dbs:\n  - path: "
                          << db << "\n    replica:\n      path: " << replica
                          << "\n";
    rep = std::make_unique<ChildProcess>(
        std::vector<std::string>{LitekeepBin(), "replicate", "-config", config},
        dir.Join("log"));
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }))
        << rep->Log();
    fs::rename(replica, replica + ".away");
    std::ofstream(replica) << "not a directory";
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('last words')"), "");
    ASSERT_TRUE(WaitUntil([&] { return Contains(rep->Log(), "sync failed"); }))
        << rep->Log();
  }
  void Heal() {
    fs::remove(replica);
    fs::rename(replica + ".away", replica);
  }
};

TEST(ShutdownSyncTest, FinalSyncRetriesUntilTheReplicaIsBack) {
  BrokenReplica b;
  b.Start();
  b.rep->Signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] {
    return Contains(b.rep->Log(), "final sync attempt 2 failed");
  })) << b.rep->Log();
  EXPECT_TRUE(b.rep->running());
  b.Heal();
  ASSERT_EQ(b.rep->Wait(), 0) << b.rep->Log();
  auto r = Litekeep({"restore", "-o", b.dir.Join("out.db"), b.replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(b.dir.Join("out.db"), "SELECT x FROM t"), "last words");
}

TEST(ShutdownSyncTest, SecondSignalStopsTheRetries) {
  BrokenReplica b;
  b.Start();
  b.rep->Signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] {
    return Contains(b.rep->Log(), "final sync attempt 1 failed");
  })) << b.rep->Log();
  const auto t0 = std::chrono::steady_clock::now();
  b.rep->Signal(SIGTERM);
  int code = b.rep->Wait(std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(code, 1) << b.rep->Log();  // the last changes were not shipped
  EXPECT_TRUE(Contains(b.rep->Log(), "received again")) << b.rep->Log();
  b.Heal();
}

}  // namespace
}  // namespace litekeep::testing
