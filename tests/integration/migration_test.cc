// A team moving from Litestream 0.5 to litekeep, in one shell script: a
// Litestream-0.5-style config (control socket, heartbeat, a `dbs` entry
// with a singular `replica:`) and the commands spelled as Litestream 0.5
// spells them (docs/migrating.md): `replicate -config`, `restore -f` (follow
// mode) into a second file while writes go on, `sync -wait`, `list` and
// `info` over the control socket, `reset -dry-run` and `reset`, and a
// restart. The test runs the heartbeat's HTTP endpoint and checks that the
// follower equals the source, passes integrity_check, and that the
// heartbeat was hit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// The script a user would write. $LK is the binary, $DIR a private
// directory, $PORT the heartbeat endpoint's port.
// clang-format off
constexpr char kScript[] = R"sh(set -euo pipefail
cd "$DIR"
cat > litestream.yml <<EOF
socket:
  enabled: true
  path: $DIR/litestream.sock
  permissions: 0600
heartbeat-url: http://127.0.0.1:$PORT/ping/token
heartbeat-interval: 1m
dbs:
  - path: $DIR/app.db
    replica:
      url: file://$DIR/replica
EOF
write() {  # n rows
  for i in $(seq "$1"); do
    sqlite3 app.db "INSERT INTO t(v) VALUES (hex(randomblob(200)))"
  done
}
same() {  # the follower has the source's rows
  [ "$(sqlite3 "file:follower.db?mode=ro" "$Q" 2>/dev/null)" = \
    "$(sqlite3 app.db "$Q")" ]
}
wait_for() {  # command, tries 0.1 s apart
  for _ in $(seq "$2"); do
    if eval "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out: $1" >&2
  return 1
}
Q="SELECT count(*), sum(length(v)), max(id) FROM t"

sqlite3 app.db "PRAGMA journal_mode=WAL;
  CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" > /dev/null
write 20
"$LK" replicate -config litestream.yml 2> replicate.log &
REP=$!
wait_for '[ -S litestream.sock ]' 300
"$LK" sync -wait -socket litestream.sock app.db

# A read replica of the replica named by the config, following it.
"$LK" restore -f -follow-interval 100ms -config litestream.yml \
  -o follower.db app.db 2> follow.log &
FOL=$!
write 100
"$LK" sync -wait -json -socket litestream.sock app.db > sync.json
"$LK" list -json -socket litestream.sock > list.json
"$LK" info -json -socket litestream.sock > info.json
wait_for same 300

# Stop, drop the local state, start again: the next sync writes a
# snapshot, which the follower takes as it goes.
kill -TERM "$REP"
wait "$REP"
"$LK" reset -dry-run -config litestream.yml app.db > reset-dry.txt
"$LK" reset -config litestream.yml app.db > reset.txt
"$LK" replicate -config litestream.yml 2>> replicate.log &
REP=$!
wait_for '[ -S litestream.sock ]' 300
write 50
"$LK" sync -wait -socket litestream.sock app.db
wait_for same 300
kill -TERM "$REP"
wait "$REP"
kill -TERM "$FOL"
wait "$FOL" || true
)sh";
// clang-format on

TEST(MigrationTest, Litestream05ScriptAgainstLitekeep) {
  TempDir dir;
  fs::create_directories(dir.Join("www/ping"));
  std::ofstream(dir.Join("www/ping/token")) << "ok\n";
  const int port = FreePort();
  ChildProcess heartbeat(
      {"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
       "--directory", dir.Join("www"), std::to_string(port)},
      dir.Join("heartbeat.log"));
  ASSERT_TRUE(WaitUntil([&] {
    return HttpGet(port, "/ping/token").first == 200;
  })) << heartbeat.Log();
  std::ofstream(dir.Join("migrate.sh")) << kScript;
  auto r = RunShell("LK='" + LitekeepBin() + "' DIR='" + dir.path() +
                    "' PORT=" + std::to_string(port) + " bash " +
                    dir.Join("migrate.sh"));
  ASSERT_EQ(r.exit_code, 0)
      << r.err << "\nreplicate:\n"
      << ReadFile(dir.Join("replicate.log")) << "\nfollow:\n"
      << ReadFile(dir.Join("follow.log"));

  const std::string db = dir.Join("app.db");
  const std::string follower = dir.Join("follower.db");
  const std::string rows = "SELECT group_concat(id || ':' || v) FROM t";
  EXPECT_EQ(QueryOne(db, "SELECT count(*) FROM t"), "170");
  EXPECT_TRUE(QueryOne(follower, rows) == QueryOne(db, rows));
  EXPECT_EQ(QueryOne(follower, "PRAGMA integrity_check"), "ok");

  // The control socket's answers, in Litestream's JSON shapes.
  const std::string sync = ReadFile(dir.Join("sync.json"));
  EXPECT_NE(sync.find("\"replica_txid\""), std::string::npos) << sync;
  const std::string list = ReadFile(dir.Join("list.json"));
  EXPECT_NE(list.find(db), std::string::npos) << list;
  EXPECT_NE(list.find("replicating"), std::string::npos) << list;
  EXPECT_NE(ReadFile(dir.Join("info.json")).find("\"database_count\": 1"),
            std::string::npos)
      << ReadFile(dir.Join("info.json"));
  EXPECT_NE(ReadFile(dir.Join("reset-dry.txt")).find("would remove"),
            std::string::npos)
      << ReadFile(dir.Join("reset-dry.txt"));
  EXPECT_NE(ReadFile(dir.Join("reset.txt"))
                .find("the next sync writes a "
                      "snapshot"),
            std::string::npos)
      << ReadFile(dir.Join("reset.txt"));
  // ... and it did: one snapshot per run of replicate.
  const std::string log = ReadFile(dir.Join("replicate.log"));
  const auto first = log.find("snapshot written as TXID");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_NE(log.find("snapshot written as TXID", first + 1), std::string::npos)
      << log;
  // The heartbeat reached the endpoint (once per run of replicate: the
  // interval is a minute).
  EXPECT_NE(heartbeat.Log().find("\"GET /ping/token HTTP/1.1\" 200"),
            std::string::npos)
      << heartbeat.Log();
  // The follower applied steps while the writes went on.
  EXPECT_NE(ReadFile(dir.Join("follow.log")).find("follow: applied TXID"),
            std::string::npos)
      << ReadFile(dir.Join("follow.log"));
}

}  // namespace
}  // namespace litekeep::testing
