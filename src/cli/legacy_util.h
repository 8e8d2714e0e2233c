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

#include "restore/executor.h"
#include "restore/legacy/catalog.h"
#include "restore/legacy/plan.h"

namespace litekeep::cli {

// Which layout `restore` reads when a replica path holds LTX files, 0.3
// generations/, or both (docs/migrating.md, "Both layouts in one path").
enum class RestoreLayout { kLtx, kLegacy };

struct LayoutChoice {
  RestoreLayout layout = RestoreLayout::kLtx;
  std::string why;  // one line for the log
};

// layout_flag: "auto", "ltx" or "generations". In auto mode -generation/
// -index select 0.3, -txid selects LTX; otherwise the layout whose newest
// state at or before the timestamp (newest overall without one) is newer
// wins; equal times go to LTX.
Result<LayoutChoice> ChooseRestoreLayout(
    const std::string& layout_flag, const std::vector<storage::FileInfo>& ltx,
    const restore::legacy::Catalog& catalog,
    const restore::legacy::Options& legacy_options, bool have_txid,
    const std::string& replica_name);

// Runs a 0.3 restore (or prints its plan with dry_run). Returns the exit code.
int RunLegacyRestore(storage::ReplicaClient& replica,
                     const restore::legacy::Plan& plan,
                     const std::string& output, bool force,
                     restore::IntegrityCheck integrity,
                     const std::string& integrity_name, bool dry_run,
                     bool json);

}  // namespace litekeep::cli
