// Follow mode (`restore -f`, docs/follow.md) end to end with the real
// binary: a writer replicates to a file replica while a follower in another
// directory keeps its copy current through compaction, snapshots, retention
// and a restart, and equals the source at every checkpoint; readers (Python's
// sqlite3) reading in a loop see only committed states; a replica whose
// history no longer continues the follower is refused without -force;
// -exec and -json.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "ltx/file_name.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::milliseconds;

std::string Config(const TempDir& dir, const std::string& db,
                   const std::string& replica) {
  std::string path = dir.Join("litekeep.yml");
  std::ofstream(path) << "levels:\n  - interval: 1s\n  - interval: 3s\n"
                      << "snapshot:\n  interval: 4s\n  retention: 6s\n"
                      << "l0-retention: 2s\nl0-retention-check-interval: 1s\n"
                      << "dbs:\n"
                      << "  - path: " << db << "\n"
                      << "    replica:\n"
                      << "      type: file\n"
                      << "      path: " << replica << "\n"
                      << "      sync-interval: 100ms\n"
                      << "      retention-check-interval: 1s\n";
  return path;
}

// The TXID ranges of the LTX files in one level of a file replica (none
// while the level's directory does not exist).
std::vector<ltx::TxRange> LevelFiles(const std::string& replica, int level) {
  std::vector<ltx::TxRange> files;
  std::error_code ec;
  for (fs::directory_iterator it(replica + "/ltx/" + std::to_string(level), ec),
       end;
       !ec && it != end; it.increment(ec)) {
    auto range = ltx::ParseFileName(it->path().filename().string());
    if (range) files.push_back(*range);
  }
  return files;
}

// True once the replicator's first image (an LTX file in level 9) is in
// the replica. The level's directory is created before the file is written
// and fsync'd, so it is not the condition to wait for.
bool HasSnapshot(const std::string& replica) {
  return !LevelFiles(replica, 9).empty();
}

// The TXID a stopped follower recorded in OUTPUT-litekeep-follow (0 if
// none).
TxId FollowerTxId(const std::string& out) {
  std::smatch m;
  const std::string state = ReadFile(out + "-litekeep-follow");
  static const std::regex re("\"txid\":\\s*\"([0-9a-f]{16})\"");
  return std::regex_search(state, m, re) ? std::stoull(m[1].str(), nullptr, 16)
                                         : 0;
}

// Every row, in order: equal strings mean equal tables.
const char* kContent =
    "SELECT count(*) || ':' || group_concat(id || '=' || x || '/' || "
    "length(pad), ',') FROM (SELECT * FROM t ORDER BY id)";

void PrepareDb(const std::string& db) {
  ASSERT_EQ(
      ExecSql(db,
              "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY "
              "KEY, x INTEGER, pad BLOB); INSERT INTO t(x, pad) VALUES "
              "(1, randomblob(700)), (1, randomblob(700));"),
      "");
}

// One transaction that keeps the readers' invariant (every x equal, so
// sum(x) = count(*) * x) and grows the database by about one page.
void Step(const std::string& db) {
  ASSERT_EQ(ExecSql(db,
                    "BEGIN; UPDATE t SET x = x + 1; INSERT INTO t(x, pad) "
                    "SELECT max(x), randomblob(900) FROM t; DELETE FROM t "
                    "WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT "
                    "(SELECT count(*) / 10 FROM t)); COMMIT;"),
            "");
}

// Waits until the follower's rows equal the source's.
::testing::AssertionResult Converges(const std::string& source,
                                     const std::string& follower,
                                     Ms timeout = Ms(60000)) {
  const std::string want = QueryOne(source, kContent);
  std::string got;
  bool ok = WaitUntil(
      [&] {
        got = QueryOne(follower, kContent);
        return got == want;
      },
      timeout);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "follower differs from the source: want " << want.substr(0, 200)
         << "... got " << got.substr(0, 200) << "...";
}

std::vector<std::string> FollowArgs(const std::string& replica,
                                    const std::string& out) {
  return {LitekeepBin(), "restore", "-f", "-follow-interval",
          "100ms",       "-json",   "-o", out,
          replica};
}

TEST(FollowTest, FollowsThroughCompactionRetentionAndRestart) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string out_dir = dir.Join("follower");
  fs::create_directories(out_dir);
  const std::string out = out_dir + "/app.db";
  ASSERT_NO_FATAL_FAILURE(PrepareDb(db));
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", Config(dir, db, replica)},
      dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HasSnapshot(replica); })) << rep.Log();

  auto follower = std::make_unique<ChildProcess>(FollowArgs(replica, out),
                                                 dir.Join("follow.log"));
  // At least 16 s of writes (several compaction, snapshot and retention
  // cycles behind the follower), then until there were 5 checkpoints and
  // the restarted follower reached one too: counts are waited for, not
  // what happens to fit in a fixed time on a loaded machine (every step is
  // a few fsyncs, by the writer, the replicator and the follower).
  int checkpoints = 0, after_restart = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::steady_clock::now() - start; };
  bool restarted = false;
  while (elapsed() < Ms(16000) || checkpoints < 5 || after_restart < 1) {
    ASSERT_LT(elapsed(), Ms(300000))
        << checkpoints << " checkpoints (" << after_restart
        << " after the restart) in 5 minutes";
    for (int i = 0; i < 5; ++i) {
      ASSERT_NO_FATAL_FAILURE(Step(db));
      std::this_thread::sleep_for(Ms(60));
    }
    ASSERT_TRUE(Converges(db, out)) << follower->Log() << rep.Log();
    ++checkpoints;
    if (restarted) ++after_restart;
    ASSERT_EQ(QueryOne(out, "PRAGMA journal_mode"), "delete");
    if (!restarted && elapsed() > Ms(7000)) {
      // A restart resumes from the recorded TXID (no fresh restore).
      follower->Signal(SIGTERM);
      ASSERT_EQ(follower->Wait(), 0) << follower->Log();
      for (int i = 0; i < 5; ++i) ASSERT_NO_FATAL_FAILURE(Step(db));
      follower = std::make_unique<ChildProcess>(FollowArgs(replica, out),
                                                dir.Join("follow.log"));
      restarted = true;
    }
  }
  std::printf("[ info ] %d checkpoints (%d after the restart) in %.1f s\n",
              checkpoints, after_restart,
              std::chrono::duration<double>(elapsed()).count());
  // The restarted follower converged: its start-up lines are in the log.
  const std::string log = follower->Log();
  const size_t resumed = log.rfind("resuming");
  ASSERT_NE(resumed, std::string::npos) << log;
  EXPECT_EQ(log.find("restored", resumed), std::string::npos) << log;
  EXPECT_NE(log.find("\"txid\"", resumed), std::string::npos)
      << log;  // -json lines
  // Compaction ran: higher levels hold files.
  EXPECT_TRUE(HasSnapshot(replica)) << rep.Log();
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");

  // The follower stays stopped until L0 retention removed the file after
  // its TXID: it must continue through the compacted levels.
  follower->Signal(SIGTERM);
  ASSERT_EQ(follower->Wait(), 0) << follower->Log();
  const TxId stopped_at = FollowerTxId(out);
  ASSERT_GT(stopped_at, 0u) << ReadFile(out + "-litekeep-follow");
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(Step(db));
    std::this_thread::sleep_for(Ms(200));
  }
  // The next TXID reached level 0 (it is written there first, and L0
  // retention keeps the newest file) and is gone from it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        bool newer = false, next_in_l0 = false;
        for (const auto& f : LevelFiles(replica, 0)) {
          newer = newer || f.max_txid > stopped_at;
          next_in_l0 = next_in_l0 || (f.min_txid <= stopped_at + 1 &&
                                      stopped_at + 1 <= f.max_txid);
        }
        return newer && !next_in_l0;
      },
      Ms(120000)))
      << "L0 retention kept the file after TXID " << stopped_at << "\n"
      << rep.Log();
  follower = std::make_unique<ChildProcess>(FollowArgs(replica, out),
                                            dir.Join("follow.log"));
  ASSERT_TRUE(Converges(db, out)) << follower->Log();
  // The log line follows the step the readers already see: wait for it.
  std::string tail;
  EXPECT_TRUE(WaitUntil(
      [&] {
        const std::string log = follower->Log();
        tail = log.substr(log.rfind("resuming"));
        return std::regex_search(tail,
                                 std::regex("files of level [0-9,]*[1-9]"));
      },
      Ms(5000)))
      << "expected a step through a compacted level: " << tail;
  follower->Signal(SIGTERM);
  ASSERT_EQ(follower->Wait(), 0) << follower->Log();
}

TEST(FollowTest, ReadersSeeOnlyCommittedStates) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string out = dir.Join("follower.db");
  ASSERT_NO_FATAL_FAILURE(PrepareDb(db));
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", Config(dir, db, replica)},
      dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HasSnapshot(replica); })) << rep.Log();
  ChildProcess follower(FollowArgs(replica, out), dir.Join("follow.log"));
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(out); })) << follower.Log();

  // Two readers: one keeps its connection (and page cache) across reads,
  // one opens a new connection each time. Both open read-only, say "ready"
  // after their first read, and read until the stop file exists, then once
  // more (bounded at 5 minutes).
  const std::string script = dir.Join("reader.py");
  const std::string stop = dir.Join("stop");
  std::ofstream(script) << R"PY(
import os, sqlite3, sys, time
path, keep, stop = sys.argv[1], sys.argv[2] == "keep", sys.argv[3]
uri = "file:" + path + "?mode=ro"
conn = sqlite3.connect(uri, uri=True, timeout=30) if keep else None
reads = errors = changes = 0
last = None
end = time.time() + 300
while True:
    stopping = os.path.exists(stop) or time.time() > end
    c = conn or sqlite3.connect(uri, uri=True, timeout=30)
    try:
        n, lo, hi, s = c.execute("SELECT count(*), min(x), max(x), sum(x) FROM t").fetchone()
        if lo != hi or s != n * lo:
            print("torn state:", n, lo, hi, s); errors += 1
        if last is not None and lo < last:
            print("went back:", last, lo); errors += 1
        if last is not None and lo != last:
            changes += 1
        if reads == 0:
            print("ready", flush=True)
        last = lo
        reads += 1
    except Exception as e:
        print("error:", e); errors += 1
    finally:
        if conn is None: c.close()
    if stopping: break
print("reads", reads, "changes", changes, "errors", errors, "final", last)
sys.exit(1 if errors or changes == 0 else 0)
)PY";
  ChildProcess keep({"python3", script, out, "keep", stop},
                    dir.Join("keep.log"));
  ChildProcess fresh({"python3", script, out, "fresh", stop},
                     dir.Join("fresh.log"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return keep.Log().find("ready") != std::string::npos &&
               fresh.Log().find("ready") != std::string::npos;
      },
      Ms(60000)))
      << keep.Log() << fresh.Log();
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < Ms(6000)) {
    ASSERT_NO_FATAL_FAILURE(Step(db));
    std::this_thread::sleep_for(Ms(50));
  }
  // Transactions that leave page 1 alone (a WAL-mode writer does not touch
  // the change counter) must reach a reader that keeps its page cache too.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(ExecSql(db, "UPDATE t SET x = x + 1"), "");
    std::this_thread::sleep_for(Ms(300));
  }
  // Once the follower holds the final state, the readers' last reads must
  // see it (a reader keeping a stale page cache would not).
  EXPECT_TRUE(Converges(db, out)) << follower.Log();
  std::ofstream(stop).close();
  EXPECT_EQ(keep.Wait(Ms(120000)), 0) << keep.Log();
  EXPECT_EQ(fresh.Wait(Ms(120000)), 0) << fresh.Log();
  const std::string final_x = "final " + QueryOne(db, "SELECT min(x) FROM t");
  EXPECT_NE(keep.Log().find(final_x), std::string::npos) << keep.Log();
  EXPECT_NE(fresh.Log().find(final_x), std::string::npos) << fresh.Log();
  std::cerr << "kept connection: " << keep.Log()
            << "new connections: " << fresh.Log();
}

TEST(FollowTest, RefusesANewHistoryWithoutForce) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const std::string out = dir.Join("follower.db");
  ASSERT_NO_FATAL_FAILURE(PrepareDb(db));
  {
    ChildProcess rep(
        {LitekeepBin(), "replicate", "-config", Config(dir, db, replica)},
        dir.Join("replicate.log"));
    for (int i = 0; i < 10; ++i) {
      ASSERT_NO_FATAL_FAILURE(Step(db));
      std::this_thread::sleep_for(Ms(150));
    }
    ChildProcess follower(FollowArgs(replica, out), dir.Join("follow.log"));
    ASSERT_TRUE(Converges(db, out)) << follower.Log();
    follower.Signal(SIGTERM);
    ASSERT_EQ(follower.Wait(), 0) << follower.Log();
    rep.Signal(SIGTERM);
    rep.Wait();
  }
  // A new history: the replica and the database start over.
  fs::remove_all(replica);
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(db + s);
  fs::remove_all(dir.Join(".app.db-litekeep"));
  ASSERT_NO_FATAL_FAILURE(PrepareDb(db));
  ChildProcess rep(
      {LitekeepBin(), "replicate", "-config", Config(dir, db, replica)},
      dir.Join("replicate2.log"));
  ASSERT_TRUE(WaitUntil([&] { return HasSnapshot(replica); })) << rep.Log();
  const std::string before = QueryOne(out, kContent);
  auto r = litekeep::testing::Run(FollowArgs(replica, out));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("new history"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-force"), std::string::npos) << r.err;
  EXPECT_EQ(QueryOne(out, kContent), before);  // left alone

  // -force restores fresh and follows the new history; -exec runs an app
  // once the database is current and its exit code is the command's.
  auto args = FollowArgs(replica, out);
  args.insert(args.begin() + 2, "-force");
  args.insert(args.begin() + 2,
              {"-exec", "test \"$(sqlite3 " + out +
                            " 'SELECT count(*) FROM t')\" = 2 "
                            "&& exit 7"});
  auto forced = litekeep::testing::Run(args);
  EXPECT_EQ(forced.exit_code, 7) << forced.err;
  EXPECT_EQ(QueryOne(out, kContent), QueryOne(db, kContent));
}

// A remote replica: files are downloaded before the lock is taken.
TEST(FollowTest, FollowsAnS3Replica) {
  std::string error;
  auto server = S3rver::Start("follow", &error);
  if (!server) GTEST_SKIP() << "s3rver unavailable: " << error;
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  const std::string url = "s3://follow/app?endpoint=" + server->endpoint() +
                          "&forcePathStyle=true&region=us-east-1";
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string out = dir.Join("follower.db");
  ASSERT_NO_FATAL_FAILURE(PrepareDb(db));
  ChildProcess rep({LitekeepBin(), "replicate", db, url},
                   dir.Join("replicate.log"));
  // Every wait is for a condition, with a bound generous enough for a
  // loaded machine: each follower step and each sync is a few requests to
  // s3rver (Node), all competing for the same cores.
  const Ms patience(120000);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return litekeep::testing::Run({LitekeepBin(), "ltx", url})
                   .out.find("0000000000000001") != std::string::npos;
      },
      patience))
      << rep.Log();
  ChildProcess follower(FollowArgs(url, out), dir.Join("follow.log"));
  ASSERT_TRUE(Converges(db, out, patience)) << follower.Log() << rep.Log();
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_NO_FATAL_FAILURE(Step(db));
      std::this_thread::sleep_for(Ms(100));
    }
    ASSERT_TRUE(Converges(db, out, patience)) << follower.Log() << rep.Log();
  }
  follower.Signal(SIGTERM);
  EXPECT_EQ(follower.Wait(), 0) << follower.Log();
}

TEST(FollowTest, FlagsThatCannotFollowAreUsageErrors) {
  TempDir dir;
  auto r =
      litekeep::testing::Run({LitekeepBin(), "restore", "-f", "-txid", "5",
                              "-o", dir.Join("x.db"), dir.Join("replica")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("-txid"), std::string::npos) << r.err;
  r = litekeep::testing::Run({LitekeepBin(), "restore", "-exec", "true", "-o",
                              dir.Join("x.db"), dir.Join("replica")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace litekeep::testing
