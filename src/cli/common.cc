// Shared CLI helpers.
#include "cli/common.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "ltx/file_name.h"
#include "storage/registry.h"

namespace litekeep::cli {

std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> out;
  bool passthrough = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && !passthrough) {
      if (a == "--") {
        passthrough = true;
      } else if (a.size() > 2 && a[0] == '-' && a[1] != '-' &&
                 std::isalpha(static_cast<unsigned char>(a[1])) &&
                 (a.size() > 2 &&
                  (std::isalpha(static_cast<unsigned char>(a[2])) ||
                   a[2] == '-'))) {
        a = "-" + a;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

// InitLogging is in cli/logging.cc.

int ReportError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return status.code() == base::Code::kInvalidArgument ? 2 : 1;
}

Result<std::optional<config::Config>> LoadConfig(const std::string& path,
                                                 bool expand_env,
                                                 bool required) {
  std::string p = path.empty() ? config::DefaultConfigPath() : path;
  if (!base::PathExists(p)) {
    if (!required && path.empty()) return std::optional<config::Config>();
    return base::NotFoundError(
        "config file " + p +
        " not found (pass -config PATH, or set LITEKEEP_CONFIG)");
  }
  LK_ASSIGN_OR_RETURN(config::Config cfg, config::LoadFile(p, expand_env));
  return std::optional<config::Config>(std::move(cfg));
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  return abs.lexically_normal().string();
}

namespace {

// The replica of a config database that a command reads (see ResolveTarget).
Result<config::ReplicaConfig> ChooseReplica(const config::DbConfig& db,
                                            const std::string& db_path,
                                            const std::string& name) {
  std::string names;
  for (const auto& r : db.replicas) {
    if (!name.empty() && config::ReplicaName(r) == name) return r;
    names += (names.empty() ? "" : ", ") + config::ReplicaName(r);
  }
  if (!name.empty()) {
    return base::InvalidArgumentError("database " + db_path +
                                      " has no replica named \"" + name +
                                      "\" (its replicas: " + names + ")");
  }
  if (db.replicas.size() == 1) return db.replicas.front();
  // Several: the first reachable one with the newest TXID.
  const config::ReplicaConfig* best = nullptr;
  TxId best_txid = 0;
  std::string errors;
  for (const auto& r : db.replicas) {
    auto client = OpenReplica(r);
    // Only TXIDs are compared: no request for exact creation times.
    if (client.ok()) (*client)->SetCreatedTimes(storage::CreatedTimes::kListed);
    Result<TxId> tip = client.ok() ? storage::MaxTxId(**client)
                                   : Result<TxId>(client.status());
    if (!tip.ok()) {
      errors += (errors.empty() ? "" : "; ") + config::ReplicaName(r) + ": " +
                tip.status().message();
      continue;
    }
    if (best == nullptr || *tip > best_txid) {
      best = &r;
      best_txid = *tip;
    }
  }
  if (best == nullptr) {
    return base::UnavailableError("no replica of " + db_path +
                                  " can be read: " + errors);
  }
  std::fprintf(stderr,
               "using replica %s (TXID %s, the newest of %zu replicas; "
               "-replica NAME chooses another)\n",
               config::ReplicaName(*best).c_str(),
               ltx::FormatTxId(best_txid).c_str(), db.replicas.size());
  if (!errors.empty()) {
    std::fprintf(stderr, "skipped unreachable replicas: %s\n", errors.c_str());
  }
  return *best;
}

}  // namespace

Result<Target> ResolveTarget(const std::string& arg,
                             const std::optional<config::Config>& cfg,
                             const std::string& replica_name) {
  Target t;
  const bool is_url = arg.find("://") != std::string::npos;
  if (!is_url && cfg) {
    std::string abs = AbsolutePath(arg);
    for (const auto& db : cfg->dbs) {
      if (!db.path.empty() && AbsolutePath(db.path) == abs) {
        if (db.replicas.empty()) {
          return base::InvalidArgumentError("database " + abs + " in " +
                                            cfg->source +
                                            " has no replica configured");
        }
        t.db = db;
        LK_ASSIGN_OR_RETURN(t.replica, ChooseReplica(db, abs, replica_name));
        t.display = config::Redacted(t.replica);
        return t;
      }
    }
  }
  if (!is_url && !std::filesystem::is_directory(arg)) {
    return base::InvalidArgumentError(
        "\"" + arg + "\" is neither a database in " +
        (cfg ? cfg->source : std::string("the config (none loaded)")) +
        " nor a replica URL or directory (try file:///path, s3://bucket/path, "
        "or -config FILE)");
  }
  if (!replica_name.empty()) {
    return base::InvalidArgumentError(
        "-replica " + replica_name +
        " chooses among the replicas of a database in the config; \"" + arg +
        "\" is not one");
  }
  LK_ASSIGN_OR_RETURN(t.replica, config::ParseReplicaUrl(arg));
  if (cfg) config::ApplyReplicaDefaults(*cfg, &t.replica);
  t.display = config::Redacted(t.replica);
  return t;
}

Result<std::shared_ptr<storage::ReplicaClient>> OpenReplica(
    const config::ReplicaConfig& replica) {
  LK_ASSIGN_OR_RETURN(auto client, storage::NewReplicaClient(replica));
  return std::shared_ptr<storage::ReplicaClient>(std::move(client));
}

}  // namespace litekeep::cli
