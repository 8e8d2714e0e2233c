// Shared CLI helpers.
#include "cli/common.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

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
                 (a.size() > 2 && (std::isalpha(static_cast<unsigned char>(a[2])) ||
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

Result<Target> ResolveTarget(const std::string& arg,
                             const std::optional<config::Config>& cfg) {
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
        t.replica = db.replicas.front();
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
