// End to end over SFTP with the real binary against OpenSSH's sshd on
// 127.0.0.1: replicate a workload and restore it byte for byte (from the
// config and from a URL with the default known_hosts and identity),
// `verify -full`, SQLite reading it through the litekeep VFS, point-in-time
// restores by TXID and timestamp, the server killed and restarted during
// replication with nothing lost, secrets never printed, `litekeep sync` from
// SFTP, and a Litestream 0.3.13 SFTP replica restored by litekeep.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/litestream03.h"
#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/sshd.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

Sshd* Server() {
  static std::unique_ptr<Sshd> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = Sshd::Start(&error);
    if (!server) std::fprintf(stderr, "sshd unavailable: %s\n", error.c_str());
  }
  return server.get();
}

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

// "sftp://USER@127.0.0.1:PORT<remote>".
std::string Url(const std::string& remote) {
  return "sftp://" + Server()->user() +
         "@127.0.0.1:" + std::to_string(Server()->port()) + remote;
}

// A config replicating db to the remote directory, pinning the host key.
std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& remote, const std::string& extra = "") {
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    min-checkpoint-page-count: 200\n"
                     << "    replica:\n"
                     << "      url: " << Url(remote) << "\n"
                     << "      key-path: " << Server()->client_key() << "\n"
                     << "      host-key: \"" << Server()->host_key_line()
                     << "\"\n"
                     << "      sync-interval: 200ms\n"
                     << extra;
  return cfg;
}

class SftpEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "sshd not installed";
  }
};

TEST_F(SftpEndToEndTest, WorkloadRestoresByteForByteAndVerifies) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  const std::string remote = dir.Join("remote/app");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  const std::string cfg = Config(dir, db, remote);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  WorkloadOptions w;
  w.transactions = 3000;
  w.drop_recreate_at = 1000;
  w.vacuum_at = 2000;
  ASSERT_EQ(RunWorkload(db, w), "");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");

  auto r = Litekeep({"restore", "-config", cfg, "-o", dir.Join("out.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("out.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
  EXPECT_TRUE(fs::exists(remote + "/ltx/9")) << "snapshot level on the server";

  auto v = Litekeep({"verify", "-full", "-config", cfg, db});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // By URL alone: the default ~/.ssh/known_hosts and ~/.ssh/id_ed25519.
  TempDir home;
  fs::create_directories(home.Join(".ssh"));
  fs::copy_file(Server()->client_key(), home.Join(".ssh/id_ed25519"));
  const std::string restore_by_url = "HOME=" + home.path() + " " +
                                     LitekeepBin() + " restore -o " +
                                     dir.Join("url.db") + " " + Url(remote);
  auto unknown = RunShell(restore_by_url);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("is unknown"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find(home.Join(".ssh/known_hosts")), std::string::npos)
      << unknown.err;
  std::ofstream(home.Join(".ssh/known_hosts"))
      << Server()->known_hosts_line() << "\n";
  auto byurl = RunShell(restore_by_url);
  ASSERT_EQ(byurl.exit_code, 0) << byurl.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("url.db"))), Sha256Hex(ReadFile(db)));

  // SQLite reads the replica over SFTP through the litekeep VFS, loaded
  // into the system's sqlite3 shell. Not under ASan: the shell is not
  // instrumented, so ASan refuses to load the instrumented extension
  // (docs/reliability.md "Sanitizers"); the rest of the test runs.
#ifndef __SANITIZE_ADDRESS__
  std::ofstream(dir.Join("vfs.sql"))
      << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep\n"
      << ".dump\n";
  auto got = RunShell("HOME=" + home.path() + " LITEKEEP_REPLICA_URL='" +
                      Url(remote) + "' sqlite3 -bail < " + dir.Join("vfs.sql"));
  auto want = RunShell("sqlite3 -readonly " + db + " .dump");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  ASSERT_EQ(want.exit_code, 0) << want.err;
  EXPECT_GT(got.out.size(), 10000u);
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;
#endif
}

TEST_F(SftpEndToEndTest, PointInTimeByTxidAndTimestamp) {
  TempDir dir;
  PitrOptions o;
  o.config = [&](const std::string& db) {
    return Config(dir, db, dir.Join("remote/pitr"));
  };
  // SFTP keeps whole-second mtimes: the next file is created in a later
  // second (docs/storage_layout.md "SFTP").
  o.gap = std::chrono::milliseconds(1100);
  ExpectPointInTimeRestores("", o);
}

// sshd (and every session) killed in the middle of replication and started
// again later: replication resumes and the restore holds every transaction.
TEST_F(SftpEndToEndTest, ServerKilledAndRestartedNothingLost) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  const std::string cfg = Config(dir, db, dir.Join("remote/fault"));
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  std::string restart_error;
  bool restarted = true;
  WorkloadOptions w;
  w.transactions = 2400;
  w.after_commit = [&](int i) {
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
    if (i == 800) Server()->Kill();
    // Down longer than one sync's retries (6 attempts, ~6 s of backoff):
    // syncs fail and the replicator retries them.
    if (i == 801) std::this_thread::sleep_for(std::chrono::seconds(8));
    if (i == 1600) restarted = Server()->Restart(&restart_error);
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  ASSERT_TRUE(restarted) << restart_error;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(60)), 0) << rep.Log();
  EXPECT_NE(rep.Log().find("sync failed"), std::string::npos)
      << "the outage was not noticed: " << rep.Log();
  EXPECT_NE(rep.Log().find("gave up after"), std::string::npos) << rep.Log();
  auto r = Litekeep({"restore", "-config", cfg, "-o", dir.Join("out.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// A wrong password, the key passphrase and a password in the URL never
// reach the output, the log or the status.
TEST_F(SftpEndToEndTest, SecretsNeverPrinted) {
  const std::string secret = "Pw-9f3c-NeverPrintMe";
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      url: sftp://" << Server()->user() << ":"
                     << secret << "@127.0.0.1:" << Server()->port()
                     << dir.Join("remote") << "\n"
                     << "      key-path: "
                     << Server()->client_key_with_passphrase() << "\n"
                     << "      key-passphrase: " << secret << "-pass\n"
                     << "      host-key: \"" << Server()->host_key_line()
                     << "\"\n";
  std::string all;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"replicate", "-once", "-config", cfg},
        {"restore", "-config", cfg, "-o", dir.Join("o.db"), db},
        {"status", "-config", cfg},
        {"ltx", "-config", cfg, db},
        {"databases", "-config", cfg}}) {
    auto r = Litekeep(args);
    all += r.out + r.err;
  }
  auto log = Litekeep({"replicate", "-once", "-config", cfg});
  EXPECT_NE(log.exit_code, 0) << "the passphrase is wrong";
  all += log.out + log.err;
  EXPECT_NE(all.find("cannot use this private key"), std::string::npos) << all;
  EXPECT_EQ(all.find(secret), std::string::npos) << all;
}

// `litekeep sync` keeps a directory in step with a remote SFTP directory.
TEST_F(SftpEndToEndTest, SyncFromSftp) {
  TempDir dir;
  const std::string remote = dir.Join("site");
  fs::create_directories(remote + "/a/b");
  std::ofstream(remote + "/index.html") << "<h1>hi</h1>";
  std::ofstream(remote + "/a/b/app.py") << "print('x')";
  TempDir home;
  fs::create_directories(home.Join(".ssh"));
  fs::copy_file(Server()->client_key(), home.Join(".ssh/id_ed25519"));
  std::ofstream(home.Join(".ssh/known_hosts"))
      << Server()->known_hosts_line() << "\n";
  auto r = RunShell("HOME=" + home.path() + " " + LitekeepBin() + " sync " +
                    Url(remote) + " " + dir.Join("dest"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFile(dir.Join("dest/index.html")), "<h1>hi</h1>");
  EXPECT_EQ(ReadFile(dir.Join("dest/a/b/app.py")), "print('x')");
}

// Litestream 0.3.13 replicates over SFTP; litekeep restores that replica
// over SFTP (generic object access) to the same content.
TEST_F(SftpEndToEndTest, RestoresLitestream03SftpReplica) {
  if (Litestream03Bin().empty())
    GTEST_SKIP() << "litestream 0.3.13 not installed";
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string remote = dir.Join("remote03");
  const std::string cfg = dir.Join("litestream.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    replicas:\n"
                     << "      - type: sftp\n"
                     << "        host: 127.0.0.1:" << Server()->port() << "\n"
                     << "        user: " << Server()->user() << "\n"
                     << "        key-path: " << Server()->client_key() << "\n"
                     << "        path: " << remote << "\n"
                     << "        sync-interval: 200ms\n";
  WorkloadOptions w;
  w.transactions = 600;
  w.after_commit = [](int i) {
    if (i % 100 == 99)
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
  };
  ASSERT_EQ(ReplicateWithLitestream03(cfg, db, w, dir.Join("ls.log")), "");
  ASSERT_TRUE(fs::exists(remote + "/generations"))
      << ReadFile(dir.Join("ls.log"));
  const std::string lkcfg = dir.Join("litekeep.yml");
  std::ofstream(lkcfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                       << "      url: " << Url(remote) << "\n"
                       << "      key-path: " << Server()->client_key() << "\n"
                       << "      host-key: \"" << Server()->host_key_line()
                       << "\"\n";
  auto r =
      Litekeep({"restore", "-config", lkcfg, "-o", dir.Join("out.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace litekeep::testing
