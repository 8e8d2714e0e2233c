// End to end over Azure Blob with the real binary against Azurite on
// 127.0.0.1: replicate a workload and restore it exactly, point-in-time
// restores by TXID and timestamp, `verify -full`, the VFS reading the
// replica, Azurite stopped and restarted in the middle of replication
// (nothing lost), and the account key / SAS token absent from logs,
// errors, `status` and metrics.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage/abs/client.h"
#include "tests/support/azurite.h"
#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

constexpr char kContainer[] = "e2e";

Azurite* Server() {
  static std::unique_ptr<Azurite> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = Azurite::Start(kContainer, &error);
    if (!server) {
      std::fprintf(stderr, "azurite unavailable: %s\n", error.c_str());
    }
  }
  return server.get();
}

class AbsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "azurite not installed";
    ::setenv("LITESTREAM_AZURE_ACCOUNT_KEY", kAzuriteKey, 1);
    ::unsetenv("LITESTREAM_AZURE_SAS_TOKEN");
  }
  void TearDown() override {
    ::unsetenv("LITESTREAM_AZURE_ACCOUNT_KEY");
    ::unsetenv("LITESTREAM_AZURE_SAS_TOKEN");
  }
};

std::string Url(const std::string& path) {
  return std::string("abs://") + kAzuriteAccount + "@" + kContainer + "/" +
         path + "?endpoint=" + Server()->endpoint();
}

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

// A config replicating db to path; `credentials` are extra replica lines.
std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& path, const std::string& credentials = "",
                   const std::string& top = "") {
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << top << "dbs:\n  - path: " << db
                     << "\n    replica:\n      type: abs\n"
                     << "      account-name: " << kAzuriteAccount << "\n"
                     << "      bucket: " << kContainer << "\n"
                     << "      path: " << path << "\n"
                     << "      endpoint: " << Server()->endpoint() << "\n"
                     << "      sync-interval: 200ms\n"
                     << credentials;
  return cfg;
}

TEST_F(AbsEndToEndTest, WorkloadRestoresExactlyVerifiesAndReadsThroughVfs) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", Config(dir, db, "full/app")},
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

  auto r = Litekeep({"restore", "-o", dir.Join("out.db"), Url("full/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("out.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");

  auto v = Litekeep({"verify", "-full", Url("full/app")});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // Blobs sit where docs/storage_layout.md says: <path>/ltx/<level>/...,
  // and the replica lease object <path>/lock.json.
  auto client =
      storage::abs::NewAbsReplicaClient(Server()->Options("full/app"));
  ASSERT_TRUE(client.ok());
  auto objs = (*client)->ListObjects("");
  ASSERT_TRUE(objs.ok()) << objs.status().ToString();
  ASSERT_FALSE(objs->empty());
  bool lease = false;
  for (const auto& o : *objs) {
    if (o.key == "lock.json") {
      lease = true;
      continue;
    }
    EXPECT_EQ(o.key.rfind("ltx/", 0), 0u) << o.key;
    EXPECT_TRUE(o.key.ends_with(".ltx")) << o.key;
  }
  EXPECT_TRUE(lease);
  auto l9 = (*client)->ListFiles(9);
  ASSERT_TRUE(l9.ok());
  ASSERT_FALSE(l9->empty());
  // The creation time came back from the litestreamtimestamp metadata.
  EXPECT_GT((*l9)[0].created.time_since_epoch().count(), 0);

  // The VFS reads the same rows straight from the container.
  ExpectVfsReadsLikeSource(Url("full/app"), db);
}

TEST_F(AbsEndToEndTest, PointInTimeByTxidAndTimestamp) {
  ExpectPointInTimeRestores(Url("pitr/app"));
}

// Azurite stopped (SIGTERM) in the middle of replication and started again
// on the same port and data: replication resumes and the restore is exact.
TEST_F(AbsEndToEndTest, ServerRestartMidReplicationLosesNothing) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", Config(dir, db, "restart/app")},
      dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  std::atomic<bool> restarted{false};
  std::thread chaos([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    Server()->Stop();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    restarted = Server()->Restart();
  });
  WorkloadOptions w;
  w.transactions = 2500;
  w.after_commit = [](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  chaos.join();
  ASSERT_TRUE(restarted.load()) << ReadFile(Server()->log_path());
  // Replication catches up once the store is back.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(90)), 0) << rep.Log();
  EXPECT_NE(rep.Log().find("abs://"), std::string::npos)
      << "the outage was logged naming the replica:\n"
      << rep.Log();
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"), Url("restart/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// The account key (in the config) and a SAS token (in the environment)
// never appear in logs, errors, `status` output or metrics, also when the
// store refuses them.
TEST_F(AbsEndToEndTest, CredentialsNeverPrinted) {
  ::unsetenv("LITESTREAM_AZURE_ACCOUNT_KEY");
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const int port = FreePort();
  const std::string top = "addr: 127.0.0.1:" + std::to_string(port) + "\n";
  std::string cfg =
      Config(dir, db, "secrets/app",
             std::string("      account-key: ") + kAzuriteKey + "\n", top);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES (randomblob(1000));"), "");
  ASSERT_TRUE(
      WaitUntil([&] { return HttpGet(port, "/metrics").first == 200; }));
  std::string texts = HttpGet(port, "/metrics").second;
  auto status = Litekeep({"status", "-json", "-config", cfg});
  texts += status.out + status.err;
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  texts += rep.Log();

  // A wrong key and a refused SAS token: the errors name the setting only.
  const std::string wrong_key =
      "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nd3Jvbmc=";
  auto bad = Litekeep(
      {"restore", "-o", dir.Join("x.db"), "-config",
       Config(dir, db, "secrets/app", "      account-key: " + wrong_key + "\n"),
       db});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("account-key"), std::string::npos) << bad.err;
  texts += bad.out + bad.err;
  const std::string sas =
      AccountSas(kAzuriteAccount, kAzuriteKey, "r", "2001-01-01T00:00:00Z");
  ::setenv("LITESTREAM_AZURE_SAS_TOKEN", sas.c_str(), 1);
  auto expired =
      Litekeep({"restore", "-o", dir.Join("y.db"), Url("secrets/app")});
  EXPECT_NE(expired.exit_code, 0);
  EXPECT_NE(expired.err.find("SAS token"), std::string::npos) << expired.err;
  texts += expired.out + expired.err;
  auto ltx = Litekeep({"ltx", "-config", cfg, db});
  texts += ltx.out + ltx.err;

  for (const std::string& secret : {std::string(kAzuriteKey), wrong_key, sas,
                                    sas.substr(sas.find("sig=") + 4)}) {
    EXPECT_EQ(texts.find(secret), std::string::npos) << secret;
  }
  // And the key's prefix is not there in any other form either.
  EXPECT_EQ(texts.find("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6"),
            std::string::npos);
}

// `litekeep sync` from a container prefix (generic object access): the
// directory gets every blob under the prefix, byte for byte.
TEST_F(AbsEndToEndTest, SyncCopiesAContainerPrefix) {
  TempDir dir;
  const std::map<std::string, std::string> blobs = {
      {"code/app.py", "print('hi')\n"},
      {"code/lib/util.py", std::string(300000, 'u')},
      {"code/empty", ""}};
  for (const auto& [name, bytes] : blobs) {
    ASSERT_EQ(Server()->RawRequest("PUT", name, bytes,
                                   {{"x-ms-blob-type", "BlockBlob"}}),
              201)
        << name;
  }
  const std::string dest = dir.Join("out");
  auto r = Litekeep({"sync", Url("code"), dest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, bytes] : blobs) {
    EXPECT_EQ(ReadFile(dest + "/" + name.substr(5)), bytes) << name;
  }
}

}  // namespace
}  // namespace litekeep::testing
