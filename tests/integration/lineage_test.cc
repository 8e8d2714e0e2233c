// The lineage guard and the local lock, end to end with the real binary:
// the Docker-sidecar failure (restore fails, the application creates a new
// database, replicate refuses it and the backup survives), a restart after
// a stop that continues the history, a restore followed by application
// writes that continues it, a deliberate new history, an older backup
// restored by hand, two replicators of one database on one host, a
// database replaced or deleted while replicating or while stopped, and a
// page-size VACUUM attempted while replicating (docs/architecture.md,
// "Lineage guard"; docs/reliability.md).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// A WAL database with table t holding rows 1..n.
void MakeDb(const std::string& db, int n) {
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT "
                    "i+1 FROM c WHERE i<" +
                        std::to_string(n) + ") INSERT INTO t SELECT i FROM c;"),
            "");
}

void RemoveDb(const std::string& db) {
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
}

CommandResult ReplicateOnce(const std::string& db, const std::string& replica,
                            std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {LitekeepBin(), "replicate", "-once"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(db);
  argv.push_back(replica);
  return litekeep::testing::Run(argv);
}

// Restores the replica's newest state (or txid) and returns count(*) of t.
std::string RestoredCount(const TempDir& dir, const std::string& replica,
                          const std::string& txid = "") {
  const std::string out = dir.Join("restored.db");
  std::vector<std::string> argv = {LitekeepBin(), "restore", "-force", "-o",
                                   out};
  if (!txid.empty()) {
    argv.push_back("-txid");
    argv.push_back(txid);
  }
  argv.push_back(replica);
  auto r = litekeep::testing::Run(argv);
  if (r.exit_code != 0) return "restore failed: " + r.err;
  return QueryOne(out, "SELECT count(*) FROM t");
}

// Cuts the last LTX file found in replica to 50 bytes (unreadable, as if
// damaged in transit); *path names it and *good holds its bytes.
void CutTheLastLtxFile(const std::string& replica, std::string* path,
                       std::string* good) {
  path->clear();
  for (const auto& e : fs::recursive_directory_iterator(replica)) {
    if (e.is_regular_file() && e.path().extension() == ".ltx") {
      *path = e.path();
    }
  }
  ASSERT_FALSE(path->empty());
  *good = ReadFile(*path);
  std::ofstream(*path, std::ios::trunc) << good->substr(0, 50);
}

// True when /healthz on port fails with reason=<reason>.
bool HealthzBlocked(int port, const std::string& reason) {
  auto h = HttpGet(port, "/healthz");
  return h.first == 503 &&
         h.second.find("reason=" + reason) != std::string::npos;
}

TEST(LineageTest, SidecarFailedRestoreNewDatabaseIsRefused) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  auto first = ReplicateOnce(db, replica);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The restore container fails (a typo in the replica path); the local
  // state directory survives on the volume.
  RemoveDb(db);
  auto restore =
      litekeep::testing::Run({LitekeepBin(), "restore", "-if-db-not-exists",
                              "-o", db, dir.Join("replica-typo")});
  ASSERT_NE(restore.exit_code, 0) << restore.err;
  // The application creates a new database.
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
  auto refused = ReplicateOnce(db, replica);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("lineage guard"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(db), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("TXID 0000000000000001"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("-new-history"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("litekeep restore"), std::string::npos)
      << refused.err;
  EXPECT_EQ(RestoredCount(dir, replica), "500");
}

TEST(LineageTest, RefusalFailsHealthzAndDoesNotStartTheApp) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  const std::string marker = dir.Join("app-started");
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                     << "exec: touch " << marker << "\n"
                     << "dbs:\n  - path: " << db << "\n"
                     << "    monitor-interval: 100ms\n"
                     << "    replica:\n      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "lineage"); }))
      << rep.Log();
  EXPECT_NE(HttpGet(port, "/metrics")
                .second.find("litekeep_replication_blocked{db=\"" + db + "\""),
            std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(fs::exists(marker)) << "the application was started";
  rep.Signal(SIGTERM);
  rep.Wait();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  EXPECT_EQ(RestoredCount(dir, replica), "500");
}

TEST(LineageTest, RestartAfterStopContinues) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  // The application writes and checkpoints while litekeep is stopped.
  ASSERT_EQ(ExecSql(db,
                    "INSERT INTO t VALUES(501); "
                    "PRAGMA wal_checkpoint(TRUNCATE); "
                    "INSERT INTO t VALUES(502);"),
            "");
  auto again = ReplicateOnce(db, replica);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(RestoredCount(dir, replica), "502");
}

TEST(LineageTest, RestoreThenApplicationWritesThenReplicateContinues) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  fs::remove_all(dir.Join(".a.db-litekeep"));
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-if-db-not-exists",
                              "-if-replica-exists", "-o", db, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; INSERT INTO t VALUES(501);"),
            "");
  auto again = ReplicateOnce(db, replica);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(RestoredCount(dir, replica), "501");
}

TEST(LineageTest, DeletedLocalStateUnchangedDatabaseContinues) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  fs::remove_all(dir.Join(".a.db-litekeep"));
  // Byte-for-byte the replica's newest state: proven by restoring it.
  auto again = ReplicateOnce(db, replica);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(RestoredCount(dir, replica), "500");
}

TEST(LineageTest, NewHistoryOnPurposeKeepsThePreviousState) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
  auto fresh = ReplicateOnce(db, replica, {"-new-history"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(RestoredCount(dir, replica), "1");
  EXPECT_EQ(RestoredCount(dir, replica, "0000000000000001"), "500");
  EXPECT_TRUE(fs::exists(dir.Join(".a.db-litekeep/history-hold.json")));
  // Later starts continue the new history without the flag.
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(-2);"), "");
  auto next = ReplicateOnce(db, replica);
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(RestoredCount(dir, replica), "2");
}

TEST(LineageTest, OlderBackupRestoredByHandIsRefused) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(501);"), "");
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-txid",
                                   "0000000000000001", "-o", db, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto refused = ReplicateOnce(db, replica);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("TXID 0000000000000002"), std::string::npos)
      << refused.err;
  EXPECT_EQ(RestoredCount(dir, replica), "501");
}

TEST(LineageTest, SecondReplicatorOnOneHostIsRefused) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 10);
  ChildProcess rep({LitekeepBin(), "replicate", db, replica},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("replicating") != std::string::npos;
  })) << rep.Log();
  auto second = litekeep::testing::Run(
      {LitekeepBin(), "replicate", db, dir.Join("replica2")});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("already being replicated by process pid " +
                            std::to_string(rep.pid())),
            std::string::npos)
      << second.err;
  EXPECT_FALSE(fs::exists(dir.Join("replica2/ltx")));
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  // Once the first one stopped, the lock is free.
  auto after = ReplicateOnce(db, replica);
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST(LineageTest, DatabaseReplacedWhileReplicatingIsNotMixed) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string other = dir.Join("b.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 2000);
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    monitor-interval: 100ms\n"
                     << "    replica:\n      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return rep.Log().find("replicating") != std::string::npos; }));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(ExecSql(other,
                    "PRAGMA journal_mode=WAL; CREATE TABLE u(y); "
                    "INSERT INTO u VALUES(1);"),
            "");
  fs::rename(other, db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  ASSERT_EQ(ExecSql(db, "INSERT INTO u VALUES(2);"), "");
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("was replaced") != std::string::npos;
  })) << rep.Log();
  rep.Signal(SIGTERM);
  rep.Wait();
  const std::string out = dir.Join("restored.db");
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-force",
                              "-integrity-check", "full", "-o", out, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "2000");
}

TEST(LineageTest, DatabaseDeletedWhileReplicatingIsReported) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 100);
  ChildProcess rep({LitekeepBin(), "replicate", db, replica},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil(
      [&] { return rep.Log().find("replicating") != std::string::npos; }));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }));
  RemoveDb(db);
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("was deleted while litekeep") != std::string::npos;
  })) << rep.Log();
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 1) << rep.Log();
  EXPECT_EQ(RestoredCount(dir, replica), "100");
}

// Replaced while stopped: another database moved over the path. The next
// start refuses it (it does not descend from the replica's newest state)
// and uploads nothing; replicated on purpose it is a new history.
TEST(LineageTest, DatabaseReplacedWhileStoppedIsRefused) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string other = dir.Join("b.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 700);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  ASSERT_EQ(ExecSql(other,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(1); INSERT INTO t VALUES(2);"),
            "");
  RemoveDb(db);
  fs::rename(other, db);
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(3);"), "");
  auto again = ReplicateOnce(db, replica);
  EXPECT_NE(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find(db), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("-new-history"), std::string::npos) << again.err;
  EXPECT_EQ(RestoredCount(dir, replica), "700");
  auto fresh = ReplicateOnce(db, replica, {"-new-history"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(RestoredCount(dir, replica), "3");
  EXPECT_EQ(ContentHash(dir.Join("restored.db")), ContentHash(db));
}

// Deleted while stopped: the next start finds no database and says so,
// without creating one; an empty database the application then creates is
// refused like any other.
TEST(LineageTest, DatabaseDeletedWhileStoppedIsNotReplicatedOver) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 300);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  auto missing = ReplicateOnce(db, replica);
  EXPECT_NE(missing.exit_code, 0) << missing.err;
  EXPECT_NE(missing.err.find(db), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(db)) << "replicate created the database";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  auto empty = ReplicateOnce(db, replica);
  EXPECT_NE(empty.exit_code, 0) << empty.err;
  EXPECT_NE(empty.err.find("-new-history"), std::string::npos) << empty.err;
  EXPECT_EQ(RestoredCount(dir, replica), "300");
}

// VACUUM to another page size while replicating: SQLite changes the page
// size of a WAL database only outside WAL mode, and leaving WAL mode needs
// every other connection gone; the replicator's read transaction holds it
// off ("database is locked"), so the database and its replica stay as they
// were and replication goes on. Stopped, changed, restarted is
// CompactionTest.PageSizeChangeStartsFromAFreshImage.
TEST(LineageTest, VacuumToAnotherPageSizeWhileReplicatingIsHeldOff) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 2000);
  ChildProcess rep({LitekeepBin(), "replicate", db, replica},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica + "/ltx/9"); }))
      << rep.Log();
  EXPECT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; "
                    "VACUUM; PRAGMA journal_mode=WAL;"),
            "database is locked");
  EXPECT_EQ(QueryOne(db, "PRAGMA page_size"), "4096");
  EXPECT_EQ(QueryOne(db, "PRAGMA journal_mode"), "wal");
  ASSERT_EQ(ExecSql(db, "INSERT INTO t SELECT x + 2000 FROM t;"), "");
  ASSERT_TRUE(rep.running()) << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(RestoredCount(dir, replica), "4000");
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  EXPECT_TRUE(ReadFile(dir.Join("restored.db")) == ReadFile(db));
}

TEST(LineageTest, FailedRestoreIfDbNotExistsRetriesAndHoldsTheApp) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  fs::remove_all(dir.Join(".a.db-litekeep"));
  // The replica's only file is unreadable for now (damaged in transit).
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica, &ltx, &good));
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  const std::string marker = dir.Join("app-started");
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                     << "exec: touch " << marker << "\n"
                     << "dbs:\n  - path: " << db << "\n"
                     << "    restore-if-db-not-exists: true\n"
                     << "    monitor-interval: 100ms\n"
                     << "    replica:\n      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "restore_failed"); }))
      << rep.Log();
  // The application (which would create a new database) is not started.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_FALSE(fs::exists(db));
  // The replica heals: the retried restore succeeds, then the app starts.
  {
    std::ofstream out(ltx, std::ios::trunc | std::ios::binary);
    out << good;
  }
  ASSERT_TRUE(
      WaitUntil([&] { return fs::exists(marker); }, std::chrono::seconds(60)))
      << rep.Log();
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(QueryOne(db, "SELECT count(*) FROM t"), "500");
  EXPECT_EQ(RestoredCount(dir, replica), "500");
}

// The flag form without -exec and without a config (fail-fast, as every
// start-up error of the command-line form): `replicate
// -restore-if-db-not-exists DB URL` whose restore fails exits 1 naming the
// file and creates no database (nothing for an application to write into
// and have shipped); run again once the replica reads, it restores the
// database and replication continues the history.
TEST(LineageTest, FailedRestoreFlagWithoutExecStopsThenContinues) {
  TempDir dir;
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  MakeDb(db, 500);
  ASSERT_EQ(ReplicateOnce(db, replica).exit_code, 0);
  RemoveDb(db);
  fs::remove_all(dir.Join(".a.db-litekeep"));
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica, &ltx, &good));
  const std::vector<std::string> argv = {LitekeepBin(), "replicate",
                                         "-restore-if-db-not-exists", db,
                                         "file://" + replica};
  auto failed = litekeep::testing::Run(argv);
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("0000000000000001-0000000000000001.ltx"),
            std::string::npos)
      << failed.err;
  EXPECT_FALSE(fs::exists(db));
  std::ofstream(ltx, std::ios::trunc | std::ios::binary) << good;
  ChildProcess rep(argv, dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return fs::exists(db) &&
               QueryOne(db, "SELECT count(*) FROM t") == "500";
      },
      std::chrono::seconds(60)))
      << rep.Log();
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(501);"), "");
  EXPECT_TRUE(WaitUntil([&] { return RestoredCount(dir, replica) == "501"; },
                        std::chrono::seconds(30)))
      << rep.Log();
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

// The sequence of etc/docker-compose.yml as processes, with its commands:
// the `restore` service (`restore -config … -if-db-not-exists
// -if-replica-exists DB`) fails on a fresh volume (the replica's newest file
// cannot be read for a moment), the application starts anyway and creates a
// database, the `litekeep` service (`replicate -config …`) starts beside it.
// The lineage guard refuses that database: /healthz fails naming the
// reason, nothing is uploaded (the replica's files are byte for byte those
// of before), and the replica restores the 500 rows.
TEST(LineageTest, ComposeSidecarSequenceKeepsTheBackup) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "addr: \"127.0.0.1:" << port << "\"\n"
                     << "dbs:\n  - path: " << db << "\n"
                     << "    monitor-interval: 100ms\n"
                     << "    replica:\n      url: file://" << replica << "\n"
                     << "      sync-interval: 100ms\n";
  // An earlier deployment replicated 500 rows.
  MakeDb(db, 500);
  {
    auto once = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", "-config", cfg});
    ASSERT_EQ(once.exit_code, 0) << once.err;
  }
  // A fresh volume: no database, no local state.
  RemoveDb(db);
  fs::remove_all(dir.Join(".app.db-litekeep"));
  std::map<std::string, std::string> before;
  for (const auto& e : fs::recursive_directory_iterator(replica)) {
    if (e.is_regular_file() && e.path().extension() == ".ltx") {
      before[e.path()] = ReadFile(e.path());
    }
  }
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica, &ltx, &good));
  // 1. restore
  auto restore =
      litekeep::testing::Run({LitekeepBin(), "restore", "-config", cfg,
                              "-if-db-not-exists", "-if-replica-exists", db});
  ASSERT_NE(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_FALSE(fs::exists(db));
  // The failure was passing (the network came back): the replica reads.
  std::ofstream(ltx, std::ios::trunc | std::ios::binary) << good;
  // 2. app
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
  // 3. litekeep
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "lineage"); }))
      << rep.Log();
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(-2);"), "");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  rep.Signal(SIGTERM);
  rep.Wait();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  std::map<std::string, std::string> after;
  for (const auto& e : fs::recursive_directory_iterator(replica)) {
    if (e.is_regular_file() && e.path().extension() == ".ltx") {
      after[e.path()] = ReadFile(e.path());
    }
  }
  EXPECT_TRUE(after == before) << "the replica's LTX files changed";
  EXPECT_EQ(RestoredCount(dir, "file://" + replica), "500");
}

}  // namespace
}  // namespace litekeep::testing
