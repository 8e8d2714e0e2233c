// Helpers shared by the subcommands: Go-style flag normalisation, logging
// set-up, loading the config, resolving "DB path or replica URL" arguments,
// and printing errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "storage/replica_client.h"

namespace litekeep::cli {

// Rewrites Go-style single-dash long flags ("-config") to "--config";
// single-letter flags ("-o") and everything after "--" stay as they are.
std::vector<std::string> NormalizeArgs(int argc, char** argv);

// Sets up the default logger (stderr; text or json).
void InitLogging(const config::LoggingConfig& logging);

// Prints "error: <message>" to stderr and returns the exit code for it.
int ReportError(const Status& status);

// Loads the config from path (or the default path when empty). When
// `required` is false a missing default config is not an error (nullopt).
Result<std::optional<config::Config>> LoadConfig(const std::string& path,
                                                 bool expand_env,
                                                 bool required);

// What a "DB_PATH|REPLICA_URL" argument names.
struct Target {
  std::optional<config::DbConfig> db;  // set when the argument is a config db
  config::ReplicaConfig replica;
  std::string display;  // replica description safe to print
};

// Resolves arg: a database listed in the config, or a replica URL /
// directory. Errors say which and what to try. For a database with several
// replicas: the one named replica_name (`-replica NAME`), else the first
// reachable one with the newest TXID (said on stderr); with one replica,
// that one.
Result<Target> ResolveTarget(const std::string& arg,
                             const std::optional<config::Config>& cfg,
                             const std::string& replica_name = "");

// Absolute form of a path (relative to the working directory).
std::string AbsolutePath(const std::string& path);

// Builds the replica client for a target.
Result<std::shared_ptr<storage::ReplicaClient>> OpenReplica(
    const config::ReplicaConfig& replica);

}  // namespace litekeep::cli
