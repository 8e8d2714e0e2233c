// MCP: JSON-RPC methods initialize, ping, tools/list and tools/call, and the
// tools themselves, each answered in process.
#include "cli/mcp_server.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "config/directory.h"
#include "ltx/file_name.h"
#include "metrics/server.h"
#include "replicate/replicator.h"
#include "restore/executor.h"
#include "restore/planner.h"

namespace litekeep::cli {
namespace {

using control::HttpReply;
using control::HttpRequest;
using nlohmann::json;

constexpr const char* kProtocolVersion = "2025-03-26";

struct Tool {
  const char* name;  // without the litekeep_/litestream_ prefix
  const char* description;
  json properties;
  std::vector<std::string> required;
};

const std::vector<Tool>& Tools() {
  static const auto* tools = new std::vector<Tool>{
      {"info",
       "A summary of litekeep's state: version, and every database with its "
       "replica, replication state and replicated TXID.",
       json::object(),
       {}},
      {"databases",
       "List the databases litekeep replicates and their replicas.",
       json::object(),
       {}},
      {"status",
       "Replication status of each database: state, replicated TXID, last "
       "successful sync.",
       {{"path",
         {{"type", "string"},
          {"description", "Only this database. Optional."}}}},
       {}},
      {"ltx",
       "List the LTX files of a database's replica (or of a replica URL).",
       {{"path",
         {{"type", "string"},
          {"description", "Database path or replica URL."}}}},
       {"path"}},
      {"restore",
       "Restore a database from its replica (or a replica URL) into a new "
       "file.",
       {{"path",
         {{"type", "string"},
          {"description", "Database path or replica URL."}}},
        {"o",
         {{"type", "string"},
          {"description", "Output path (must not exist)."}}},
        {"txid",
         {{"type", "string"},
          {"description", "Restore up to this TXID (hex). Optional."}}},
        {"timestamp",
         {{"type", "string"},
          {"description",
           "Restore to this point in time (RFC 3339). "
           "Optional."}}},
        {"if_db_not_exists",
         {{"type", "boolean"},
          {"description",
           "Succeed without restoring when the output "
           "exists. Optional."}}},
        {"if_replica_exists",
         {{"type", "boolean"},
          {"description",
           "Succeed without restoring when the replica has "
           "no backup. Optional."}}}},
       {"path"}},
      {"reset",
       "Drop a database's local state so the next sync writes a snapshot "
       "(refused while it is replicating: stop it first).",
       {{"path", {{"type", "string"}, {"description", "Database path."}}}},
       {"path"}},
      {"version", "Print the litekeep version.", json::object(), {}},
  };
  return *tools;
}

std::string Arg(const json& args, const char* key) {
  return args.contains(key) && args[key].is_string()
             ? args[key].get<std::string>()
             : "";
}
bool Flag(const json& args, const char* key) {
  return args.contains(key) && args[key].is_boolean() && args[key].get<bool>();
}

std::string Version() {
  return std::string("litekeep v") + LITEKEEP_VERSION + "\nSQLite " +
         sqlite3_libversion() + "\n";
}

std::string Databases(const config::Config& cfg, JobSet& jobs) {
  std::string out;
  for (const auto& db : cfg.dbs) {
    const std::string where =
        db.path.empty() ? db.dir + "/" + db.pattern : db.path;
    out += where;
    for (const auto& r : db.replicas) out += "  -> " + config::Redacted(r);
    out += "\n";
  }
  for (const auto& d : jobs.List()) {
    bool listed = false;
    for (const auto& db : cfg.dbs) listed |= db.path == d.path;
    if (!listed) out += d.path + "  (registered or found in a dir)\n";
  }
  return out.empty() ? "no databases\n" : out;
}

std::string StatusText(JobSet& jobs, const std::string& only) {
  std::string out;
  for (const auto& d : jobs.List()) {
    if (!only.empty() && d.path != only) continue;
    out +=
        d.path + "  " + d.status + "  txid " +
        ltx::FormatTxId(jobs.ReplicatedTxid(d.path)) + "  last sync " +
        (d.last_sync == TimePoint{} ? "never"
                                    : base::FormatRfc3339Seconds(d.last_sync)) +
        "\n";
  }
  return out.empty() ? "no databases\n" : out;
}

Result<std::shared_ptr<storage::ReplicaClient>> ReplicaOf(
    const std::string& path, const config::Config& cfg, Target* target) {
  std::optional<config::Config> with(cfg);
  LK_ASSIGN_OR_RETURN(*target, ResolveTarget(path, with));
  return OpenReplica(target->replica);
}

Result<std::string> Ltx(const std::string& path, const config::Config& cfg) {
  Target target;
  LK_ASSIGN_OR_RETURN(auto replica, ReplicaOf(path, cfg, &target));
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(*replica));
  std::string out =
      "level  min_txid          max_txid          size  created\n";
  for (const auto& f : files) {
    out += std::to_string(f.level) + "  " + ltx::FormatTxId(f.min_txid) + "  " +
           ltx::FormatTxId(f.max_txid) + "  " + std::to_string(f.size) + "  " +
           base::FormatRfc3339Seconds(f.created) + "\n";
  }
  return out;
}

Result<std::string> Restore(const json& args, const config::Config& cfg) {
  const std::string path = Arg(args, "path");
  std::string output = Arg(args, "o");
  if (output.empty()) {
    return base::InvalidArgumentError(
        "o (the output path) is required: litekeep never restores over a "
        "database it may be replicating");
  }
  output = AbsolutePath(output);
  if (std::filesystem::exists(output)) {
    if (Flag(args, "if_db_not_exists")) {
      return output + " already exists; nothing restored\n";
    }
    return base::AlreadyExistsError(output + " already exists");
  }
  restore::Target point;
  if (!Arg(args, "txid").empty()) {
    LK_ASSIGN_OR_RETURN(TxId txid, ltx::ParseTxId(Arg(args, "txid")));
    point.txid = txid;
  }
  if (!Arg(args, "timestamp").empty()) {
    LK_ASSIGN_OR_RETURN(TimePoint t,
                        base::ParseRfc3339(Arg(args, "timestamp")));
    point.timestamp = t;
  }
  Target target;
  LK_ASSIGN_OR_RETURN(auto replica, ReplicaOf(path, cfg, &target));
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(*replica));
  if (files.empty()) {
    if (Flag(args, "if_replica_exists")) {
      return "no backups found in " + target.display + "; nothing restored\n";
    }
    return base::NotFoundError("no backups found in " + target.display);
  }
  LK_ASSIGN_OR_RETURN(auto plan,
                      restore::MakePlan(files, point, target.display));
  restore::ExecuteOptions opts;
  opts.output = output;
  LK_ASSIGN_OR_RETURN(auto result, restore::Execute(*replica, plan, opts));
  return "restored " + output + " from " + target.display + " at TXID " +
         ltx::FormatTxId(result.txid) + "\n";
}

Result<std::string> Reset(const std::string& path, const config::Config& cfg,
                          JobSet& jobs) {
  const std::string db = AbsolutePath(path);
  for (const auto& d : jobs.List()) {
    if (d.path == db && d.status != "stopped") {
      return base::FailedPreconditionError(
          db +
          " is replicating in this process; stop it first (litekeep "
          "stop " +
          db + ")");
    }
  }
  std::string meta;
  for (const auto& entry : cfg.dbs) {
    if (entry.path == db || config::UnderDirectory(entry, db)) {
      meta = config::StateDirForDatabase(entry, db);
    }
  }
  if (meta.empty()) meta = replicate::DefaultMetaDir(db);
  return ResetLocalState(db, meta, false);
}

// Runs tool name (either prefix) with args: its text, or an error.
Result<std::string> CallTool(std::string name, const json& args,
                             const config::Config& cfg, JobSet& jobs) {
  for (const char* prefix : {"litekeep_", "litestream_"}) {
    if (name.rfind(prefix, 0) == 0) {
      name = name.substr(std::string(prefix).size());
      break;
    }
  }
  const std::string path = Arg(args, "path");
  if (name == "version") return Version();
  if (name == "databases") return Databases(cfg, jobs);
  if (name == "status") {
    return StatusText(jobs, path.empty() ? "" : AbsolutePath(path));
  }
  if (name == "info") {
    return Version() + "\nDatabases:\n" + Databases(cfg, jobs) + "\nStatus:\n" +
           StatusText(jobs, "");
  }
  if (name == "ltx" || name == "restore" || name == "reset") {
    if (path.empty()) return base::InvalidArgumentError("path is required");
    if (name == "ltx") return Ltx(path, cfg);
    if (name == "restore") return Restore(args, cfg);
    return Reset(path, cfg, jobs);
  }
  return base::NotFoundError("unknown tool \"" + name + "\"");
}

HttpReply Answer(const json& id, json result) {
  return {200,
          json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}
                  .dump() +
              "\n"};
}

HttpReply Fail(const json& id, int code, const std::string& message) {
  return {200, json{{"jsonrpc", "2.0"},
                    {"id", id},
                    {"error", {{"code", code}, {"message", message}}}}
                       .dump() +
                   "\n"};
}

}  // namespace

HttpReply HandleMcp(const HttpRequest& req, const config::Config& cfg,
                    JobSet& jobs) {
  if (req.method != "POST") {
    return {405, json{{"error",
                       "POST JSON-RPC messages to this endpoint; "
                       "no event stream is offered"}}
                         .dump() +
                     "\n"};
  }
  json msg = json::parse(req.body, nullptr, false);
  if (msg.is_discarded() || !msg.is_object()) {
    return Fail(nullptr, -32700, "parse error");
  }
  if (!msg.contains("id")) return {202, ""};  // a notification
  const json id = msg["id"];
  const std::string method = msg.value("method", "");
  const json params = msg.contains("params") && msg["params"].is_object()
                          ? msg["params"]
                          : json::object();
  if (method == "initialize") {
    return Answer(
        id,
        {{"protocolVersion", params.value("protocolVersion", kProtocolVersion)},
         {"capabilities", {{"tools", {{"listChanged", false}}}}},
         {"serverInfo",
          {{"name", "litekeep"}, {"version", LITEKEEP_VERSION}}}});
  }
  if (method == "ping") return Answer(id, json::object());
  if (method == "tools/list") {
    json tools = json::array();
    for (const Tool& t : Tools()) {
      json schema{{"type", "object"}, {"properties", t.properties}};
      if (!t.required.empty()) schema["required"] = t.required;
      tools.push_back({{"name", std::string("litekeep_") + t.name},
                       {"description", t.description},
                       {"inputSchema", schema}});
    }
    return Answer(id, {{"tools", tools}});
  }
  if (method == "tools/call") {
    const std::string name = params.value("name", "");
    const json args =
        params.contains("arguments") && params["arguments"].is_object()
            ? params["arguments"]
            : json::object();
    auto text = CallTool(name, args, cfg, jobs);
    if (!text.ok() && text.status().message().rfind("unknown tool", 0) == 0) {
      return Fail(id, -32602, text.status().message());
    }
    const bool ok = text.ok();
    return Answer(
        id, {{"content",
              json::array({{{"type", "text"},
                            {"text", ok ? *text : text.status().message()}}})},
             {"isError", !ok}});
  }
  return Fail(id, -32601, "method not found: " + method);
}

Result<std::unique_ptr<control::UnixHttpServer>> StartMcp(
    const config::Config& cfg, JobSet& jobs) {
  LK_ASSIGN_OR_RETURN(auto addr, metrics::ParseListenAddr(cfg.mcp_addr));
  // Loopback unless a host is written (docs/cli.md, "MCP").
  const std::string host = addr.host.empty() ? "127.0.0.1" : addr.host;
  auto server = control::UnixHttpServer::StartTcp(
      host, addr.port, [&cfg, &jobs](const HttpRequest& req) {
        return HandleMcp(req, cfg, jobs);
      });
  if (!server.ok()) return server.status().WithContext("mcp-addr");
  spdlog::info("MCP endpoint listening on http://{}:{}/", host, addr.port);
  return server;
}

}  // namespace litekeep::cli
