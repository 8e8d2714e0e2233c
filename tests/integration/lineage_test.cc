// The lineage guard and the local lock, end to end with the real binary:
// the Docker-sidecar failure (restore fails, the application creates a new
// database, replicate refuses it and the backup survives), a restart after
// a stop that continues the history, a restore followed by application
// writes that continues it, a deliberate new history, an older backup
// restored by hand, two replicators of one database on one host, a
// database replaced or deleted while replicating or while stopped, a
// page-size VACUUM attempted while replicating, and a restore on start
// (restore-if-db-not-exists) that fails for a while or races the
// application (docs/architecture.md, "Lineage guard"; docs/reliability.md).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/fault_proxy.h"
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

// What an application does on a volume without its database: creates a new
// one, with table t holding the row -1.
void AppCreatesDb(const std::string& db) {
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(-1);"),
            "");
}

void RemoveDb(const std::string& db) {
  fs::remove(db);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
}

// A fresh volume: no database and no local state beside it.
void FreshVolume(const std::string& db) {
  RemoveDb(db);
  const fs::path p(db);
  fs::remove_all(p.parent_path() / ("." + p.filename().string() + "-litekeep"));
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

// Every LTX file of a file replica, by path, with its bytes.
std::map<std::string, std::string> LtxFiles(const std::string& replica) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(replica)) {
    if (e.is_regular_file() && e.path().extension() == ".ltx") {
      files[e.path()] = ReadFile(e.path());
    }
  }
  return files;
}

// Cuts the last LTX file found in replica to 50 bytes (unreadable, as if
// damaged in transit); *path names it and *good holds its bytes.
void CutTheLastLtxFile(const std::string& replica, std::string* path,
                       std::string* good) {
  const auto files = LtxFiles(replica);
  ASSERT_FALSE(files.empty());
  *path = files.rbegin()->first;
  *good = files.rbegin()->second;
  std::ofstream(*path, std::ios::trunc) << good->substr(0, 50);
}

// Puts back what CutTheLastLtxFile cut.
void Heal(const std::string& path, const std::string& good) {
  std::ofstream(path, std::ios::trunc | std::ios::binary) << good;
}

// A config replicating db to the file replica with 100 ms intervals;
// top and db_keys are more lines at the top level and in the database's
// entry (indented by four spaces). Returns its path.
std::string WriteConfig(const TempDir& dir, const std::string& db,
                        const std::string& replica, const std::string& top = "",
                        const std::string& db_keys = "") {
  const std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << top << "dbs:\n  - path: " << db << "\n"
                      << db_keys << "    monitor-interval: 100ms\n"
                      << "    replica:\n      url: file://" << replica << "\n"
                      << "      sync-interval: 100ms\n";
  return path;
}

// Config lines serving /healthz on port and running exec as the
// application.
std::string AddrAndExec(int port, const std::string& exec) {
  return "addr: \"127.0.0.1:" + std::to_string(port) + "\"\n" +
         (exec.empty() ? "" : "exec: " + exec + "\n");
}

// True once the child's log holds text (within timeout).
bool LogShows(ChildProcess& p, const std::string& text,
              std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return WaitUntil([&] { return p.Log().find(text) != std::string::npos; },
                   timeout);
}

// How often text occurs in s.
size_t Count(const std::string& s, const std::string& text) {
  size_t n = 0;
  for (size_t at = s.find(text); at != std::string::npos;
       at = s.find(text, at + 1)) {
    ++n;
  }
  return n;
}

// True when /healthz on port fails with reason=<reason>.
bool HealthzBlocked(int port, const std::string& reason) {
  auto h = HttpGet(port, "/healthz");
  return h.first == 503 &&
         h.second.find("reason=" + reason) != std::string::npos;
}

// Each test's directory, its database a.db and the file replica beside it.
class LineageTest : public ::testing::Test {
 protected:
  // a.db with rows 1..n, replicated once.
  void Seed(int n) {
    ASSERT_NO_FATAL_FAILURE(MakeDb(db_, n));
    auto r = ReplicateOnce(db_, replica_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string Restored(const std::string& txid = "") {
    return RestoredCount(dir_, replica_, txid);
  }

  TempDir dir_;
  const std::string db_ = dir_.Join("a.db");
  const std::string replica_ = dir_.Join("replica");
};

TEST_F(LineageTest, SidecarFailedRestoreNewDatabaseIsRefused) {
  Seed(500);
  // The restore container fails (a typo in the replica path); the local
  // state directory survives on the volume.
  RemoveDb(db_);
  auto restore =
      litekeep::testing::Run({LitekeepBin(), "restore", "-if-db-not-exists",
                              "-o", db_, dir_.Join("replica-typo")});
  ASSERT_NE(restore.exit_code, 0) << restore.err;
  AppCreatesDb(db_);
  auto refused = ReplicateOnce(db_, replica_);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("lineage guard"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(db_), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("TXID 0000000000000001"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("-new-history"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("litekeep restore"), std::string::npos)
      << refused.err;
  EXPECT_EQ(Restored(), "500");
}

TEST_F(LineageTest, RefusalFailsHealthzAndDoesNotStartTheApp) {
  Seed(500);
  RemoveDb(db_);
  AppCreatesDb(db_);
  const int port = FreePort();
  const std::string marker = dir_.Join("app-started");
  const std::string cfg =
      WriteConfig(dir_, db_, replica_, AddrAndExec(port, "touch " + marker));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "lineage"); }))
      << rep.Log();
  EXPECT_NE(HttpGet(port, "/metrics")
                .second.find("litekeep_replication_blocked{db=\"" + db_ + "\""),
            std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(fs::exists(marker)) << "the application was started";
  rep.Signal(SIGTERM);
  rep.Wait();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  EXPECT_EQ(Restored(), "500");
}

TEST_F(LineageTest, RestartAfterStopContinues) {
  Seed(500);
  // The application writes and checkpoints while litekeep is stopped.
  ASSERT_EQ(ExecSql(db_,
                    "INSERT INTO t VALUES(501); "
                    "PRAGMA wal_checkpoint(TRUNCATE); "
                    "INSERT INTO t VALUES(502);"),
            "");
  auto again = ReplicateOnce(db_, replica_);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Restored(), "502");
}

TEST_F(LineageTest, RestoreThenApplicationWritesThenReplicateContinues) {
  Seed(500);
  FreshVolume(db_);
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-if-db-not-exists",
                              "-if-replica-exists", "-o", db_, replica_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(ExecSql(db_, "PRAGMA journal_mode=WAL; INSERT INTO t VALUES(501);"),
            "");
  auto again = ReplicateOnce(db_, replica_);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Restored(), "501");
}

TEST_F(LineageTest, DeletedLocalStateUnchangedDatabaseContinues) {
  Seed(500);
  fs::remove_all(dir_.Join(".a.db-litekeep"));
  // Byte-for-byte the replica's newest state: proven by restoring it.
  auto again = ReplicateOnce(db_, replica_);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Restored(), "500");
}

TEST_F(LineageTest, NewHistoryOnPurposeKeepsThePreviousState) {
  Seed(500);
  RemoveDb(db_);
  AppCreatesDb(db_);
  auto fresh = ReplicateOnce(db_, replica_, {"-new-history"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(Restored(), "1");
  EXPECT_EQ(Restored("0000000000000001"), "500");
  EXPECT_TRUE(fs::exists(dir_.Join(".a.db-litekeep/history-hold.json")));
  // Later starts continue the new history without the flag.
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES(-2);"), "");
  auto next = ReplicateOnce(db_, replica_);
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(Restored(), "2");
}

TEST_F(LineageTest, OlderBackupRestoredByHandIsRefused) {
  Seed(500);
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES(501);"), "");
  ASSERT_EQ(ReplicateOnce(db_, replica_).exit_code, 0);
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-force", "-txid",
                                   "0000000000000001", "-o", db_, replica_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto refused = ReplicateOnce(db_, replica_);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("TXID 0000000000000002"), std::string::npos)
      << refused.err;
  EXPECT_EQ(Restored(), "501");
}

TEST_F(LineageTest, SecondReplicatorOnOneHostIsRefused) {
  MakeDb(db_, 10);
  ChildProcess rep({LitekeepBin(), "replicate", db_, replica_},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(LogShows(rep, "replicating")) << rep.Log();
  auto second = litekeep::testing::Run(
      {LitekeepBin(), "replicate", db_, dir_.Join("replica2")});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("already being replicated by process pid " +
                            std::to_string(rep.pid())),
            std::string::npos)
      << second.err;
  EXPECT_FALSE(fs::exists(dir_.Join("replica2/ltx")));
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  // Once the first one stopped, the lock is free.
  auto after = ReplicateOnce(db_, replica_);
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST_F(LineageTest, DatabaseReplacedWhileReplicatingIsNotMixed) {
  const std::string other = dir_.Join("b.db");
  MakeDb(db_, 2000);
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", WriteConfig(dir_, db_, replica_)},
      dir_.Join("replicate.log"));
  ASSERT_TRUE(LogShows(rep, "replicating"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica_ + "/ltx/9"); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(ExecSql(other,
                    "PRAGMA journal_mode=WAL; CREATE TABLE u(y); "
                    "INSERT INTO u VALUES(1);"),
            "");
  fs::rename(other, db_);
  fs::remove(db_ + "-wal");
  fs::remove(db_ + "-shm");
  ASSERT_EQ(ExecSql(db_, "INSERT INTO u VALUES(2);"), "");
  ASSERT_TRUE(LogShows(rep, "was replaced")) << rep.Log();
  rep.Signal(SIGTERM);
  rep.Wait();
  const std::string out = dir_.Join("restored.db");
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-force",
                              "-integrity-check", "full", "-o", out, replica_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "2000");
}

TEST_F(LineageTest, DatabaseDeletedWhileReplicatingIsReported) {
  MakeDb(db_, 100);
  ChildProcess rep({LitekeepBin(), "replicate", db_, replica_},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(LogShows(rep, "replicating"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica_ + "/ltx/9"); }));
  RemoveDb(db_);
  ASSERT_TRUE(LogShows(rep, "was deleted while litekeep")) << rep.Log();
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 1) << rep.Log();
  EXPECT_EQ(Restored(), "100");
}

// Replaced while stopped: another database moved over the path. The next
// start refuses it (it does not descend from the replica's newest state)
// and uploads nothing; replicated on purpose it is a new history.
TEST_F(LineageTest, DatabaseReplacedWhileStoppedIsRefused) {
  const std::string other = dir_.Join("b.db");
  Seed(700);
  ASSERT_EQ(ExecSql(other,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(1); INSERT INTO t VALUES(2);"),
            "");
  RemoveDb(db_);
  fs::rename(other, db_);
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES(3);"), "");
  auto again = ReplicateOnce(db_, replica_);
  EXPECT_NE(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find(db_), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("-new-history"), std::string::npos) << again.err;
  EXPECT_EQ(Restored(), "700");
  auto fresh = ReplicateOnce(db_, replica_, {"-new-history"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(Restored(), "3");
  EXPECT_EQ(ContentHash(dir_.Join("restored.db")), ContentHash(db_));
}

// Deleted while stopped: the next start finds no database and says so,
// without creating one; an empty database the application then creates is
// refused like any other.
TEST_F(LineageTest, DatabaseDeletedWhileStoppedIsNotReplicatedOver) {
  Seed(300);
  RemoveDb(db_);
  auto missing = ReplicateOnce(db_, replica_);
  EXPECT_NE(missing.exit_code, 0) << missing.err;
  EXPECT_NE(missing.err.find(db_), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(db_)) << "replicate created the database";
  ASSERT_EQ(ExecSql(db_, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  auto empty = ReplicateOnce(db_, replica_);
  EXPECT_NE(empty.exit_code, 0) << empty.err;
  EXPECT_NE(empty.err.find("-new-history"), std::string::npos) << empty.err;
  EXPECT_EQ(Restored(), "300");
}

// VACUUM to another page size while replicating: SQLite changes the page
// size of a WAL database only outside WAL mode, and leaving WAL mode needs
// every other connection gone; the replicator's read transaction holds it
// off ("database is locked"), so the database and its replica stay as they
// were and replication goes on. Stopped, changed, restarted is
// CompactionTest.PageSizeChangeStartsFromAFreshImage.
TEST_F(LineageTest, VacuumToAnotherPageSizeWhileReplicatingIsHeldOff) {
  MakeDb(db_, 2000);
  ChildProcess rep({LitekeepBin(), "replicate", db_, replica_},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(replica_ + "/ltx/9"); }))
      << rep.Log();
  EXPECT_EQ(ExecSql(db_,
                    "PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; "
                    "VACUUM; PRAGMA journal_mode=WAL;"),
            "database is locked");
  EXPECT_EQ(QueryOne(db_, "PRAGMA page_size"), "4096");
  EXPECT_EQ(QueryOne(db_, "PRAGMA journal_mode"), "wal");
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t SELECT x + 2000 FROM t;"), "");
  ASSERT_TRUE(rep.running()) << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(Restored(), "4000");
  ASSERT_EQ(ExecSql(db_, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  EXPECT_TRUE(ReadFile(dir_.Join("restored.db")) == ReadFile(db_));
}

TEST_F(LineageTest, FailedRestoreIfDbNotExistsRetriesAndHoldsTheApp) {
  Seed(500);
  FreshVolume(db_);
  // The replica's only file is unreadable for now (damaged in transit).
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica_, &ltx, &good));
  const int port = FreePort();
  const std::string marker = dir_.Join("app-started");
  const std::string cfg =
      WriteConfig(dir_, db_, replica_, AddrAndExec(port, "touch " + marker),
                  "    restore-if-db-not-exists: true\n");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "restore_failed"); }))
      << rep.Log();
  // The application (which would create a new database) is not started.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(fs::exists(marker));
  EXPECT_FALSE(fs::exists(db_));
  // The replica heals: the retried restore succeeds, then the app starts.
  Heal(ltx, good);
  ASSERT_TRUE(
      WaitUntil([&] { return fs::exists(marker); }, std::chrono::seconds(60)))
      << rep.Log();
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(QueryOne(db_, "SELECT count(*) FROM t"), "500");
  EXPECT_EQ(Restored(), "500");
}

// The config form without -exec (a sidecar beside the application): the
// application creates a database while the restore fails; the next try
// leaves it, the lineage guard refuses it once the replica reads (/healthz
// names the reason, the job keeps retrying), and nothing is uploaded.
TEST_F(LineageTest, FailedRestoreThenAppDatabaseIsRefusedWithoutExec) {
  Seed(500);
  FreshVolume(db_);
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica_, &ltx, &good));
  const int port = FreePort();
  const std::string cfg =
      WriteConfig(dir_, db_, replica_, AddrAndExec(port, ""),
                  "    restore-if-db-not-exists: true\n");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "restore_failed"); }))
      << rep.Log();
  AppCreatesDb(db_);
  Heal(ltx, good);
  const auto healed = LtxFiles(replica_);
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "lineage"); }))
      << rep.Log();
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES(-2);"), "");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(rep.running()) << rep.Log();
  rep.Signal(SIGTERM);
  rep.Wait();
  EXPECT_TRUE(LtxFiles(replica_) == healed) << "uploaded";
  EXPECT_EQ(QueryOne(db_, "SELECT count(*) FROM t"), "2");
  EXPECT_EQ(Restored(), "500");
}

// `replicate -restore-if-db-not-exists DB URL`: the command-line form without
// -exec and the config form retry a failed restore the same way.
class FailedRestoreFlagTest : public LineageTest {
 protected:
  // Seeds 500 rows (kept in source_, checkpointed), then empties the volume
  // and cuts the replica's only file; starts `replicate` serving /healthz.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Seed(500));
    ASSERT_EQ(ExecSql(db_, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
    source_ = ReadFile(db_);
    FreshVolume(db_);
    ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica_, &ltx_, &good_));
    cut_ = LtxFiles(replica_);
    rep_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{LitekeepBin(), "replicate", "-addr",
                                 "127.0.0.1:" + std::to_string(port_),
                                 "-restore-if-db-not-exists", db_,
                                 "file://" + replica_},
        dir_.Join("replicate.log"));
  }

  const int port_ = FreePort();
  std::string source_, ltx_, good_;
  std::map<std::string, std::string> cut_;  // the replica while cut
  std::unique_ptr<ChildProcess> rep_;
};

// The restore fails for a while: every try is logged with its error and the
// next delay, /healthz fails with reason restore_failed, no database is
// created and nothing is uploaded; once the replica reads, the restore
// succeeds (the database is the source's bytes) and replication continues
// the history.
TEST_F(FailedRestoreFlagTest, RetriesUntilTheReplicaReadsThenContinues) {
  ChildProcess& rep = *rep_;
  ASSERT_TRUE(WaitUntil([&] {
    return HealthzBlocked(port_, "restore_failed");
  })) << rep.Log();
  ASSERT_TRUE(LogShows(rep, "(try 2, retrying in 2s)")) << rep.Log();
  EXPECT_NE(rep.Log().find("(try 1, retrying in 1s; nothing is replicated"),
            std::string::npos)
      << rep.Log();
  EXPECT_GE(Count(rep.Log(), "0000000000000001-0000000000000001.ltx"), 2u)
      << rep.Log();
  EXPECT_TRUE(rep.running()) << rep.Log();
  EXPECT_FALSE(fs::exists(db_));
  EXPECT_TRUE(LtxFiles(replica_) == cut_) << "uploaded while failing";
  Heal(ltx_, good_);
  ASSERT_TRUE(
      WaitUntil([&] { return fs::exists(db_); }, std::chrono::seconds(30)))
      << rep.Log();
  EXPECT_TRUE(ReadFile(db_) == source_) << "restored bytes differ";
  ASSERT_TRUE(LogShows(rep, "replicating")) << rep.Log();
  EXPECT_FALSE(HealthzBlocked(port_, "restore_failed"));
  ASSERT_EQ(ExecSql(db_, "INSERT INTO t VALUES(501);"), "");
  EXPECT_TRUE(WaitUntil([&] { return Restored() == "501"; })) << rep.Log();
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

// SIGTERM while waiting for the next try ends the command at once, cleanly,
// with nothing created or uploaded.
TEST_F(FailedRestoreFlagTest, SigtermDuringTheRetriesExitsPromptly) {
  ChildProcess& rep = *rep_;
  ASSERT_TRUE(LogShows(rep, "(try 3, retrying in 4s)")) << rep.Log();
  const auto signalled = std::chrono::steady_clock::now();
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled,
            std::chrono::seconds(3))
      << rep.Log();
  EXPECT_EQ(rep.Log().find("try 4"), std::string::npos) << rep.Log();
  EXPECT_FALSE(fs::exists(db_));
  EXPECT_TRUE(LtxFiles(replica_) == cut_);
}

// A database the application creates while the restore fails is never
// replicated, and the restore does not overwrite it: the next try finds it
// and the lineage guard refuses it (it does not descend from the replica's
// newest state), which ends the command; the replica keeps its 500 rows.
TEST_F(FailedRestoreFlagTest, DatabaseCreatedMeanwhileIsRefused) {
  ChildProcess& rep = *rep_;
  ASSERT_TRUE(LogShows(rep, "(try 2, retrying in 2s)")) << rep.Log();
  AppCreatesDb(db_);
  Heal(ltx_, good_);
  EXPECT_EQ(rep.Wait(), 1) << rep.Log();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  EXPECT_EQ(QueryOne(db_, "SELECT count(*) FROM t"), "1");
  auto healed = cut_;
  healed[ltx_] = good_;
  EXPECT_TRUE(LtxFiles(replica_) == healed) << "uploaded";
  EXPECT_EQ(Restored(), "500");
}

// An application that creates the database while the restore is under way
// (the LTX file is still downloading, slowly, through a proxy): the
// restored copy is not moved over it, the try fails saying so, and the
// next one leaves the database to the lineage guard, which refuses it; the
// replica keeps its 500 rows and the application's database its row.
// True once a GET of an LTX file went through the proxy.
bool LtxDownloadBegan(FaultProxy& proxy) {
  for (const auto& head : proxy.request_heads()) {
    if (head.rfind("GET ", 0) == 0 && head.find(".ltx") != std::string::npos) {
      return true;
    }
  }
  return false;
}

class RestoreRaceTest : public S3rverTest {
 protected:
  RestoreRaceTest() : S3rverTest("race") {}
};

TEST_F(RestoreRaceTest, DatabaseCreatedDuringTheRestoreIsNotReplaced) {
  const std::string db = dir_.Join("a.db");
  MakeDb(db, 500);
  auto seeded = ReplicateOnce(db, Url("db"));
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  FreshVolume(db);
  FaultProxy proxy(server_->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kDrip, 4096);
  ChildProcess rep({LitekeepBin(), "replicate", "-restore-if-db-not-exists", db,
                    Url("db", proxy.endpoint())},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return LtxDownloadBegan(proxy); })) << rep.Log();
  AppCreatesDb(db);
  EXPECT_EQ(rep.Wait(), 1) << rep.Log();
  EXPECT_NE(rep.Log().find("appeared while it was being restored"),
            std::string::npos)
      << rep.Log();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  EXPECT_EQ(QueryOne(db, "SELECT count(*) FROM t"), "1");
  EXPECT_EQ(RestoredCount(dir_, Url("db")), "500");
}

// `litekeep restore` while an application creates the database (the LTX
// file is still downloading, slowly, through a proxy). With
// -if-db-not-exists the database exists now, which is what the flag asks
// for: the restored copy is discarded, exit 0, saying so; the application's
// database is untouched (the same file). Without it the restore is refused
// (exit 1) and the database is left as well.
TEST_F(RestoreRaceTest, RestoreIfDbNotExistsLeavesADatabaseCreatedMeanwhile) {
  const std::string db = dir_.Join("a.db");
  MakeDb(db, 500);
  auto seeded = ReplicateOnce(db, Url("db"));
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  for (bool if_db_not_exists : {true, false}) {
    SCOPED_TRACE(if_db_not_exists ? "-if-db-not-exists" : "no flag");
    const std::string out = dir_.Join(if_db_not_exists ? "b.db" : "c.db");
    FaultProxy proxy(server_->port(), FaultRates{});
    proxy.set_body_fault(BodyFault::kDrip, 4096);
    std::vector<std::string> argv = {LitekeepBin(), "restore", "-o", out};
    if (if_db_not_exists) argv.push_back("-if-db-not-exists");
    argv.push_back(Url("db", proxy.endpoint()));
    ChildProcess restore(argv, out + ".log");
    ASSERT_TRUE(WaitUntil([&] { return LtxDownloadBegan(proxy); }))
        << restore.Log();
    AppCreatesDb(out);
    struct stat before {};
    ASSERT_EQ(::stat(out.c_str(), &before), 0);
    EXPECT_EQ(restore.Wait(), if_db_not_exists ? 0 : 1) << restore.Log();
    EXPECT_NE(restore.Log().find(if_db_not_exists
                                     ? "was created while it was being "
                                       "restored; it is left as it is"
                                     : "appeared while it was being restored"),
              std::string::npos)
        << restore.Log();
    struct stat after {};
    ASSERT_EQ(::stat(out.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << "replaced";
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "1");
    // Nothing left behind beside it.
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      EXPECT_EQ(e.path().filename().string().rfind(
                    "." + fs::path(out).filename().string() + "-", 0),
                std::string::npos)
          << e.path();
    }
  }
  EXPECT_EQ(RestoredCount(dir_, Url("db")), "500");
}

// The sequence of etc/docker-compose.yml as processes, with its commands:
// the `restore` service (`restore -config … -if-db-not-exists
// -if-replica-exists DB`) fails on a fresh volume (the replica's newest file
// cannot be read for a moment), the application starts anyway and creates a
// database, the `litekeep` service (`replicate -config …`) starts beside it.
// The lineage guard refuses that database: /healthz fails naming the
// reason, nothing is uploaded (the replica's files are byte for byte those
// of before), and the replica restores the 500 rows.
TEST_F(LineageTest, ComposeSidecarSequenceKeepsTheBackup) {
  const std::string db = dir_.Join("app.db");
  const int port = FreePort();
  const std::string cfg =
      WriteConfig(dir_, db, replica_, AddrAndExec(port, ""));
  // An earlier deployment replicated 500 rows.
  MakeDb(db, 500);
  {
    auto once = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", "-config", cfg});
    ASSERT_EQ(once.exit_code, 0) << once.err;
  }
  FreshVolume(db);
  const auto before = LtxFiles(replica_);
  std::string ltx, good;
  ASSERT_NO_FATAL_FAILURE(CutTheLastLtxFile(replica_, &ltx, &good));
  // 1. restore
  auto restore =
      litekeep::testing::Run({LitekeepBin(), "restore", "-config", cfg,
                              "-if-db-not-exists", "-if-replica-exists", db});
  ASSERT_NE(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_FALSE(fs::exists(db));
  // The failure was passing (the network came back): the replica reads.
  Heal(ltx, good);
  // 2. app
  AppCreatesDb(db);
  // 3. litekeep
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir_.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HealthzBlocked(port, "lineage"); }))
      << rep.Log();
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(-2);"), "");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  rep.Signal(SIGTERM);
  rep.Wait();
  EXPECT_NE(rep.Log().find("lineage guard"), std::string::npos) << rep.Log();
  EXPECT_TRUE(LtxFiles(replica_) == before)
      << "the replica's LTX files changed";
  EXPECT_EQ(Restored(), "500");
}

}  // namespace
}  // namespace litekeep::testing
