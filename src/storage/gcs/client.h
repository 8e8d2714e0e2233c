// The Google Cloud Storage backend of ReplicaClient: the JSON API over
// libcurl with Application Default Credentials (storage/gcs/auth.h). Object
// names follow Litestream 0.5 ("<path>/ltx/<level>/<min>-<max>.ltx"); the
// creation time is stored as the custom metadata litestream-timestamp.
// docs/storage_layout.md ("Google Cloud Storage") and docs/config.md
// ("Google Cloud Storage") describe layout, settings and auth order.
#pragma once

#include <memory>

#include "base/status.h"
#include "storage/gcs/options.h"
#include "storage/replica_client.h"

namespace litekeep::storage::gcs {

// Creates the client (no network; credentials are found on first use).
Result<std::unique_ptr<ReplicaClient>> NewGcsReplicaClient(
    const GcsOptions& options);

}  // namespace litekeep::storage::gcs
