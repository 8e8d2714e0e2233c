// End to end over NATS JetStream with the real binary against nats-server
// on 127.0.0.1: replicate a workload and restore it byte for byte (from the
// config and from a URL), `verify -full`, SQLite reading it through the
// litekeep VFS, point-in-time restores by TXID and timestamp, the server
// killed and restarted (store kept) during replication with nothing lost,
// and the password never printed.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "tests/support/nats_server.h"
#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

constexpr char kUser[] = "litekeep";
constexpr char kPassword[] = "Nats-Pw-7d1e-NeverPrintMe";

NatsServer* Server() {
  static std::unique_ptr<NatsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = NatsServer::Start(
        &error, NatsServer::Auth::UserPassword(kUser, kPassword));
    if (!server) std::fprintf(stderr, "nats unavailable: %s\n", error.c_str());
  }
  return server.get();
}

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

std::string Url(const std::string& bucket) {
  return "nats://127.0.0.1:" + std::to_string(Server()->port()) + "/" + bucket;
}

// A config replicating db to the bucket (created here, as an operator
// would with `nats object add`).
std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& bucket, const std::string& extra = "") {
  EXPECT_TRUE(Server()->CreateBucket(bucket).ok());
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    min-checkpoint-page-count: 200\n"
                     << "    replica:\n"
                     << "      url: " << Url(bucket) << "\n"
                     << "      username: " << kUser << "\n"
                     << "      password: " << kPassword << "\n"
                     << "      sync-interval: 200ms\n"
                     << extra;
  return cfg;
}

class NatsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "nats-server not installed";
  }
};

TEST_F(NatsEndToEndTest, WorkloadRestoresByteForByteAndVerifies) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  const std::string cfg = Config(dir, db, "e2e");
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

  auto v = Litekeep({"verify", "-full", "-config", cfg, db});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // By URL alone, the login in the URL.
  const std::string login_url =
      "nats://" + std::string(kUser) + ":" + kPassword +
      "@127.0.0.1:" + std::to_string(Server()->port()) + "/e2e";
  auto byurl = Litekeep({"restore", "-o", dir.Join("url.db"), login_url});
  ASSERT_EQ(byurl.exit_code, 0) << byurl.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("url.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ((byurl.out + byurl.err).find(kPassword), std::string::npos);

  // SQLite reads the replica over NATS through the litekeep VFS.
  std::ofstream(dir.Join("vfs.sql"))
      << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep\n"
      << ".dump\n";
  auto got = RunShell("LITEKEEP_REPLICA_URL='" + login_url +
                      "' sqlite3 -bail < " + dir.Join("vfs.sql"));
  auto want = RunShell("sqlite3 -readonly " + db + " .dump");
  ASSERT_EQ(got.exit_code, 0) << got.err;
  ASSERT_EQ(want.exit_code, 0) << want.err;
  EXPECT_GT(got.out.size(), 10000u);
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;
}

TEST_F(NatsEndToEndTest, PointInTimeByTxidAndTimestamp) {
  TempDir dir;
  PitrOptions o;
  o.config = [&](const std::string& db) { return Config(dir, db, "pitr"); };
  ExpectPointInTimeRestores("", o);
}

// nats-server killed (SIGKILL) in the middle of replication and started
// again later with the same store: replication resumes and the restore
// holds every transaction.
TEST_F(NatsEndToEndTest, ServerKilledAndRestartedNothingLost) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  // Few, quick reconnects so that syncs fail during the outage and the
  // replicator's own retry is exercised too.
  const std::string cfg = Config(dir, db, "fault",
                                 "      max-reconnects: 3\n"
                                 "      reconnect-wait: 300ms\n"
                                 "      timeout: 2s\n");
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
    if (i == 801) std::this_thread::sleep_for(std::chrono::seconds(5));
    if (i == 1600) restarted = Server()->Restart(&restart_error);
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  ASSERT_TRUE(restarted) << restart_error;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(60)), 0) << rep.Log();
  EXPECT_NE(rep.Log().find("sync failed"), std::string::npos)
      << "the outage was not noticed: " << rep.Log();
  EXPECT_EQ(rep.Log().find(kPassword), std::string::npos);
  auto r = Litekeep({"restore", "-config", cfg, "-o", dir.Join("out.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// A wrong password, a token and a password in the URL never reach the
// output, the log or the status.
TEST_F(NatsEndToEndTest, SecretsNeverPrinted) {
  const std::string secret = "Wrong-Pw-3a9b-NeverPrintMe";
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ASSERT_TRUE(Server()->CreateBucket("secrets").ok());
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      url: nats://" << kUser << ":" << secret
                     << "@127.0.0.1:" << Server()->port() << "/secrets\n";
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
  EXPECT_NE(all.find("refused the login with user litekeep"), std::string::npos)
      << all;
  EXPECT_EQ(all.find(secret), std::string::npos) << all;
  // A token in the config, wrong for this server.
  std::ofstream(cfg, std::ios::trunc)
      << "dbs:\n  - path: " << db << "\n    replica:\n"
      << "      url: " << Url("secrets") << "\n      token: " << secret << "\n";
  auto t = Litekeep({"replicate", "-once", "-config", cfg});
  EXPECT_NE(t.exit_code, 0);
  EXPECT_EQ((t.out + t.err).find(secret), std::string::npos) << t.err;
}

}  // namespace
}  // namespace litekeep::testing
