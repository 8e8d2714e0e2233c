// The `sync:` section of the config file (docs/sync.md, "In the config
// file"): a list of {src, dest, watch, delete, interval, ...} entries.
// Only config/*.cc use this.
#pragma once

#include "config/config.h"
#include "config/yaml_walk.h"

namespace litekeep::config::internal {

// Parses the `sync:` entry into config->syncs. config->replica_defaults
// must already hold the top-level replica settings (credentials, region,
// endpoint), which fill what a source URL leaves out. Unknown keys are
// errors naming the key, its line and the nearest known key.
Status ParseSyncList(const Walker& w, const Entry& entry, Config* config);

}  // namespace litekeep::config::internal
