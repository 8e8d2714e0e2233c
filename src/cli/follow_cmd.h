// `litekeep restore -f`: runs follow mode (docs/follow.md) for the restore
// command, with signals, -json progress lines and -exec.
#pragma once

#include <string>

#include "restore/follow.h"
#include "storage/replica_client.h"

namespace litekeep::cli {

// Follows until SIGINT/SIGTERM (or, with exec_cmd, until the child exits:
// its exit code is returned; signals are forwarded to it). With json, one
// JSON object per step on stdout. Returns the exit code.
int RunFollowMode(storage::ReplicaClient& replica,
                  restore::FollowOptions options, bool json,
                  const std::string& exec_cmd);

}  // namespace litekeep::cli
