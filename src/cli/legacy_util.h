// Shared by the Litestream 0.3 listing commands (generations, snapshots,
// wal): resolving the replicas to list (with -replica), Go-style tables and
// times as 0.3 prints them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "config/config.h"
#include "storage/replica_client.h"

namespace litekeep::cli {

struct LegacyReplica {
  std::string name;  // the config name, else the type (as 0.3 names it)
  std::shared_ptr<storage::ReplicaClient> client;
};

struct LegacyTargets {
  std::vector<LegacyReplica> replicas;
  std::optional<std::string> db_path;  // set when the target is a config db
};

// A replica URL/directory (one replica) or a database of the config (all its
// replicas, or the one named by replica_name).
Result<LegacyTargets> ResolveLegacyTargets(const std::string& arg,
                                           const std::string& config_path,
                                           bool expand_env,
                                           const std::string& replica_name);

// The flags every 0.3 listing command takes.
struct LegacyListFlags {
  std::string target;
  std::string config_path;
  std::string replica_name;
  bool no_expand_env = false;
  bool json = false;
};

// Registers TARGET, -config, -no-expand-env, -replica and -json on app.
void AddLegacyListFlags(CLI::App& app, LegacyListFlags* flags);

// Resolves the flags' target (ResolveLegacyTargets).
Result<LegacyTargets> ResolveLegacyTargets(const LegacyListFlags& flags);

// Prints the listing: `json` as JSON when flags.json, else the table.
void PrintListing(const LegacyListFlags& flags,
                  const std::vector<std::vector<std::string>>& rows,
                  const nlohmann::json& json);

// Prints rows like Go's tabwriter (padding 2, spaces; last column unpadded).
void PrintTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace litekeep::cli
