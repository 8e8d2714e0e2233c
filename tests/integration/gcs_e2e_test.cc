// End to end over Google Cloud Storage with the real binary against the GCS
// JSON-API test server on 127.0.0.1, authenticated through the metadata
// server path (as on Cloud Run) or a service-account key: replicate a
// workload and restore it exactly, point-in-time restores by TXID and
// timestamp, `verify -full`, the VFS reading the replica, the server killed
// and restarted in the middle of replication and 503 bursts (nothing lost),
// etc/entrypoint.sh with a gs:// replica, and no token or private key in
// logs, errors, `status` or metrics.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage/gcs/client.h"
#include "tests/support/gcs_server.h"
#include "tests/support/process.h"
#include "tests/support/restore_checks.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

GcsServer* Server() {
  static std::unique_ptr<GcsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    GcsServer::Config c;
    c.require_token = true;
    c.service_account = true;
    server = GcsServer::Start(c, &error);
    if (!server) std::fprintf(stderr, "gcs server: %s\n", error.c_str());
  }
  return server.get();
}

class GcsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "gcs test server cannot run";
    // Application Default Credentials: only the metadata server is left,
    // and it is the test server (children inherit this environment).
    ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    ::unsetenv("STORAGE_EMULATOR_HOST");
    ::setenv("CLOUDSDK_CONFIG", empty_.path().c_str(), 1);
    ::setenv("GCE_METADATA_HOST", Server()->host().c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("GCE_METADATA_HOST");
    ::unsetenv("CLOUDSDK_CONFIG");
    ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  }
  TempDir empty_;
};

std::string Url(const std::string& path) {
  return "gs://" + Server()->bucket() + "/" + path +
         "?endpoint=" + Server()->endpoint();
}

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

// A config replicating db to path in the bucket (`type: gcs`, as Litestream
// 0.3 spelled it, or a gs:// URL).
std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& path, const std::string& top = "",
                   bool url_form = false) {
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream out(cfg);
  out << top << "dbs:\n  - path: " << db << "\n    replica:\n";
  if (url_form) {
    out << "      url: " << Url(path) << "\n";
  } else {
    out << "      type: gcs\n"
        << "      bucket: " << Server()->bucket() << "\n"
        << "      path: " << path << "\n"
        << "      endpoint: " << Server()->endpoint() << "\n";
  }
  out << "      sync-interval: 200ms\n";
  return cfg;
}

TEST_F(GcsEndToEndTest, WorkloadRestoresExactlyVerifiesAndReadsThroughVfs) {
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

  // Objects sit where docs/storage_layout.md says: <path>/ltx/<level>/...
  // and the lease object <path>/lock.json.
  storage::gcs::GcsOptions o = Server()->Options("full/app");
  o.anonymous = false;
  auto client = storage::gcs::NewGcsReplicaClient(o);
  ASSERT_TRUE(client.ok());
  auto objs = (*client)->ListObjects("");
  ASSERT_TRUE(objs.ok()) << objs.status().ToString();
  ASSERT_FALSE(objs->empty());
  for (const auto& obj : *objs) {
    if (obj.key == "lock.json") continue;  // the replica lease
    EXPECT_EQ(obj.key.rfind("ltx/", 0), 0u) << obj.key;
    EXPECT_TRUE(obj.key.ends_with(".ltx")) << obj.key;
  }
  auto l9 = (*client)->ListFiles(9);
  ASSERT_TRUE(l9.ok());
  ASSERT_FALSE(l9->empty());
  EXPECT_GT((*l9)[0].created.time_since_epoch().count(), 0);

  // The VFS reads the same rows straight from the bucket.
  ExpectVfsReadsLikeSource(Url("full/app"), db);
}

TEST_F(GcsEndToEndTest, PointInTimeByTxidAndTimestamp) {
  ExpectPointInTimeRestores(Url("pitr/app"));
}

// The server killed (SIGTERM) in the middle of replication and started again
// on the same port and data, then a burst of 503s: replication resumes and
// the restore is exact.
TEST_F(GcsEndToEndTest, ServerRestartAnd503sMidReplicationLoseNothing) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    Config(dir, db, "restart/app", "", /*url_form=*/true)},
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
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    Server()->InjectFault("", 6);
  });
  WorkloadOptions w;
  w.transactions = 2500;
  w.after_commit = [](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  chaos.join();
  ASSERT_TRUE(restarted.load()) << ReadFile(Server()->log_path());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(90)), 0) << rep.Log();
  EXPECT_NE(rep.Log().find("gs://"), std::string::npos)
      << "the outage was logged naming the replica:\n"
      << rep.Log();
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"), Url("restart/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// etc/entrypoint.sh with a gs:// replica through the metadata server: a
// fresh start, then a new "container" restores from the bucket and carries
// on; SIGTERM leaves an exact replica each time.
TEST_F(GcsEndToEndTest, EntrypointRestoresFromBucketViaMetadataServer) {
  TempDir dir;
  const std::string data = dir.Join("data");
  const std::string db = data + "/app.db";
  const std::string config = Config(dir, db, "entry/app");
  const std::string app = dir.Join("app.sh");
  std::ofstream(app) << "#!/bin/sh\n"
                     << "trap 'exit 0' TERM\n"
                     << "sqlite3 \"$1\" 'CREATE TABLE IF NOT EXISTS t(x)'\n"
                     << "while :; do sqlite3 \"$1\" \"INSERT INTO t VALUES "
                        "(randomblob(200))\"; sleep 0.02; done\n";
  fs::permissions(app, fs::perms::owner_all);
  int runs = 0;
  auto run_until = [&](int rows, std::string* log) {
    ChildProcess p(
        {"/usr/bin/env", "LITEKEEP_DB=" + db, "LITEKEEP_CONFIG=" + config,
         "LITEKEEP_BIN=" + LitekeepBin(), SourceDir() + "/etc/entrypoint.sh",
         app, db},
        dir.Join("entry" + std::to_string(++runs) + ".log"));
    EXPECT_TRUE(WaitUntil([&] {
      return fs::exists(db) &&
             std::atoi(QueryOne(db, "SELECT count(*) FROM t").c_str()) > rows;
    })) << p.Log();
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(), 0) << p.Log();
    *log = p.Log();
  };
  auto expect_exact = [&] {
    const std::string out = dir.Join("check.db");
    fs::remove(out);
    auto r = Litekeep({"restore", "-o", out, Url("entry/app")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ContentHash(out), ContentHash(db));
  };
  const json before = Server()->Stats();
  std::string log;
  run_until(10, &log);
  EXPECT_NE(log.find("no backup found"), std::string::npos) << log;
  expect_exact();
  const int rows = std::atoi(QueryOne(db, "SELECT count(*) FROM t").c_str());
  fs::remove_all(data);
  run_until(rows + 10, &log);
  EXPECT_EQ(log.find("no backup found"), std::string::npos) << log;
  EXPECT_GE(std::atoi(QueryOne(db, "SELECT count(*) FROM t").c_str()), rows);
  expect_exact();
  EXPECT_GT(Server()->Stats()["metadata_tokens"].get<int>(),
            before["metadata_tokens"].get<int>());
}

// Access tokens (metadata server and service account) and the service
// account's private key never appear in logs, errors, `status` or metrics,
// also when the token endpoint refuses the key.
TEST_F(GcsEndToEndTest, TokensAndKeysNeverPrinted) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const int port = FreePort();
  const std::string top = "addr: 127.0.0.1:" + std::to_string(port) + "\n";
  std::string cfg = Config(dir, db, "secrets/app", top);
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS",
           Server()->service_account().key_json_path.c_str(), 1);
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

  // The metadata path too.
  ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  auto r = Litekeep({"restore", "-o", dir.Join("ok.db"), Url("secrets/app")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  texts += r.out + r.err;
  auto ltx = Litekeep({"ltx", "-config", cfg, db});
  texts += ltx.out + ltx.err;

  // A key the server does not know: refused, and the error names the file.
  TempDir other;
  ServiceAccountFiles wrong =
      MakeServiceAccount(other.path(), Server()->endpoint() + "/token");
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS", wrong.key_json_path.c_str(), 1);
  auto bad = Litekeep({"restore", "-o", dir.Join("x.db"), Url("secrets/app")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(wrong.key_json_path), std::string::npos) << bad.err;
  texts += bad.out + bad.err;
  ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");

  const auto tokens = Server()->IssuedTokens();
  ASSERT_GE(tokens.size(), 2u);
  for (const std::string& token : tokens) {
    EXPECT_EQ(texts.find(token), std::string::npos) << "a token was printed";
  }
  EXPECT_EQ(texts.find("ya29."), std::string::npos);
  EXPECT_EQ(texts.find("PRIVATE KEY"), std::string::npos);
  for (const std::string& pem :
       {Server()->service_account().private_key_pem, wrong.private_key_pem}) {
    // A line of the key body (not the BEGIN line).
    const std::string line = pem.substr(pem.find('\n') + 1, 60);
    EXPECT_EQ(texts.find(line), std::string::npos);
  }
}

// `litekeep sync` from a bucket prefix (generic object access): the
// directory gets every object under the prefix, byte for byte.
TEST_F(GcsEndToEndTest, SyncCopiesABucketPrefix) {
  TempDir dir;
  const std::map<std::string, std::string> objects = {
      {"code/app.py", "print('hi')\n"},
      {"code/lib/util.py", std::string(300000, 'u')},
      {"code/empty", ""}};
  for (const auto& [name, bytes] : objects) {
    ASSERT_EQ(Server()->PutRaw(name, bytes), 200) << name;
  }
  const std::string dest = dir.Join("out");
  auto r = Litekeep({"sync", Url("code"), dest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, bytes] : objects) {
    EXPECT_EQ(ReadFile(dest + "/" + name.substr(5)), bytes) << name;
  }
}

}  // namespace
}  // namespace litekeep::testing
