// End to end over WebDAV with the real binary against `rclone serve webdav`
// on 127.0.0.1: replicate a workload and restore it exactly (config keys as
// Litestream 0.5 writes them, and webdav:// URLs), point-in-time restores by
// TXID and by timestamp (creation times from the LTX headers), `verify
// -full`, the VFS reading the replica, the server killed and restarted in
// the middle of replication (nothing lost), and the password never in logs,
// errors, `status` or metrics.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "storage/webdav/client.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/rclone_webdav.h"
#include "tests/support/restore_checks.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

RcloneWebdav* Server() { return SharedRcloneWebdav(); }

class WebdavEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "rclone is not installed";
  }
};

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

// A config replicating db to path on the server: Litestream 0.5's keys
// (`type: webdav`, webdav-url/-username/-password), or a webdav:// URL.
std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& path, const std::string& top = "",
                   bool url_form = false) {
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream out(cfg);
  out << top << "dbs:\n  - path: " << db << "\n    replica:\n";
  if (url_form) {
    out << "      url: " << Server()->Url(path) << "\n";
  } else {
    out << "      type: webdav\n"
        << "      webdav-url: " << Server()->base_url() << "\n"
        << "      webdav-username: " << RcloneWebdav::kUser << "\n"
        << "      webdav-password: " << RcloneWebdav::kPassword << "\n"
        << "      path: /" << path << "\n";
  }
  out << "      sync-interval: 200ms\n";
  return cfg;
}

TEST_F(WebdavEndToEndTest, WorkloadRestoresExactlyVerifiesAndReadsThroughVfs) {
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

  const std::string url = Server()->Url("full/app");
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"), url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("out.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");

  auto v = Litekeep({"verify", "-full", url});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // Files sit where Litestream's WebDAV client puts them:
  // <path>/ltx/<level>/<min>-<max>.ltx, plus the lease <path>/lock.json;
  // no temporary upload is left behind.
  for (const auto& e :
       fs::recursive_directory_iterator(Server()->root() + "/full/app")) {
    if (e.is_directory()) continue;
    const std::string rel =
        fs::relative(e.path(), Server()->root() + "/full/app").string();
    if (rel == "lock.json") continue;
    EXPECT_EQ(rel.rfind("ltx/", 0), 0u) << rel;
    EXPECT_TRUE(rel.ends_with(".ltx")) << rel;
  }
  auto client =
      storage::webdav::NewWebdavReplicaClient(Server()->Options("full/app"));
  ASSERT_TRUE(client.ok());
  auto l9 = (*client)->ListFiles(9);
  ASSERT_TRUE(l9.ok()) << l9.status().ToString();
  ASSERT_FALSE(l9->empty());
  EXPECT_GT((*l9)[0].created.time_since_epoch().count(), 0);

  // The VFS reads the same rows straight from the server.
  ExpectVfsReadsLikeSource(url, db);
}

TEST_F(WebdavEndToEndTest, PointInTimeByTxidAndTimestamp) {
  ExpectPointInTimeRestores(Server()->Url("pitr/app"));
}

// The server killed (SIGKILL) in the middle of replication and started
// again on the same port and directory: replication resumes and the restore
// is exact.
TEST_F(WebdavEndToEndTest, ServerKilledMidReplicationLosesNothing) {
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
    Server()->Kill();
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
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(90)), 0) << rep.Log();
  EXPECT_NE(rep.Log().find("webdav://"), std::string::npos)
      << "the outage was logged naming the replica:\n"
      << rep.Log();
  auto r = Litekeep(
      {"restore", "-o", dir.Join("out.db"), Server()->Url("restart/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

// Through a proxy that answers 503 and 500, delays and stalls answers,
// resets connections (before and after the server saw the request) and cuts
// bodies short, while `replicate` runs a workload: every fault is retried
// or resumed, and the restore (taken directly from the server) is exact.
TEST_F(WebdavEndToEndTest, FaultyNetworkLosesNothing) {
  FaultRates rates;
  rates.slow_down_503 = 0.05;
  rates.internal_500 = 0.02;
  rates.delay = 0.05;
  rates.stall = 0.01;
  rates.reset = 0.05;
  rates.truncate = 0.03;
  rates.stall_time = std::chrono::milliseconds(1500);
  FaultProxy proxy(Server()->port(), rates);
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      type: webdav\n"
                     << "      webdav-url: " << proxy.endpoint() << "\n"
                     << "      webdav-username: " << RcloneWebdav::kUser << "\n"
                     << "      webdav-password: " << RcloneWebdav::kPassword
                     << "\n      path: faults/app\n"
                     << "      sync-interval: 200ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  WorkloadOptions w;
  w.transactions = 1500;
  w.after_commit = [](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(2000));
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(120)), 0) << rep.Log();
  const FaultCounts faults = proxy.counts();
  EXPECT_GT(faults.reset, 0u);
  EXPECT_GT(faults.slow_down_503 + faults.internal_500, 0u);
  auto r = Litekeep(
      {"restore", "-o", dir.Join("out.db"), Server()->Url("faults/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
  // And restoring through the faults works too.
  proxy.set_rates(rates);
  const std::string via = "webdav://" + std::string(RcloneWebdav::kUser) + ":" +
                          RcloneWebdav::kPassword +
                          "@127.0.0.1:" + std::to_string(proxy.port()) +
                          "/faults/app";
  auto r2 = Litekeep({"restore", "-o", dir.Join("via.db"), via});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(ContentHash(dir.Join("via.db")), ContentHash(db));
}

// webdavs:// against the server over HTTPS with a self-signed certificate:
// refused by default (naming the TLS problem), trusted with `ca-bundle`,
// and replication and restore are exact.
TEST_F(WebdavEndToEndTest, HttpsWithCaBundle) {
  std::string error;
  auto tls = RcloneWebdav::Start(&error, /*tls=*/true);
  ASSERT_TRUE(tls) << error;
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES (randomblob(3000));"),
            "");
  const std::string url = tls->Url("tls/app");
  ASSERT_EQ(url.rfind("webdavs://", 0), 0u);
  auto untrusted = Litekeep({"replicate", "-once", db, url});
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.err.find("127.0.0.1"), std::string::npos)
      << untrusted.err;
  EXPECT_EQ(untrusted.err.find(RcloneWebdav::kPassword), std::string::npos);

  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      url: " << url << "\n"
                     << "      ca-bundle: " << tls->cert_path() << "\n";
  auto once = Litekeep({"replicate", "-once", "-config", cfg});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  auto r = Litekeep({"restore", "-config", cfg, "-o", dir.Join("out.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  // skip-verify works as well (and is said in the URL's description).
  auto skip = Litekeep(
      {"restore", "-o", dir.Join("skip.db"), url + "?skipVerify=true"});
  ASSERT_EQ(skip.exit_code, 0) << skip.err;
  EXPECT_EQ(ContentHash(dir.Join("skip.db")), ContentHash(db));
}

// The password never appears in logs, errors, `status`, `ltx`, metrics or
// process output, with the config keys or in a URL, and also when the
// server refuses it.
TEST_F(WebdavEndToEndTest, PasswordNeverPrinted) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const int port = FreePort();
  const std::string top = "addr: 127.0.0.1:" + std::to_string(port) + "\n";
  std::string cfg = Config(dir, db, "secrets/app", top);
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
  auto ltx = Litekeep({"ltx", "-config", cfg, db});
  EXPECT_EQ(ltx.exit_code, 0) << ltx.err;
  texts += ltx.out + ltx.err;
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  texts += rep.Log();

  auto r = Litekeep(
      {"restore", "-o", dir.Join("ok.db"), Server()->Url("secrets/app")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  texts += r.out + r.err;
  auto l = Litekeep({"ltx", Server()->Url("secrets/app")});
  texts += l.out + l.err;

  // A wrong password: refused, naming the user, not the password.
  const std::string wrong = "WrongPassw0rd-zq";
  const std::string bad_url =
      "webdav://" + std::string(RcloneWebdav::kUser) + ":" + wrong +
      "@127.0.0.1:" + std::to_string(Server()->port()) + "/secrets/app";
  auto bad = Litekeep({"restore", "-o", dir.Join("x.db"), bad_url});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("refused the login"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find(wrong), std::string::npos) << bad.err;
  texts += bad.out + bad.err;

  EXPECT_EQ(texts.find(RcloneWebdav::kPassword), std::string::npos)
      << "the password was printed";
  // Nor its basic-auth form.
  EXPECT_EQ(texts.find("Basic "), std::string::npos);
}

// `litekeep sync` from a WebDAV directory (generic object access): the
// local directory gets every file below it, byte for byte, and no
// temporary upload.
TEST_F(WebdavEndToEndTest, SyncCopiesADirectory) {
  TempDir dir;
  const std::map<std::string, std::string> objects = {
      {"code/app.py", "print('hi')\n"},
      {"code/lib/util.py", std::string(300000, 'u')},
      {"code/empty", ""}};
  for (const auto& [name, bytes] : objects) {
    ASSERT_EQ(Server()->RawPut(name, bytes), 201) << name;
  }
  ASSERT_EQ(Server()->RawPut("code/x.ltx.tmp-0123456789abcdef", "partial"),
            201);
  const std::string dest = dir.Join("out");
  auto r = Litekeep({"sync", Server()->Url("code"), dest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, bytes] : objects) {
    EXPECT_EQ(ReadFile(dest + "/" + name.substr(5)), bytes) << name;
  }
  EXPECT_FALSE(fs::exists(dest + "/x.ltx.tmp-0123456789abcdef"));
}

}  // namespace
}  // namespace litekeep::testing
