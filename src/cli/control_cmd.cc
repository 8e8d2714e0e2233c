// Litestream 0.5's control commands, clients of a running `replicate`'s
// control socket (docs/cli.md, "Control socket"): `start`, `stop`, `sync`
// (the one-database form), `register`, `unregister`, `list`, `info`. Flags,
// requests, output and JSON are Litestream's, so scripts written for it
// work unchanged.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"
#include "config/config.h"
#include "control/unix_http.h"

namespace litekeep::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kDefaultSocket = "/var/run/litestream.sock";

struct ControlFlags {
  std::string socket = kDefaultSocket;
  int timeout = 30;
  bool json = false;
};

void AddControlFlags(CLI::App& app, ControlFlags* f) {
  app.add_option("--socket", f->socket,
                 "path to the control socket (default " +
                     std::string(kDefaultSocket) + ")");
  app.add_option("--timeout", f->timeout,
                 "maximum time to wait, in seconds (default " +
                     std::to_string(f->timeout) + ")");
  app.add_flag("--json", f->json, "print the answer as JSON");
}

int Usage(const std::string& message, const std::string& hint) {
  std::fprintf(stderr, "error: %s\nusage: %s\n", message.c_str(), hint.c_str());
  return kExitUsage;
}

// Sends one request; the parsed JSON answer, or an error naming the
// command ("sync failed: database not found: /x").
Result<json> Call(const std::string& command, const ControlFlags& f,
                  const std::string& method, const std::string& target,
                  const json& body) {
  // A second more than the server's own timeout, so its answer arrives.
  auto answer = control::UnixHttpCall(
      f.socket, method, target, method == "GET" ? "" : body.dump(),
      std::chrono::seconds(f.timeout) + std::chrono::seconds(1));
  if (!answer.ok()) return answer.status();
  json parsed = json::parse(answer->body, nullptr, false);
  if (answer->status != 200) {
    std::string why = answer->body;
    if (parsed.is_object() && parsed.contains("error") &&
        parsed["error"].is_string()) {
      why = parsed["error"].get<std::string>();
    }
    return base::FailedPreconditionError(command + " failed: " + why);
  }
  if (parsed.is_discarded() || !parsed.is_object()) {
    return base::CorruptError("failed to parse response from " + f.socket);
  }
  return parsed;
}

uint64_t U64(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>()
                                                        : 0;
}
std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int PrintJson(const ordered_json& j) {
  std::printf("%s\n", j.dump(2).c_str());
  return kExitOk;
}

// start and stop.
int RunStartStop(const std::vector<std::string>& args, bool start) {
  const std::string name = start ? "start" : "stop";
  CLI::App app{start ? "Resumes replication of one database in a running "
                       "`replicate` (control socket)."
                     : "Pauses replication of one database in a running "
                       "`replicate` after a final sync (control socket).",
               "litekeep " + name};
  ControlFlags f;
  std::vector<std::string> positional;
  app.add_option("db", positional, "DB_PATH");
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  if (positional.empty()) {
    return Usage("database path required", "litekeep " + name + " /path/to/db");
  }
  if (positional.size() > 1) return Usage("too many arguments", "");
  auto r =
      Call(name, f, "POST", "/" + name,
           json{{"path", AbsolutePath(positional[0])}, {"timeout", f.timeout}});
  if (!r.ok()) return ReportError(r.status());
  ordered_json out{{"status", Str(*r, "status")},
                   {"db_path", Str(*r, "path")},
                   {"state", start ? "running" : "stopped"},
                   {"txid", U64(*r, "txid")},
                   {"socket", f.socket}};
  if (f.json) return PrintJson(out);
  std::printf("status: %s\ndb_path: %s\nstate: %s\ntxid: %llu\nsocket: %s\n",
              Str(*r, "status").c_str(), Str(*r, "path").c_str(),
              start ? "running" : "stopped",
              static_cast<unsigned long long>(U64(*r, "txid")),
              f.socket.c_str());
  return kExitOk;
}

}  // namespace

int RunStart(const std::vector<std::string>& args) {
  return RunStartStop(args, true);
}

int RunStop(const std::vector<std::string>& args) {
  return RunStartStop(args, false);
}

bool IsControlSync(const std::vector<std::string>& args) {
  // Flags of either form that take a value (the next argument).
  static const char* kValueFlags[] = {
      "--socket",      "--timeout", "--interval", "--max-interval",
      "--include",     "--exclude", "--max-size", "--max-total-size",
      "--parallelism", "--state",   "--config",   "--addr"};
  int positional = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--wait" || a == "--socket" || a == "--timeout" ||
        a.rfind("--socket=", 0) == 0 || a.rfind("--timeout=", 0) == 0) {
      return true;
    }
    if (a == "--") {
      positional += static_cast<int>(args.size() - i - 1);
      break;
    }
    if (!a.empty() && a[0] == '-') {
      for (const char* f : kValueFlags) {
        if (a == f) ++i;
      }
      continue;
    }
    ++positional;
  }
  return positional == 1;
}

int RunControlSync(const std::vector<std::string>& args) {
  CLI::App app{
      "Syncs one database of a running `replicate` now (control socket).\n"
      "litekeep has no local-only step: the command returns once the\n"
      "replica holds every transaction committed before it, with or without\n"
      "-wait.",
      "litekeep sync"};
  ControlFlags f;
  bool wait = false;
  std::vector<std::string> positional;
  app.add_option("db", positional, "DB_PATH");
  app.add_flag("--wait", wait,
               "block until the sync completes, including the replica");
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  if (positional.empty()) {
    return Usage("database path required", "litekeep sync /path/to/db");
  }
  if (positional.size() > 1) return Usage("too many arguments", "");
  if (f.timeout <= 0) return Usage("timeout must be greater than 0", "");
  const auto started = std::chrono::steady_clock::now();
  auto r = Call("sync", f, "POST", "/sync",
                json{{"path", AbsolutePath(positional[0])},
                     {"wait", wait},
                     {"timeout", f.timeout}});
  if (!r.ok()) return ReportError(r.status());
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
  ordered_json out{{"db_path", Str(*r, "path")}, {"txid", U64(*r, "txid")}};
  if (wait) out["replica_txid"] = U64(*r, "replicated_txid");
  out["duration_ms"] = ms;
  if (f.json) return PrintJson(out);
  std::printf("db_path: %s\ntxid: %llu\n", Str(*r, "path").c_str(),
              static_cast<unsigned long long>(U64(*r, "txid")));
  if (wait) {
    std::printf("replica_txid: %llu\n",
                static_cast<unsigned long long>(U64(*r, "replicated_txid")));
  }
  std::printf("duration_ms: %lld\n", static_cast<long long>(ms));
  return kExitOk;
}

int RunRegister(const std::vector<std::string>& args) {
  CLI::App app{
      "Adds a database to a running `replicate` (control socket), e.g. a new\n"
      "tenant's database, without a restart. The replica URL is completed\n"
      "with the top-level replica settings of replicate's config.",
      "litekeep register"};
  ControlFlags f;
  std::string replica;
  std::vector<std::string> positional;
  app.add_option("db", positional, "DB_PATH");
  app.add_option("--replica", replica,
                 "replica URL (s3://bucket/prefix, file:///backup/path, ...)");
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  const std::string hint =
      "litekeep register -replica s3://bucket/prefix /path/to/db";
  if (positional.empty()) return Usage("database path required", hint);
  if (positional.size() > 1) return Usage("too many arguments", "");
  if (replica.empty()) return Usage("-replica is required", hint);
  if (f.timeout <= 0) return Usage("timeout must be greater than 0", "");
  auto r = Call(
      "register", f, "POST", "/register",
      json{{"path", AbsolutePath(positional[0])}, {"replica_url", replica}});
  if (!r.ok()) return ReportError(r.status());
  ordered_json out{{"status", Str(*r, "status")},
                   {"db_path", Str(*r, "path")},
                   {"replica", replica},
                   {"socket", f.socket}};
  if (f.json) return PrintJson(out);
  const std::string status = Str(*r, "status") == "already_registered"
                                 ? "already registered"
                                 : Str(*r, "status");
  std::printf("status: %s\ndb_path: %s\nreplica: %s\nsocket: %s\n",
              status.c_str(), Str(*r, "path").c_str(), replica.c_str(),
              f.socket.c_str());
  return kExitOk;
}

int RunUnregister(const std::vector<std::string>& args) {
  CLI::App app{
      "Removes a database from a running `replicate` after a final sync "
      "(control socket).",
      "litekeep unregister"};
  ControlFlags f;
  bool dry_run = false;
  std::vector<std::string> positional;
  app.add_option("db", positional, "DB_PATH");
  app.add_flag("--dry-run", dry_run,
               "print what would be unregistered and send nothing");
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  if (positional.empty()) {
    return Usage("database path required", "litekeep unregister /path/to/db");
  }
  if (positional.size() > 1) return Usage("too many arguments", "");
  if (f.timeout <= 0) return Usage("timeout must be greater than 0", "");
  const std::string path = AbsolutePath(positional[0]);
  if (dry_run) {
    std::printf(
        "Dry run: unregister request preview\n  database: %s\n  socket: %s\n"
        "  replicas: daemon-managed replica for this database\n"
        "  final sync: daemon close will sync the database and replica "
        "before the command completes\n  timeout: %ds\n"
        "No unregister request was sent.\n",
        path.c_str(), f.socket.c_str(), f.timeout);
    return kExitOk;
  }
  auto r = Call("unregister", f, "POST", "/unregister",
                json{{"path", path}, {"timeout", f.timeout}});
  if (!r.ok()) return ReportError(r.status());
  ordered_json out{{"status", Str(*r, "status")},
                   {"db_path", Str(*r, "path")},
                   {"final_txid", U64(*r, "txid")},
                   {"socket", f.socket}};
  if (f.json) return PrintJson(out);
  std::printf("status: %s\ndb_path: %s\nfinal_txid: %llu\nsocket: %s\n",
              Str(*r, "status").c_str(), Str(*r, "path").c_str(),
              static_cast<unsigned long long>(U64(*r, "txid")),
              f.socket.c_str());
  return kExitOk;
}

int RunList(const std::vector<std::string>& args) {
  CLI::App app{"Lists the databases of a running `replicate` (control socket).",
               "litekeep list"};
  ControlFlags f;
  f.timeout = 10;
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  if (f.timeout <= 0) return Usage("timeout must be greater than 0", "");
  auto r = Call("list", f, "GET", "/list", json::object());
  if (!r.ok()) return ReportError(r.status());
  const json dbs = r->contains("databases") && (*r)["databases"].is_array()
                       ? (*r)["databases"]
                       : json::array();
  if (f.json) {
    ordered_json list = ordered_json::array();
    for (const auto& d : dbs) {
      ordered_json item{{"path", Str(d, "path")}, {"status", Str(d, "status")}};
      if (!Str(d, "last_sync_at").empty()) {
        item["last_sync_at"] = Str(d, "last_sync_at");
      }
      list.push_back(item);
    }
    return PrintJson(ordered_json{{"databases", list}});
  }
  if (dbs.empty()) std::printf("No databases configured\n");
  for (const auto& d : dbs) {
    std::string when = "never";
    if (auto t = base::ParseRfc3339(Str(d, "last_sync_at")); t.ok()) {
      when = base::FormatRfc3339Seconds(*t);
    }
    std::printf("%s [%s] (last sync: %s)\n", Str(d, "path").c_str(),
                Str(d, "status").c_str(), when.c_str());
  }
  return kExitOk;
}

int RunInfo(const std::vector<std::string>& args) {
  CLI::App app{
      "Shows a running `replicate`'s version, PID, uptime and "
      "database count (control socket).",
      "litekeep info"};
  ControlFlags f;
  f.timeout = 10;
  AddControlFlags(app, &f);
  if (auto code = ParseArgs(app, args)) return *code;
  if (f.timeout <= 0) return Usage("timeout must be greater than 0", "");
  auto r = Call("info", f, "GET", "/info", json::object());
  if (!r.ok()) return ReportError(r.status());
  const uint64_t uptime = U64(*r, "uptime_seconds");
  if (f.json) {
    return PrintJson(
        ordered_json{{"version", Str(*r, "version")},
                     {"pid", U64(*r, "pid")},
                     {"uptime_seconds", uptime},
                     {"started_at", Str(*r, "started_at")},
                     {"database_count", U64(*r, "database_count")}});
  }
  std::string started = Str(*r, "started_at");
  if (auto t = base::ParseRfc3339(started); t.ok()) {
    started = base::FormatRfc3339Seconds(*t);
  }
  std::printf(
      "litekeep %s\n  PID:        %llu\n  Uptime:     %s\n"
      "  Started at: %s\n  Databases:  %llu\n",
      Str(*r, "version").c_str(),
      static_cast<unsigned long long>(U64(*r, "pid")),
      config::FormatDuration(std::chrono::seconds(uptime)).c_str(),
      started.c_str(),
      static_cast<unsigned long long>(U64(*r, "database_count")));
  return kExitOk;
}

}  // namespace litekeep::cli
