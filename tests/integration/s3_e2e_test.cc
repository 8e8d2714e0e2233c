// End to end over S3 with the real binary against s3rver on 127.0.0.1:
// replicate a real workload and restore it page for page, point-in-time
// restores by TXID and timestamp, and replication through a proxy that
// injects 503s, resets and truncated bodies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/rfc3339.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
constexpr char kBucket[] = "e2e";

S3rver* Server() {
  static std::unique_ptr<S3rver> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = S3rver::Start(kBucket, &error);
    if (!server) std::fprintf(stderr, "s3rver unavailable: %s\n", error.c_str());
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  }
  return server.get();
}

std::string Url(const std::string& endpoint, const std::string& path) {
  return std::string("s3://") + kBucket + "/" + path + "?endpoint=" + endpoint +
         "&forcePathStyle=true&region=us-east-1";
}

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return litekeep::testing::Run(argv);
}

std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& endpoint, const std::string& path) {
  std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      type: s3\n      bucket: " << kBucket << "\n"
                     << "      path: " << path << "\n"
                     << "      endpoint: " << endpoint << "\n"
                     << "      region: us-east-1\n      force-path-style: true\n"
                     << "      sync-interval: 200ms\n";
  return cfg;
}

TEST(S3EndToEndTest, WorkloadRestoresIdenticalPageForPage) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  TempDir dir;
  std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    Config(dir, db, Server()->endpoint(), "full/app")},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  WorkloadOptions w;
  w.transactions = 4000;
  w.drop_recreate_at = 1500;
  w.vacuum_at = 3000;
  ASSERT_EQ(RunWorkload(db, w), "");
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"),
                     Url(Server()->endpoint(), "full/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("out.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
  // The objects are where docs/storage_layout.md says.
  auto ltx = Litekeep({"ltx", Url(Server()->endpoint(), "full/app")});
  EXPECT_EQ(ltx.exit_code, 0) << ltx.err;
  EXPECT_TRUE(fs::exists(Server()->data_dir() + "/" + kBucket))
      << Server()->data_dir();
}

TEST(S3EndToEndTest, PointInTimeByTxidAndTimestamp) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  TempDir dir;
  std::string db = dir.Join("app.db");
  std::string url = Url(Server()->endpoint(), "pitr/app");
  // A long-lived application connection keeps the WAL across syncs.
  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &app), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(app, "PRAGMA journal_mode=WAL; CREATE TABLE t(k, v);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  struct Point {
    std::string txid, time, hash;
  };
  std::vector<Point> points;
  for (int k = 1; k <= 5; ++k) {
    std::string sql = "BEGIN; INSERT INTO t VALUES(" + std::to_string(k) +
                      ", randomblob(5000)); UPDATE t SET v = randomblob(100) "
                      "WHERE k = " + std::to_string(k - 1) + "; COMMIT;";
    ASSERT_EQ(sqlite3_exec(app, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    auto once = Litekeep({"replicate", "-once", db, url});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    std::string pos = ReadFile(dir.Join(".app.db-litekeep/position.json"));
    auto at = pos.find("\"txid\":");
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%llx", std::stoll(pos.substr(at + 7)));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    points.push_back({hex, base::FormatRfc3339(Clock::now()), ContentHash(db)});
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  sqlite3_close(app);
  for (size_t i = 0; i < points.size(); ++i) {
    std::string out = dir.Join("txid-" + std::to_string(i) + ".db");
    auto r = Litekeep({"restore", "-txid", points[i].txid, "-o", out, url});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ContentHash(out), points[i].hash) << "txid " << points[i].txid;
    std::string out2 = dir.Join("time-" + std::to_string(i) + ".db");
    auto r2 = Litekeep({"restore", "-timestamp", points[i].time, "-o", out2, url});
    ASSERT_EQ(r2.exit_code, 0) << r2.err;
    EXPECT_EQ(ContentHash(out2), points[i].hash) << "time " << points[i].time;
  }
  auto both = Litekeep({"restore", "-txid", "1", "-timestamp", points[0].time,
                        "-o", dir.Join("x.db"), url});
  EXPECT_EQ(both.exit_code, 2);
}

TEST(S3EndToEndTest, ReplicationSurvivesFaultsAndRecovers) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  TempDir dir;
  std::string db = dir.Join("app.db");
  FaultRates rates;
  rates.slow_down_503 = 0.2;
  rates.internal_500 = 0.05;
  rates.reset = 0.05;
  rates.truncate = 0.05;
  rates.delay = 0.1;
  FaultProxy proxy(Server()->port(), rates, 7);
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config",
                    Config(dir, db, proxy.endpoint(), "faults/app")},
                   dir.Join("log"));
  WorkloadOptions w;
  w.transactions = 3000;
  w.after_commit = [](int) { std::this_thread::sleep_for(std::chrono::microseconds(500)); };
  ASSERT_EQ(RunWorkload(db, w), "");
  proxy.set_rates(FaultRates{});  // the store recovers
  std::this_thread::sleep_for(std::chrono::seconds(2));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(60)), 0) << rep.Log();
  EXPECT_GE(proxy.counts().injected(), 5u) << "too few faults to prove anything";
  auto r = Litekeep({"restore", "-o", dir.Join("out.db"),
                     Url(Server()->endpoint(), "faults/app")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(dir.Join("out.db")), ContentHash(db));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace litekeep::testing
