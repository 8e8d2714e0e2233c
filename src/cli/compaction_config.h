// Maps the configuration (top-level `levels`, `snapshot`, `retention`,
// `l0-retention`…, per-db `snapshot`, per-replica `snapshot-interval`,
// `retention`, `retention-check-interval`) to the compactor's options for
// one database's replica. docs/config.md says where each value comes from.
#pragma once

#include <string>

#include "config/config.h"
#include "replicate/compaction_scheduler.h"

namespace litekeep::cli {

// temp_dir is where merged files are built (the database's local state
// directory). A config that was not loaded from a file (`replicate DB URL`)
// gets the default levels.
replicate::CompactionOptions CompactionOptionsFor(
    const config::Config& cfg, const config::DbConfig& db,
    const config::ReplicaConfig& replica, const std::string& temp_dir);

}  // namespace litekeep::cli
