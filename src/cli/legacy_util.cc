// Helpers for the Litestream 0.3 listing commands.
#include "cli/legacy_util.h"

#include <cstdio>

#include "cli/common.h"

namespace litekeep::cli {

Result<LegacyTargets> ResolveLegacyTargets(const std::string& arg,
                                           const std::string& config_path,
                                           bool expand_env,
                                           const std::string& replica_name) {
  LK_ASSIGN_OR_RETURN(auto cfg, LoadConfig(config_path, expand_env, false));
  LK_ASSIGN_OR_RETURN(Target target, ResolveTarget(arg, cfg));
  LegacyTargets out;
  std::vector<config::ReplicaConfig> replicas;
  if (target.db) {
    out.db_path = AbsolutePath(target.db->path);
    for (const auto& r : target.db->replicas) {
      std::string name = r.name.empty() ? r.type : r.name;
      if (!replica_name.empty() && name != replica_name) continue;
      replicas.push_back(r);
    }
    if (replicas.empty()) {
      return base::InvalidArgumentError("replica \"" + replica_name +
                                        "\" not found for database " +
                                        *out.db_path);
    }
  } else {
    replicas.push_back(target.replica);
  }
  for (const auto& r : replicas) {
    LK_ASSIGN_OR_RETURN(auto client, OpenReplica(r));
    out.replicas.push_back({r.name.empty() ? r.type : r.name, client});
  }
  return out;
}

void AddLegacyListFlags(CLI::App& app, LegacyListFlags* flags) {
  app.add_option("target", flags->target, "database path or replica URL")
      ->required();
  app.add_option("--config", flags->config_path, "config file");
  app.add_flag("--no-expand-env", flags->no_expand_env,
               "do not expand $VAR in the config");
  app.add_option("--replica", flags->replica_name,
                 "only the replica with this name");
  app.add_flag("--json", flags->json, "print JSON");
}

Result<LegacyTargets> ResolveLegacyTargets(const LegacyListFlags& flags) {
  return ResolveLegacyTargets(flags.target, flags.config_path,
                              !flags.no_expand_env, flags.replica_name);
}

void PrintListing(const LegacyListFlags& flags,
                  const std::vector<std::vector<std::string>>& rows,
                  const nlohmann::json& json) {
  if (flags.json) {
    std::printf("%s\n", json.dump(2).c_str());
  } else {
    PrintTable(rows);
  }
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (width.size() <= i) width.resize(i + 1, 0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] + 2 - row[i].size(), ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace litekeep::cli
