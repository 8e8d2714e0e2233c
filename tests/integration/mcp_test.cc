// The MCP endpoint of `replicate` (docs/cli.md, "MCP") driven by a JSON-RPC
// client (curl): initialize, tools/list with Litestream's tools, and
// tools/call of each tool, answered in process; a restore through it equals
// the source, reset is refused for a database that is replicating, and the
// endpoint listens on loopback when no host is written.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

using nlohmann::json;

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

struct Mcp {
  int port;
  int next_id = 1;
  // POSTs one JSON-RPC message; returns {HTTP status, parsed body}.
  std::pair<std::string, json> Post(const json& msg) {
    auto r = testing::Run(
        {"curl", "-s", "-w", "\n%{http_code}", "-X", "POST", "-H",
         "Content-Type: application/json", "-H",
         "Accept: application/json, text/event-stream", "-d", msg.dump(),
         "http://127.0.0.1:" + std::to_string(port) + "/mcp"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const size_t nl = r.out.rfind('\n');
    return {r.out.substr(nl + 1),
            json::parse(r.out.substr(0, nl), nullptr, false)};
  }
  json Call(const std::string& method, const json& params) {
    auto [code, body] = Post({{"jsonrpc", "2.0"},
                              {"id", next_id++},
                              {"method", method},
                              {"params", params}});
    EXPECT_EQ(code, "200") << body;
    EXPECT_EQ(body["jsonrpc"], "2.0") << body;
    return body;
  }
  // tools/call: {text, isError}.
  std::pair<std::string, bool> Tool(const std::string& name, const json& args) {
    json r = Call("tools/call", {{"name", name}, {"arguments", args}});
    EXPECT_TRUE(r.contains("result")) << r;
    return {r["result"]["content"][0]["text"].get<std::string>(),
            r["result"]["isError"].get<bool>()};
  }
};

TEST(McpTest, JsonRpcClientCallsEveryTool) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("r");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"
                    "INSERT INTO t VALUES('one'),('two')"),
            "");
  Mcp mcp{FreePort()};
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "mcp-addr: :" << mcp.port << "\ndbs:\n  - path: " << db
                     << "\n    replica:\n      path: " << replica << "\n";
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  ASSERT_TRUE(WaitUntil([&] {
    return Contains(rep.Log(), "MCP endpoint listening on http://127.0.0.1:");
  })) << rep.Log();
  ASSERT_TRUE(WaitUntil([&] { return Contains(rep.Log(), "snapshot"); }))
      << rep.Log();

  json init = mcp.Call("initialize", {{"protocolVersion", "2025-03-26"},
                                      {"capabilities", json::object()},
                                      {"clientInfo", {{"name", "test"}}}});
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-03-26") << init;
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "litekeep") << init;
  EXPECT_TRUE(init["result"]["capabilities"].contains("tools")) << init;
  auto [note_code, note_body] =
      mcp.Post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  EXPECT_EQ(note_code, "202");

  json list = mcp.Call("tools/list", json::object());
  std::set<std::string> names;
  for (const auto& t : list["result"]["tools"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t;
  }
  EXPECT_EQ(names, (std::set<std::string>{"litekeep_info", "litekeep_databases",
                                          "litekeep_status", "litekeep_ltx",
                                          "litekeep_restore", "litekeep_reset",
                                          "litekeep_version"}));

  auto [version, version_err] = mcp.Tool("litestream_version", {});
  EXPECT_FALSE(version_err);
  EXPECT_TRUE(Contains(version, "litekeep v")) << version;
  auto [dbs, dbs_err] = mcp.Tool("litekeep_databases", {});
  EXPECT_FALSE(dbs_err);
  EXPECT_TRUE(Contains(dbs, db + "  -> " + replica)) << dbs;
  auto [status, status_err] = mcp.Tool("litekeep_status", {{"path", db}});
  EXPECT_FALSE(status_err);
  EXPECT_TRUE(Contains(status, db + "  replicating  txid ")) << status;
  auto [info, info_err] = mcp.Tool("litestream_info", {});
  EXPECT_FALSE(info_err);
  EXPECT_TRUE(Contains(info, "Databases:") && Contains(info, db)) << info;
  auto [ltx, ltx_err] = mcp.Tool("litekeep_ltx", {{"path", db}});
  EXPECT_FALSE(ltx_err) << ltx;
  EXPECT_TRUE(Contains(ltx, "level  min_txid")) << ltx;
  EXPECT_TRUE(Contains(ltx, "  0000000000000001  0000000000000001  ")) << ltx;

  const std::string out = dir.Join("restored.db");
  auto [restored, restore_err] =
      mcp.Tool("litekeep_restore", {{"path", db}, {"o", out}});
  EXPECT_FALSE(restore_err) << restored;
  EXPECT_EQ(ContentHash(out), ContentHash(db));
  auto [again, again_err] =
      mcp.Tool("litekeep_restore", {{"path", db}, {"o", out}});
  EXPECT_TRUE(again_err);
  EXPECT_TRUE(Contains(again, "already exists")) << again;

  auto [reset, reset_err] = mcp.Tool("litekeep_reset", {{"path", db}});
  EXPECT_TRUE(reset_err);
  EXPECT_TRUE(Contains(reset, "stop it first")) << reset;
  EXPECT_TRUE(std::filesystem::exists(dir.Join(".app.db-litekeep")));

  json unknown = mcp.Call("tools/call", {{"name", "nope"}});
  EXPECT_EQ(unknown["error"]["code"], -32602) << unknown;
  json no_method = mcp.Call("resources/list", json::object());
  EXPECT_EQ(no_method["error"]["code"], -32601) << no_method;
  auto get =
      testing::Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:" + std::to_string(mcp.port)});
  EXPECT_EQ(get.out, "405");

  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
}

}  // namespace
}  // namespace litekeep::testing
