// Several replicas of one database (docs/architecture.md, "Several
// replicas"): two file replicas, one broken for a while (its directory
// replaced by a plain file, so every write fails even as root); writes go
// on, the healthy replica keeps its pace, the broken one catches up (with
// the backlog's files, or with a full image once the backlog overflowed);
// a restart in the middle keeps each replica's position; both restore
// exactly and pass `verify`; `-replica NAME` picks one; duplicate names
// are refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The newest TXID of a file replica, from its file names (0: none).
uint64_t MaxTxid(const std::string& root) {
  uint64_t max = 0;
  std::error_code ec;
  if (!fs::is_directory(root + "/ltx", ec)) return 0;
  for (const auto& level : fs::directory_iterator(root + "/ltx", ec)) {
    for (const auto& f : fs::directory_iterator(level.path(), ec)) {
      const std::string name = f.path().filename().string();
      if (name.size() != 37 || name.substr(33) != ".ltx") continue;
      max = std::max<uint64_t>(max,
                               std::stoull(name.substr(17, 16), nullptr, 16));
    }
  }
  return max;
}

// L0 files of a file replica.
size_t L0Files(const std::string& root) {
  std::error_code ec;
  size_t n = 0;
  for (const auto& f : fs::directory_iterator(root + "/ltx/0", ec)) {
    n += f.path().extension() == ".ltx";
  }
  return n;
}

// Makes a file replica unwritable (its directory moved away and a plain
// file put in its place) and back.
void Break(const std::string& root) {
  fs::rename(root, root + ".away");
  std::ofstream(root) << "not a directory";
}
void Repair(const std::string& root) {
  fs::remove(root);
  fs::rename(root + ".away", root);
}

std::string WriteConfig(const TempDir& dir, const std::string& db) {
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    monitor-interval: 100ms\n"
                     << "    min-checkpoint-page-count: 20\n"
                     << "    replicas:\n"
                     << "      - name: a\n        path: " << dir.Join("ra")
                     << "\n        sync-interval: 100ms\n"
                     << "      - name: b\n        path: " << dir.Join("rb")
                     << "\n        sync-interval: 100ms\n";
  return cfg;
}

// Restores replica `name` of db and checks it equals the source.
void ExpectRestoresExactly(const std::string& cfg, const std::string& db,
                           const std::string& name, const std::string& out) {
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-config", cfg,
                                   "-replica", name, "-o", out, db});
  ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
  EXPECT_EQ(ContentHash(out), ContentHash(db)) << name;
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok") << name;
  auto v = Run(
      {LitekeepBin(), "verify", "-config", cfg, "-replica", name, "-full", db});
  EXPECT_EQ(v.exit_code, 0) << name << ": " << v.out << v.err;
}

TEST(MultiReplicaTest, BrokenReplicaCatchesUpAndBothRestoreExactly) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "CREATE TABLE u(y);"),
            "");
  const std::string cfg = WriteConfig(dir, db);
  auto rep = std::make_unique<ChildProcess>(
      std::vector<std::string>{LitekeepBin(), "replicate", "-config", cfg},
      dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("ra")) > 0 && MaxTxid(dir.Join("rb")) > 0;
  })) << rep->Log();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(i) + ")"),
              "");
  }
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("ra")) == MaxTxid(dir.Join("rb")) &&
           QueryOne(db, "SELECT count(*) FROM t") == "5" &&
           MaxTxid(dir.Join("ra")) >= 2;
  })) << rep->Log();

  // The time from a commit until it is in a (sync-interval 100 ms).
  auto insert_and_expect_a = [&](int i) -> double {
    const uint64_t before = MaxTxid(dir.Join("ra"));
    EXPECT_EQ(
        ExecSql(db, "BEGIN; INSERT INTO t VALUES(" + std::to_string(i) +
                        "); INSERT INTO u VALUES(randomblob(6000)); COMMIT"),
        "");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) > before; },
                          std::chrono::seconds(10)))
        << rep->Log();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  double healthy = 0;
  for (int i = 5; i < 15; ++i) healthy += insert_and_expect_a(i) / 10;
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("ra")) == MaxTxid(dir.Join("rb"));
  })) << rep->Log();

  // b breaks: a keeps its pace.
  Break(dir.Join("rb"));
  const uint64_t b_before = MaxTxid(dir.Join("rb.away"));
  const size_t a_l0_before = L0Files(dir.Join("ra"));
  double broken = 0;
  for (int i = 15; i < 55; ++i) broken += insert_and_expect_a(i) / 40;
  std::printf(
      "commit to replica a: %.0f ms with b healthy, %.0f ms with b "
      "broken (averages)\n",
      healthy * 1000, broken * 1000);
  EXPECT_LT(broken, 2 * healthy + 0.5);
  EXPECT_EQ(MaxTxid(dir.Join("rb.away")), b_before);
  // One PUT of one L0 file per commit to a, as with one replica...
  EXPECT_EQ(L0Files(dir.Join("ra")), a_l0_before + 40);
  // ... and the WAL is still checkpointed (b holds none of it): 40 commits
  // of 2+ pages each would be at least 80 frames (330 KB) otherwise.
  EXPECT_LT(fs::file_size(db + "-wal"), 250u * 1024) << rep->Log();

  // A restart while b is still broken: a goes on where it was.
  rep->Signal(SIGTERM);
  ASSERT_EQ(rep->Wait(), 0) << rep->Log();
  rep = std::make_unique<ChildProcess>(
      std::vector<std::string>{LitekeepBin(), "replicate", "-config", cfg},
      dir.Join("log2"));
  // (Writing before it opens the database would let sqlite3, the last
  // connection, checkpoint and delete the WAL: a snapshot, as with one
  // replica.)
  ASSERT_TRUE(WaitUntil([&] {
    return rep->Log().find("replicating " + db) != std::string::npos;
  })) << rep->Log();
  for (int i = 60; i < 65; ++i) insert_and_expect_a(i);
  // The backlog kept every file b missed: no snapshot for anyone.
  EXPECT_EQ(rep->Log().find("snapshot written"), std::string::npos)
      << rep->Log();

  Repair(dir.Join("rb"));
  ASSERT_TRUE(WaitUntil(
      [&] { return MaxTxid(dir.Join("rb")) == MaxTxid(dir.Join("ra")); },
      std::chrono::seconds(60)))
      << rep->Log();
  auto status = litekeep::testing::Run(
      {LitekeepBin(), "status", "-config", cfg, "-json"});
  EXPECT_NE(status.out.find("\"replicas\""), std::string::npos) << status.out;
  // `ltx -replica b` lists b's files (the newest is a's newest TXID).
  auto ltx = litekeep::testing::Run(
      {LitekeepBin(), "ltx", "-config", cfg, "-replica", "b", db});
  EXPECT_EQ(ltx.exit_code, 0) << ltx.err;
  char newest[17];
  std::snprintf(newest, sizeof(newest), "%016llx",
                static_cast<unsigned long long>(MaxTxid(dir.Join("ra"))));
  EXPECT_NE(ltx.out.find(newest), std::string::npos) << ltx.out;
  rep->Signal(SIGTERM);
  ASSERT_EQ(rep->Wait(), 0) << rep->Log();
  // b's chain is contiguous: L0 files only, no image in L9 beyond the first.
  ExpectRestoresExactly(cfg, db, "a", dir.Join("out-a.db"));
  ExpectRestoresExactly(cfg, db, "b", dir.Join("out-b.db"));
  // Without -replica: the newest one, named on stderr.
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-config", cfg,
                                   "-o", dir.Join("out-any.db"), db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using replica a"), std::string::npos) << r.err;
  auto bad =
      litekeep::testing::Run({LitekeepBin(), "restore", "-config", cfg,
                              "-replica", "c", "-o", dir.Join("out-c.db"), db});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no replica named \"c\" (its replicas: a, b)"),
            std::string::npos)
      << bad.err;
}

TEST(MultiReplicaTest, OverflowedBacklogCatchesUpWithAnImage) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string cfg = WriteConfig(dir, db);
  ::setenv("LITEKEEP_TEST_BACKLOG_FILES", "3", 1);
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ::unsetenv("LITEKEEP_TEST_BACKLOG_FILES");
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("ra")) > 0 &&
           MaxTxid(dir.Join("rb")) == MaxTxid(dir.Join("ra"));
  })) << rep.Log();
  Break(dir.Join("rb"));
  for (int i = 0; i < 12; ++i) {
    const uint64_t before = MaxTxid(dir.Join("ra"));
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(randomblob(3000))"), "");
    ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) > before; }))
        << rep.Log();
  }
  Repair(dir.Join("rb"));
  ASSERT_TRUE(WaitUntil(
      [&] { return MaxTxid(dir.Join("rb")) == MaxTxid(dir.Join("ra")); },
      std::chrono::seconds(90)))
      << rep.Log();
  EXPECT_NE(rep.Log().find("with a full image"), std::string::npos)
      << rep.Log();
  // The database itself was not snapshotted again for it (the image came
  // from replica a).
  EXPECT_EQ(rep.Log().find("a replica needs a full image"), std::string::npos);
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('after')"), "");
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("rb")) == MaxTxid(dir.Join("ra")) &&
           MaxTxid(dir.Join("ra")) > 0;
  })) << rep.Log();
  std::this_thread::sleep_for(milliseconds(300));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ExpectRestoresExactly(cfg, db, "a", dir.Join("out-a.db"));
  ExpectRestoresExactly(cfg, db, "b", dir.Join("out-b.db"));
}

TEST(MultiReplicaTest, ReplicaAddedToAnIdleDatabaseGetsAnImage) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "INSERT INTO t VALUES(1);"),
            "");
  // First with one replica (as a Litestream 0.5 config) ...
  const std::string one = dir.Join("one.yml");
  std::ofstream(one) << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      path: " << dir.Join("ra")
                     << "\n      sync-interval: 100ms\n";
  {
    ChildProcess rep({LitekeepBin(), "replicate", "-config", one},
                     dir.Join("log1"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep.Log().find("replicating " + db) != std::string::npos;
    })) << rep.Log();
    ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) >= 1; }))
        << rep.Log();
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(2)"), "");
    ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) >= 2; }))
        << rep.Log();
    rep.Signal(SIGTERM);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  }
  // ... then a second replica is added; nothing is written meanwhile.
  const std::string cfg = WriteConfig(dir, db);
  const uint64_t a_txid = MaxTxid(dir.Join("ra"));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log2"));
  ASSERT_TRUE(WaitUntil([&] {
    return MaxTxid(dir.Join("rb")) == MaxTxid(dir.Join("ra"));
  })) << rep.Log();
  // a continued where it was (its local state and lineage kept working).
  EXPECT_EQ(MaxTxid(dir.Join("ra")), a_txid) << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ExpectRestoresExactly(cfg, db, "b", dir.Join("out-b.db"));
}

// The state replicate last recorded for replica `name` (replicas.json).
nlohmann::json ReplicaState(const std::string& db, const std::string& name) {
  auto j = nlohmann::json::parse(
      ReadFile(fs::path(db).parent_path().string() + "/." +
               fs::path(db).filename().string() + "-litekeep/replicas.json"),
      nullptr, false);
  if (j.is_array()) {
    for (const auto& r : j) {
      if (r.value("name", "") == name) return r;
    }
  }
  return nlohmann::json::object();
}

TEST(MultiReplicaTest, S3ReplicaFailsAndCatchesUpBesideAFileReplica) {
  std::string error;
  auto server = S3rver::Start("multi", &error);
  if (!server) GTEST_SKIP() << "s3rver unavailable: " << error;
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  FaultProxy proxy(server->port(), FaultRates{});
  TempDir dir;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    monitor-interval: 100ms\n    replicas:\n"
                     << "      - name: local\n        path: " << dir.Join("ra")
                     << "\n        sync-interval: 100ms\n"
                     << "      - type: s3\n        bucket: multi\n"
                     << "        path: app\n        endpoint: "
                     << proxy.endpoint() << "\n        region: us-east-1\n"
                     << "        force-path-style: true\n"
                     << "        lease-ttl: 0\n"
                     << "        sync-interval: 100ms\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) >= 1; }))
      << rep.Log();
  ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES('before')"), "");
  ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) >= 2; }))
      << rep.Log();
  // S3 answers 500 to everything: the file replica goes on.
  FaultRates down;
  down.internal_500 = 1.0;
  proxy.set_rates(down);
  for (int i = 0; i < 10; ++i) {
    const uint64_t before = MaxTxid(dir.Join("ra"));
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES(" + std::to_string(i) + ")"),
              "");
    ASSERT_TRUE(WaitUntil([&] { return MaxTxid(dir.Join("ra")) > before; },
                          std::chrono::seconds(10)))
        << rep.Log();
  }
  ASSERT_TRUE(WaitUntil([&] {
    auto s3 = ReplicaState(db, "s3");
    return s3.value("healthy", true) == false &&
           s3.value("behind_files", 0) > 0;
  })) << rep.Log();
  proxy.set_rates(FaultRates{});
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s3 = ReplicaState(db, "s3");
        return s3.value("healthy", false) && s3.value("behind_files", 1) == 0;
      },
      std::chrono::seconds(90)))
      << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  ExpectRestoresExactly(cfg, db, "local", dir.Join("out-local.db"));
  ExpectRestoresExactly(cfg, db, "s3", dir.Join("out-s3.db"));
}

TEST(MultiReplicaTest, DuplicateNamesAreRefused) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n    replicas:\n"
                     << "      - path: " << dir.Join("r1") << "\n"
                     << "      - path: " << dir.Join("r2") << "\n";
  auto r = litekeep::testing::Run({LitekeepBin(), "replicate", "-config", cfg});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("two replicas of this database are named \"file\""),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir.Join("r1")));
}

}  // namespace
}  // namespace litekeep::testing
