// Implementation of the shared end-to-end restore checks.
#include "tests/support/restore_checks.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "base/rfc3339.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

}  // namespace

void ExpectPointInTimeRestores(const std::string& url,
                               const PitrOptions& options) {
  TempDir dir;
  std::string db = dir.Join("app.db");
  const std::string cfg = options.config ? options.config(db) : "";
  // The replica's name on each command line: the URL, or the config file
  // and the database path.
  auto with_replica = [&](std::vector<std::string> args) {
    if (cfg.empty()) {
      args.push_back(url);
    } else {
      args.insert(args.begin() + 1, {"-config", cfg});
      args.push_back(db);
    }
    return Litekeep(args);
  };
  sqlite3* app = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &app), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(app, "PRAGMA journal_mode=WAL; CREATE TABLE t(k, v);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  struct Point {
    std::string txid, time, hash;
  };
  std::vector<Point> points;
  for (int k = 1; k <= 4; ++k) {
    std::string sql = "BEGIN; INSERT INTO t VALUES(" + std::to_string(k) +
                      ", randomblob(5000)); UPDATE t SET v = randomblob(100) "
                      "WHERE k = " +
                      std::to_string(k - 1) + "; COMMIT;";
    ASSERT_EQ(sqlite3_exec(app, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK);
    auto once = cfg.empty() ? Litekeep({"replicate", "-once", db, url})
                            : Litekeep({"replicate", "-once", "-config", cfg});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    std::string pos = ReadFile(dir.Join(".app.db-litekeep/position.json"));
    auto at = pos.find("\"txid\":");
    ASSERT_NE(at, std::string::npos) << pos;
    char hex[32];
    std::snprintf(hex, sizeof(hex), "%llx", std::stoll(pos.substr(at + 7)));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    points.push_back({hex, base::FormatRfc3339(Clock::now()), ContentHash(db)});
    std::this_thread::sleep_for(options.gap);
  }
  sqlite3_close(app);
  for (size_t i = 0; i < points.size(); ++i) {
    std::string out = dir.Join("txid-" + std::to_string(i) + ".db");
    auto r = with_replica({"restore", "-txid", points[i].txid, "-o", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ContentHash(out), points[i].hash) << "txid " << points[i].txid;
    std::string out2 = dir.Join("time-" + std::to_string(i) + ".db");
    auto r2 =
        with_replica({"restore", "-timestamp", points[i].time, "-o", out2});
    ASSERT_EQ(r2.exit_code, 0) << r2.err;
    EXPECT_EQ(ContentHash(out2), points[i].hash) << "time " << points[i].time;
  }
}

void ExpectRestoresExactly(const std::string& replica, const std::string& db,
                           const std::string& out) {
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  auto r = Litekeep({"restore", "-o", out, replica});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(ContentHash(out), ContentHash(db));
  EXPECT_EQ(Sha256Hex(ReadFile(out)), Sha256Hex(ReadFile(db)))
      << "restored database differs from the source";
}

void ExpectVfsReadsLikeSource(const std::string& url, const std::string& db) {
  ::setenv("LITEKEEP_REPLICA_URL", url.c_str(), 1);
  Db vfs(VfsUri(url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  Db src("file:" + db + "?mode=ro");
  ASSERT_TRUE(src.ok()) << src.error();
  const std::string q =
      "SELECT name FROM sqlite_master ORDER BY name; "
      "SELECT count(*) FROM sqlite_master; PRAGMA page_count;";
  std::string want = src.Query(q);
  EXPECT_EQ(vfs.Query(q), want);
  EXPECT_EQ(want.find("ERROR"), std::string::npos) << want;
  ::unsetenv("LITEKEEP_REPLICA_URL");
}

}  // namespace litekeep::testing
