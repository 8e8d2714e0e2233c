// The control socket (docs/cli.md, "Control socket") against a running
// `replicate` with file replicas: a database registered at run time is
// replicated and restores exactly, `sync -wait` returns only once the
// replica holds the write, stop/start pause and resume one database,
// unregister forgets it, list/info answer Litestream's JSON, the socket's
// file mode is the configured one, a live socket is never taken over, a
// stale one is replaced, and the file is gone after exit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

// Runs a control command with -json against socket and parses its output.
json Control(const std::string& socket, std::vector<std::string> args) {
  args.insert(args.begin() + 1, {"-socket", socket, "-json"});
  auto r = Litekeep(args);
  EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << r.out;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

// Restores replica into a fresh file and returns its rows.
std::string RestoredRows(const TempDir& dir, const std::string& replica,
                         const std::string& name) {
  const std::string out = dir.Join(name);
  auto r = Litekeep({"restore", "-o", out, replica});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return QueryOne(out, "SELECT group_concat(x, ',') FROM t");
}

struct Daemon {
  TempDir dir;
  std::string socket = dir.Join("ctl.sock");
  std::string a = dir.Join("a.db");
  int port = FreePort();  // metrics and /healthz
  std::unique_ptr<ChildProcess> rep;

  void Start(const std::string& mode = "0660") {
    ASSERT_EQ(ExecSql(a,
                      "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                      "INSERT INTO t VALUES('a1')"),
              "");
    const std::string config = dir.Join("litekeep.yml");
    std::ofstream(config) << "addr: 127.0.0.1:" << port
                          << "\nsocket:\n  enabled: true\n  path: " << socket
                          << "\n  permissions: " << mode
                          << "\ndbs:\n  - path: " << a
                          << "\n    replica:\n      path: " << dir.Join("ra")
                          << "\n";
    rep = std::make_unique<ChildProcess>(
        std::vector<std::string>{LitekeepBin(), "replicate", "-config", config},
        dir.Join("log"));
    ASSERT_TRUE(WaitUntil([&] {
      return Contains(rep->Log(), "control socket listening");
    })) << rep->Log();
  }
};

TEST(ControlSocketTest, RegisterSyncStopStartUnregisterListInfo) {
  Daemon d;
  d.Start();
  const std::string& s = d.socket;

  struct stat st {};
  ASSERT_EQ(::lstat(s.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  json info = Control(s, {"info"});
  EXPECT_EQ(info["pid"], d.rep->pid());
  EXPECT_EQ(info["database_count"], 1);
  EXPECT_EQ(info["version"].get<std::string>().rfind("v", 0), 0u) << info;
  EXPECT_TRUE(info["started_at"].is_string()) << info;
  EXPECT_TRUE(info["uptime_seconds"].is_number()) << info;

  // A tenant's database created and registered while replicate runs.
  const std::string b = d.dir.Join("b.db");
  const std::string rb = d.dir.Join("rb");
  ASSERT_EQ(ExecSql(b,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('b1')"),
            "");
  json reg = Control(s, {"register", "-replica", "file://" + rb, b});
  EXPECT_EQ(reg["status"], "registered") << reg;
  EXPECT_EQ(reg["db_path"], b);
  EXPECT_EQ(reg["replica"], "file://" + rb);
  EXPECT_EQ(reg["socket"], s);
  EXPECT_EQ(Control(s, {"register", "-replica", "file://" + rb, b})["status"],
            "already_registered");

  // sync -wait returns once the replica has the write: restore at once.
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b2')"), "");
  json synced = Control(s, {"sync", "-wait", b});
  EXPECT_EQ(synced["db_path"], b);
  EXPECT_GT(synced["replica_txid"].get<uint64_t>(), 0u) << synced;
  EXPECT_TRUE(synced["duration_ms"].is_number()) << synced;
  EXPECT_EQ(RestoredRows(d.dir, rb, "b_out1.db"), "b1,b2");
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b3')"), "");
  synced = Control(s, {"sync", b});  // without -wait: the replica has it too
  EXPECT_FALSE(synced.contains("replica_txid")) << synced;
  EXPECT_EQ(RestoredRows(d.dir, rb, "b_out2.db"), "b1,b2,b3");

  // The raw endpoints with another HTTP client (curl: HTTP/1.1 keep-alive),
  // as Litestream's Go client sends them: Litestream's JSON shapes.
  auto raw = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"curl", "-s", "--unix-socket",
                                     s,      "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t nl = r.out.rfind('\n');
    return std::pair{r.out.substr(nl + 1),
                     json::parse(r.out.substr(0, nl), nullptr, false)};
  };
  auto [code, body] = raw({"http://localhost/txid?path=" + b});
  EXPECT_EQ(code, "200");
  ASSERT_TRUE(body["txid"].is_number_unsigned()) << body;
  const uint64_t before_raw = body["txid"].get<uint64_t>();
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('raw')"), "");
  std::tie(code, body) =
      raw({"-X", "POST", "-H", "Content-Type: application/json", "-d",
           json{{"path", b}, {"wait", true}, {"timeout", 10}}.dump(),
           "http://localhost/sync"});
  EXPECT_EQ(code, "200");
  // "no_change" when the replicator's own sync (at the next WAL write or
  // the sync interval) shipped the insert before the request came: either
  // way the replica has it when the answer comes.
  EXPECT_TRUE(body["status"] == "synced" || body["status"] == "no_change")
      << body;
  EXPECT_EQ(body["path"], b);
  EXPECT_GT(body["replicated_txid"].get<uint64_t>(), before_raw) << body;
  EXPECT_EQ(body["txid"], body["replicated_txid"]) << body;
  std::tie(code, body) =
      raw({"-X", "POST", "-d", json{{"path", d.dir.Join("none.db")}}.dump(),
           "http://localhost/sync"});
  EXPECT_EQ(code, "404");
  EXPECT_TRUE(Contains(body["error"].get<std::string>(), "database not found"))
      << body;
  std::tie(code, body) =
      raw({"-X", "POST", "-d", "{}", "http://localhost/register"});
  EXPECT_EQ(code, "400");
  EXPECT_EQ(body["error"], "path required") << body;
  ASSERT_EQ(ExecSql(b, "DELETE FROM t WHERE x = 'raw'"), "");
  Control(s, {"sync", "-wait", b});

  json list = Control(s, {"list"});
  ASSERT_EQ(list["databases"].size(), 2u) << list;
  for (const auto& db : list["databases"]) {
    EXPECT_EQ(db["status"], "replicating") << list;
    EXPECT_TRUE(db["last_sync_at"].is_string()) << list;
  }
  EXPECT_EQ(Control(s, {"info"})["database_count"], 2);

  // stop: final sync, then paused (sync refused); start resumes.
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b4')"), "");
  json stopped = Control(s, {"stop", b});
  EXPECT_EQ(stopped["status"], "stopped") << stopped;
  EXPECT_EQ(stopped["state"], "stopped");
  EXPECT_EQ(RestoredRows(d.dir, rb, "b_out3.db"), "b1,b2,b3,b4");
  EXPECT_EQ(Control(s, {"stop", b})["status"], "already_stopped");
  auto refused = Litekeep({"sync", "-socket", s, b});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Contains(refused.err, "sync failed: database is stopped"))
      << refused.err;
  list = Control(s, {"list"});
  int stopped_count = 0;
  for (const auto& db : list["databases"]) {
    stopped_count += db["path"] == b && db["status"] == "stopped";
  }
  EXPECT_EQ(stopped_count, 1) << list;
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b5')"), "");
  json started = Control(s, {"start", b});
  EXPECT_EQ(started["status"], "started") << started;
  EXPECT_EQ(started["state"], "running");
  EXPECT_EQ(Control(s, {"start", b})["status"], "already_running");
  Control(s, {"sync", "-wait", b});
  EXPECT_EQ(RestoredRows(d.dir, rb, "b_out4.db"), "b1,b2,b3,b4,b5");

  // unregister: final sync, then forgotten; later writes stay local.
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b6')"), "");
  json unreg = Control(s, {"unregister", b});
  EXPECT_EQ(unreg["status"], "unregistered") << unreg;
  EXPECT_GT(unreg["final_txid"].get<uint64_t>(), 0u) << unreg;
  EXPECT_EQ(Control(s, {"unregister", b})["status"], "already_unregistered");
  // Its series are gone, and /healthz does not wait for it.
  const auto [health, health_body] = HttpGet(d.port, "/healthz");
  EXPECT_EQ(health, 200) << health_body;
  EXPECT_FALSE(Contains(HttpGet(d.port, "/metrics").second, "db=\"" + b))
      << "series of an unregistered database";
  list = Control(s, {"list"});
  ASSERT_EQ(list["databases"].size(), 1u) << list;
  EXPECT_EQ(list["databases"][0]["path"], d.a);
  ASSERT_EQ(ExecSql(b, "INSERT INTO t VALUES('b7')"), "");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(RestoredRows(d.dir, rb, "b_out5.db"), "b1,b2,b3,b4,b5,b6");
  auto unknown = Litekeep({"sync", "-socket", s, b});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Contains(unknown.err, "database not found: " + b)) << unknown.err;

  // The configured database kept replicating throughout.
  ASSERT_EQ(ExecSql(d.a, "INSERT INTO t VALUES('a2')"), "");
  Control(s, {"sync", "-wait", d.a});
  EXPECT_EQ(RestoredRows(d.dir, d.dir.Join("ra"), "a_out.db"), "a1,a2");

  // Text output, Litestream's format.
  auto text = Litekeep({"list", "-socket", s});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(Contains(text.out, d.a + " [replicating] (last sync: "))
      << text.out;

  d.rep->Signal(SIGTERM);
  EXPECT_EQ(d.rep->Wait(), 0) << d.rep->Log();
  EXPECT_FALSE(fs::exists(s)) << "socket file left behind";
  auto gone = Litekeep({"list", "-socket", s});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(Contains(gone.err, "no control socket at " + s)) << gone.err;
  EXPECT_TRUE(Contains(gone.err, "litekeep replicate")) << gone.err;
  EXPECT_TRUE(Contains(gone.err, "socket")) << gone.err;
}

// A database registered before it exists: `sync` says it is not open yet;
// once it exists, `sync -wait` opens it at once (it does not wait for the
// next scheduled attempt) and answers with the replica holding the write.
TEST(ControlSocketTest, SyncOfADatabaseThatJustAppearedOpensItAtOnce) {
  Daemon d;
  d.Start();
  const std::string c = d.dir.Join("c.db");
  const std::string rc = d.dir.Join("rc");
  EXPECT_EQ(
      Control(d.socket, {"register", "-replica", "file://" + rc, c})["status"],
      "registered");
  auto early = Litekeep({"sync", "-socket", d.socket, "-json", "-wait", c});
  EXPECT_NE(early.exit_code, 0) << early.out;
  EXPECT_TRUE(Contains(early.err + early.out, "not open yet"))
      << early.err << early.out;

  ASSERT_EQ(ExecSql(c,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('c1')"),
            "");
  json synced = Control(d.socket, {"sync", "-wait", c});
  EXPECT_GT(synced["replica_txid"].get<uint64_t>(), 0u) << synced;
  EXPECT_EQ(RestoredRows(d.dir, rc, "c_out.db"), "c1");
}

TEST(ControlSocketTest, LiveSocketIsRefusedAndStaleOneReplaced) {
  Daemon d;
  d.Start("0600");
  struct stat st {};
  ASSERT_EQ(::lstat(d.socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A second replicate (its own database) must not steal the live socket.
  TempDir other;
  const std::string c = other.Join("c.db");
  ASSERT_EQ(ExecSql(c, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  const std::string config = other.Join("litekeep.yml");
  std::ofstream(config) << "socket:\n  enabled: true\n  path: " << d.socket
                        << "\ndbs:\n  - path: " << c
                        << "\n    replica:\n      path: " << other.Join("rc")
                        << "\n";
  auto second = Litekeep({"replicate", "-config", config});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_TRUE(Contains(second.err, "in use by another process")) << second.err;
  EXPECT_EQ(Control(d.socket, {"info"})["pid"], d.rep->pid());

  d.rep->Signal(SIGTERM);
  EXPECT_EQ(d.rep->Wait(), 0) << d.rep->Log();
  ASSERT_FALSE(fs::exists(d.socket));

  // A socket file whose process is gone (nobody answers): replaced.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, d.socket.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(fs::exists(d.socket));
  auto dead = Litekeep({"info", "-socket", d.socket});
  EXPECT_EQ(dead.exit_code, 1);
  EXPECT_TRUE(Contains(dead.err, "nothing answers")) << dead.err;
  ChildProcess again({LitekeepBin(), "replicate", "-config", config},
                     other.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return Contains(again.Log(), "control socket listening");
  })) << again.Log();
  EXPECT_EQ(Control(d.socket, {"info"})["pid"], again.pid());
  again.Signal(SIGTERM);
  EXPECT_EQ(again.Wait(), 0) << again.Log();

  // A path that is not a socket is never removed.
  std::ofstream(d.socket) << "precious";
  auto not_socket = Litekeep({"replicate", "-config", config});
  EXPECT_EQ(not_socket.exit_code, 1);
  EXPECT_TRUE(Contains(not_socket.err, "is not a socket")) << not_socket.err;
  EXPECT_EQ(ReadFile(d.socket), "precious");
}

TEST(ControlSocketTest, StartsWithoutDatabasesAndTakesRegistrations) {
  TempDir dir;
  const std::string socket = dir.Join("ctl.sock");
  const std::string config = dir.Join("litekeep.yml");
  std::ofstream(config) << "socket: {enabled: true, path: " << socket << "}\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", config},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return Contains(rep.Log(), "control socket listening");
  })) << rep.Log();
  EXPECT_EQ(Control(socket, {"list"})["databases"].size(), 0u);
  // Registered before the database exists: waiting, then replicated.
  const std::string db = dir.Join("tenant.db");
  EXPECT_EQ(
      Control(socket, {"register", "-replica", dir.Join("r"), db})["status"],
      "registered");
  EXPECT_EQ(Control(socket, {"list"})["databases"][0]["status"], "waiting");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('t1')"),
            "");
  ASSERT_TRUE(WaitUntil([&] {
    auto r = Litekeep({"sync", "-wait", "-json", "-socket", socket, db});
    return r.exit_code == 0;
  })) << rep.Log();
  EXPECT_EQ(RestoredRows(dir, dir.Join("r"), "out.db"), "t1");
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

}  // namespace
}  // namespace litekeep::testing
