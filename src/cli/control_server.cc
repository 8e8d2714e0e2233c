// Control socket endpoints: request JSON in, Litestream's response JSON out.
#include "cli/control_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"

namespace litekeep::cli {
namespace {

using control::HttpReply;
using control::HttpRequest;
using nlohmann::json;

HttpReply Reply(int status, const json& body) {
  return {status, body.dump() + "\n"};
}

HttpReply Error(int status, const std::string& message) {
  return Reply(status, json{{"error", message}});
}

// The HTTP status Litestream answers an error with.
int StatusFor(const Status& s, int otherwise) {
  switch (s.code()) {
    case base::Code::kNotFound:
      return 404;
    case base::Code::kFailedPrecondition:
      return 409;
    case base::Code::kInvalidArgument:
      return 400;
    default:
      return otherwise;
  }
}

// The request body as JSON with a non-empty "path", made absolute.
Result<json> ReadBody(const HttpRequest& req, std::string* path) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return base::InvalidArgumentError("invalid request body");
  }
  if (!body.contains("path") || !body["path"].is_string() ||
      body["path"].get<std::string>().empty()) {
    return base::InvalidArgumentError("path required");
  }
  auto p = config::ExpandPath(body["path"].get<std::string>());
  if (!p.ok()) {
    return base::InvalidArgumentError("invalid path: " + p.status().message());
  }
  *path = *p;
  return body;
}

// The request's "timeout" in seconds (Litestream's field), else fallback.
std::chrono::milliseconds TimeoutOf(const json& body, int fallback_seconds) {
  int seconds = fallback_seconds;
  if (body.contains("timeout") && body["timeout"].is_number_integer() &&
      body["timeout"].get<int>() > 0) {
    seconds = body["timeout"].get<int>();
  }
  return std::chrono::seconds(seconds);
}

// The value of name in a query string ("path=%2Fdata%2Fa.db").
std::string QueryValue(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string part = query.substr(pos, amp - pos);
    if (part.rfind(name + "=", 0) == 0) {
      std::string raw = part.substr(name.size() + 1), out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out += ' ';
        } else if (raw[i] == '%' && i + 2 < raw.size() &&
                   std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          out += static_cast<char>(
              std::strtol(raw.substr(i + 1, 2).c_str(), nullptr, 16));
          i += 2;
        } else {
          out += raw[i];
        }
      }
      return out;
    }
    pos = amp + 1;
  }
  return "";
}

}  // namespace

HttpReply HandleControl(const HttpRequest& req, const config::Config& cfg,
                        JobSet& jobs, TimePoint started_at) {
  const std::string& m = req.method;
  const std::string& p = req.path;
  std::string path;
  if (p == "/list" && m == "GET") {
    json dbs = json::array();
    for (const auto& d : jobs.List()) {
      json item{{"path", d.path}, {"status", d.status}};
      if (d.last_sync != TimePoint{}) {
        item["last_sync_at"] = base::FormatRfc3339Nano(d.last_sync);
      }
      dbs.push_back(std::move(item));
    }
    return Reply(200, json{{"databases", dbs}});
  }
  if (p == "/info" && m == "GET") {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
        Clock::now() - started_at);
    return Reply(200, json{{"version", std::string("v") + LITEKEEP_VERSION},
                           {"pid", ::getpid()},
                           {"uptime_seconds", uptime.count()},
                           {"started_at", base::FormatRfc3339Nano(started_at)},
                           {"database_count", jobs.List().size()}});
  }
  if (p == "/txid" && m == "GET") {
    const std::string raw = QueryValue(req.query, "path");
    if (raw.empty()) return Error(400, "path required");
    auto abs = config::ExpandPath(raw);
    if (!abs.ok()) return Error(400, "invalid path: " + abs.status().message());
    bool known = false;
    for (const auto& d : jobs.List()) known |= d.path == *abs;
    if (!known) return Error(404, "database not found");
    return Reply(200, json{{"txid", jobs.ReplicatedTxid(*abs)}});
  }
  const bool post = m == "POST";
  if (!post && (p == "/start" || p == "/stop" || p == "/sync" ||
                p == "/register" || p == "/unregister")) {
    return Error(405, "method not allowed: use POST");
  }
  if (p == "/start" || p == "/stop") {
    auto body = ReadBody(req, &path);
    if (!body.ok()) return Error(400, body.status().message());
    std::string status;
    TxId txid = 0;
    Status s = p == "/start"
                   ? jobs.StartDb(path, &status, &txid)
                   : jobs.StopDb(path, TimeoutOf(*body, 30), &status, &txid);
    if (!s.ok()) {
      return Error(s.code() == base::Code::kNotFound ? 500 : StatusFor(s, 500),
                   s.message());
    }
    return Reply(200, json{{"status", status}, {"path", path}, {"txid", txid}});
  }
  if (p == "/sync") {
    auto body = ReadBody(req, &path);
    if (!body.ok()) return Error(400, body.status().message());
    const bool wait = body->value("wait", false);
    auto synced = jobs.SyncDb(path, TimeoutOf(*body, 30));
    if (!synced.ok()) {
      return Error(StatusFor(synced.status(), 500), synced.status().message());
    }
    // litekeep has no local-only step: every sync uploads, so both forms
    // return once the replica has the changes (docs/cli.md).
    const std::string status =
        synced->txid == 0 ? "no_change" : (wait ? "synced" : "synced_local");
    return Reply(200, json{{"status", status},
                           {"path", path},
                           {"txid", synced->replicated_txid},
                           {"replicated_txid", synced->replicated_txid}});
  }
  if (p == "/register") {
    auto body = ReadBody(req, &path);
    if (!body.ok()) return Error(400, body.status().message());
    const std::string url = body->value("replica_url", "");
    if (url.empty()) return Error(400, "replica_url required");
    auto replica = config::ParseReplicaUrl(url);
    if (!replica.ok()) {
      return Error(400, "invalid replica url: " + replica.status().message());
    }
    config::ApplyReplicaDefaults(cfg, &*replica);
    JobSpec spec;
    spec.db_path = path;
    spec.db.path = path;
    spec.replica = *replica;
    std::string status;
    Status s = jobs.Register(spec, &status);
    if (!s.ok()) {
      return Error(StatusFor(s, 500),
                   "failed to register database: " + s.message());
    }
    if (status == "registered") {
      spdlog::info("{}: registered (control socket) to {}", path,
                   config::Redacted(*replica));
    }
    return Reply(200, json{{"status", status}, {"path", path}});
  }
  if (p == "/unregister") {
    auto body = ReadBody(req, &path);
    if (!body.ok()) return Error(400, body.status().message());
    std::string status;
    TxId txid = 0;
    Status s = jobs.Unregister(path, TimeoutOf(*body, 30), &status, &txid);
    if (!s.ok()) {
      return Error(500, "failed to unregister database: " + s.message());
    }
    return Reply(200, json{{"status", status}, {"path", path}, {"txid", txid}});
  }
  return Error(404, "no such endpoint: " + m + " " + p);
}

Result<std::unique_ptr<control::UnixHttpServer>> StartControlSocket(
    const config::Config& cfg, JobSet& jobs) {
  const TimePoint started_at = Clock::now();
  auto server = control::UnixHttpServer::Start(
      cfg.socket.path, cfg.socket.permissions,
      [&cfg, &jobs, started_at](const HttpRequest& req) {
        return HandleControl(req, cfg, jobs, started_at);
      });
  if (!server.ok()) return server.status();
  spdlog::info("control socket listening on {} (mode {:04o})", cfg.socket.path,
               cfg.socket.permissions);
  return server;
}

}  // namespace litekeep::cli
