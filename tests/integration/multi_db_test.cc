// Many databases in one `replicate`: several `dbs:` entries, directory
// entries that pick up databases created later, independence when one
// database fails, -exec with exit-code passthrough, -restore-if-db-not-
// exists for the serverless start-up pattern, wake-on-change syncs, write
// events heard only while a database needs them, and idle databases written
// just before a stop.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

CommandResult Restore(const std::string& replica, const std::string& out) {
  return litekeep::testing::Run(
      {LitekeepBin(), "restore", "-force", "-o", out, replica});
}

TEST(MultiDbTest, SeveralDatabasesAndOneBrokenDoesNotStopOthers) {
  TempDir dir;
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream out(cfg);
  out << "dbs:\n";
  for (const char* name : {"a", "b", "missing"}) {
    out << "  - path: " << dir.Join(std::string(name) + ".db") << "\n"
        << "    monitor-interval: 100ms\n"
        << "    replica:\n      path: " << dir.Join(std::string("r-") + name)
        << "\n      sync-interval: 100ms\n";
  }
  out.close();
  for (const char* name : {"a", "b"}) {
    ASSERT_EQ(ExecSql(dir.Join(std::string(name) + ".db"),
                      "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"),
              "");
  }
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    std::string log = rep.Log();
    return log.find("replicating " + dir.Join("a.db")) != std::string::npos &&
           log.find("replicating " + dir.Join("b.db")) != std::string::npos;
  })) << rep.Log();
  ASSERT_EQ(ExecSql(dir.Join("a.db"), "INSERT INTO t VALUES('from a')"), "");
  ASSERT_EQ(ExecSql(dir.Join("b.db"), "INSERT INTO t VALUES('from b')"), "");
  // The missing database appears later and is picked up.
  ASSERT_EQ(ExecSql(dir.Join("missing.db"),
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES('late')"),
            "");
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("replicating " + dir.Join("missing.db")) !=
           std::string::npos;
  })) << rep.Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  for (const char* name : {"a", "b", "missing"}) {
    std::string restored = dir.Join(std::string("out-") + name + ".db");
    auto r = Restore(dir.Join(std::string("r-") + name), restored);
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(ContentHash(restored),
              ContentHash(dir.Join(std::string(name) + ".db")))
        << name;
  }
}

TEST(MultiDbTest, DirectoryEntryWatchesForNewDatabases) {
  TempDir dir;
  fs::create_directories(dir.Join("data/sub"));
  ASSERT_EQ(ExecSql(dir.Join("data/one.db"),
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"),
            "");
  std::ofstream(dir.Join("data/notes.txt")) << "not a database";
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg)
      << "dbs:\n  - dir: " << dir.Join("data") << "\n"
      << "    pattern: \"*.db\"\n    recursive: true\n    watch: true\n"
      << "    replica:\n      path: " << dir.Join("replica")
      << "\n      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("replicating " + dir.Join("data/one.db")) !=
           std::string::npos;
  })) << rep.Log();
  ASSERT_EQ(ExecSql(dir.Join("data/sub/two.db"),
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t "
                    "VALUES(2);"),
            "");
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("replicating " + dir.Join("data/sub/two.db")) !=
           std::string::npos;
  })) << rep.Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(rep.Log().find("notes.txt"), std::string::npos);
  // Each database has its own replica path under the entry's replica.
  auto r = Restore(dir.Join("replica/sub/two.db"), dir.Join("two.db"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(dir.Join("two.db"), "SELECT x FROM t"), "2");
  auto r1 = Restore(dir.Join("replica/one.db"), dir.Join("one.db"));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
}

TEST(MultiDbTest, ExecPassesExitCodeAfterFinalSync) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string app = "sqlite3 -cmd \".timeout 5000\" " + db +
                    " \"INSERT INTO t VALUES('child')\"; exit 3";
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-exec", app, db, dir.Join("replica")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto restored = Restore(dir.Join("replica"), dir.Join("out.db"));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT x FROM t"), "child");
}

TEST(MultiDbTest, ExecForwardsSigtermToTheChild) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-exec",
       "trap 'exit 0' TERM; sqlite3 -cmd \".timeout 5000\" " + db +
           " \"INSERT INTO t VALUES(1)\"; while true; do sleep 0.05; done",
       db, dir.Join("replica")},
      dir.Join("log"));
  ASSERT_TRUE(
      WaitUntil([&] { return QueryOne(db, "SELECT count(*) FROM t") == "1"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(std::chrono::seconds(20)), 0) << rep.Log();
  auto restored = Restore(dir.Join("replica"), dir.Join("out.db"));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT count(*) FROM t"), "1");
}

TEST(MultiDbTest, RestoreIfDbNotExistsThenReplicate) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t "
                    "VALUES(1);"),
            "");
  auto first = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", db, replica});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The container vanished: a new one starts with no database.
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  fs::remove_all(dir.Join(".app.db-litekeep"));
  std::string app =
      "sqlite3 -cmd \".timeout 5000\" " + db + " \"INSERT INTO t VALUES(2)\"";
  auto r = litekeep::testing::Run({LitekeepBin(), "replicate",
                                   "-restore-if-db-not-exists", "-exec", app,
                                   db, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restored from"), std::string::npos) << r.err;
  auto restored = Restore(replica, dir.Join("out.db"));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "SELECT group_concat(x) FROM t"),
            "1,2");
}

TEST(MultiDbTest, WakeOnChangeShipsWithinMilliseconds) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db
                     << "\n    monitor-interval: 10s\n"
                     << "    replica:\n      path: " << replica
                     << "\n      sync-interval: 0s\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(i) + ")"),
              "");
    // With a 10 s monitor interval only wake-on-change can ship it this fast.
    EXPECT_TRUE(WaitUntil(
        [&] {
          int files = 0;
          std::error_code ec;
          for (auto& e : fs::directory_iterator(replica + "/ltx/0", ec))
            files += e.path().extension() == ".ltx";
          return files >= i + 1;  // TXID 1, the image, is in ltx/9
        },
        std::chrono::seconds(2)))
        << "transaction " << i << " not shipped";
  }
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
}

// The masks of every inotify watch the process holds, from
// /proc/PID/fdinfo (the kernel lists "inotify wd:N ... mask:HEX").
std::vector<uint32_t> InotifyMasks(pid_t pid) {
  std::vector<uint32_t> masks;
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(fds, ec)) {
    std::error_code lec;
    if (fs::read_symlink(fd.path(), lec).string() != "anon_inode:inotify")
      continue;
    std::ifstream info("/proc/" + std::to_string(pid) + "/fdinfo/" +
                       fd.path().filename().string());
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("inotify wd:", 0) != 0) continue;
      const auto at = line.find(" mask:");
      if (at == std::string::npos) continue;
      masks.push_back(
          static_cast<uint32_t>(std::stoul(line.substr(at + 6), nullptr, 16)));
    }
  }
  return masks;
}

bool AnyWatchHasModify(pid_t pid) {
  for (uint32_t m : InotifyMasks(pid)) {
    if (m & IN_MODIFY) return true;
  }
  return false;
}

// While an active database syncs on its timer, the application's writes
// must not run inotify's event code (it costs the application CPU): the
// watch has IN_MODIFY only once the database is idle, and the first write
// after that wakes it and ships.
TEST(MultiDbTest, WriteEventsOnlyWhileIdle) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "logging:\n  level: debug\n"
                     << "dbs:\n  - path: " << db
                     << "\n    replica:\n      path: " << replica
                     << "\n      sync-interval: 200ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  ASSERT_FALSE(InotifyMasks(rep.pid()).empty()) << "no inotify watch found";
  // Busy: a commit every 20 ms for 2 s; the watch never listens for writes
  // once the first syncs moved the read transaction off slot 0.
  int listening = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(i) + ")"),
              "");
    if (i >= 50 && AnyWatchHasModify(rep.pid())) ++listening;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LE(listening, 5) << "IN_MODIFY set while the database was busy";
  // Idle (after 5 s without writes): listening, and a write wakes it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return rep.Log().find("idle: read transaction ended") !=
               std::string::npos;
      },
      std::chrono::seconds(15)))
      << rep.Log();
  EXPECT_TRUE(AnyWatchHasModify(rep.pid()));
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(1000)"), "");
  EXPECT_TRUE(
      WaitUntil([&] { return rep.Log().find("resumed") != std::string::npos; },
                std::chrono::seconds(2)))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  std::string out = dir.Join("out.db");
  CommandResult r = Restore(replica, out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "101");
}

// Writes to idle databases just before SIGTERM, heard by the pool together
// with the stop: the final sync ships them all (docs/architecture.md, "Idle
// databases"). The replicator is held with SIGSTOP while the rows are
// written and the signal sent, so it learns of both at once however fast it
// runs; with many databases some syncs wait in the queue when the stop is
// seen (they were skipped as "idle, not written").
TEST(MultiDbTest, IdleDatabasesWrittenJustBeforeTheStopAreShipped) {
  constexpr int kDbs = 40;
  TempDir dir;
  fs::create_directories(dir.Join("data"));
  auto path = [&](int i) {
    return dir.Join("data/db" + std::to_string(i) + ".db");
  };
  for (int i = 0; i < kDbs; ++i) {
    ASSERT_EQ(ExecSql(path(i),
                      "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                      "INSERT INTO t VALUES(1)"),
              "");
  }
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "logging:\n  level: debug\n"
                     << "dbs:\n  - dir: " << dir.Join("data")
                     << "\n    pattern: \"*.db\"\n    replica:\n      path: "
                     << dir.Join("replica") << "\n      sync-interval: 200ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  auto count = [&](const std::string& needle) {
    const std::string log = rep.Log();
    int n = 0;
    for (size_t at = log.find(needle); at != std::string::npos;
         at = log.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(
      WaitUntil([&] { return count("idle: read transaction ended") >= kDbs; },
                std::chrono::seconds(60)))
      << rep.Log();
  rep.Signal(SIGSTOP);
  for (int i = 0; i < kDbs; ++i) {
    ASSERT_EQ(ExecSql(path(i), "INSERT INTO t VALUES(2)"), "");
  }
  rep.Signal(SIGTERM);
  rep.Signal(SIGCONT);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  int missing = 0;
  std::string first;
  for (int i = 0; i < kDbs; ++i) {
    std::string out = dir.Join("out.db");
    CommandResult r =
        Restore(dir.Join("replica/db" + std::to_string(i) + ".db"), out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (QueryOne(out, "SELECT group_concat(x) FROM t") != "1,2") {
      if (first.empty()) first = path(i);
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0) << "the last row is not in the replica of " << first
                        << " and " << (missing - 1) << " more";
}

// CPU time (user + system) a process has used so far, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // Fields 14 and 15 of stat(5): utime, stime; the text after ")" starts at 3.
  return (std::stod(f.at(11)) + std::stod(f.at(12))) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A database with nothing to replicate costs no CPU while it waits for a
// write, in both modes: waiting for a write must not turn into a loop of
// syncs (it did when the check for a missed write could not read a WAL
// index and answered "maybe").
TEST(MultiDbTest, WaitingForAWriteCostsNoCpu) {
  for (const char* interval : {"1s", "0s"}) {
    TempDir dir;
    std::string db = dir.Join("app.db");
    // The last connection's close checkpoints and deletes the WAL and its
    // index: the replicator starts on a database with neither.
    ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    std::string cfg = dir.Join("litekeep.yml");
    std::ofstream(cfg) << "dbs:\n  - path: " << db
                       << "\n    replica:\n      path: " << dir.Join("replica")
                       << "\n      sync-interval: " << interval << "\n";
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("log"));
    ASSERT_TRUE(
        WaitUntil([&] { return fs::exists(dir.Join("replica") + "/ltx/9"); }));
    const double before = CpuSeconds(rep.pid());
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const double used = CpuSeconds(rep.pid()) - before;
    // A loop of syncs costs most of a core; waiting costs next to nothing.
    EXPECT_LT(used, 0.5) << "sync-interval " << interval << ": " << used
                         << " s of CPU in 3 s";
    rep.Signal(SIGTERM);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  }
}

}  // namespace
}  // namespace litekeep::testing
