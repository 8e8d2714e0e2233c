// The Azure Blob backend of ReplicaClient, over libcurl with hand-written
// Shared Key and SAS authorization. Blob names follow Litestream 0.5
// ("<path>/ltx/<level>/<min>-<max>.ltx"); the creation time is stored as
// the blob metadata litestreamtimestamp. docs/storage_layout.md ("Azure
// Blob") and docs/config.md ("Azure Blob") describe layout and settings.
#pragma once

#include <memory>

#include "base/status.h"
#include "storage/abs/options.h"
#include "storage/replica_client.h"

namespace litekeep::storage::abs {

// Creates the client (no network).
Result<std::unique_ptr<ReplicaClient>> NewAbsReplicaClient(
    const AbsOptions& options);

// Creates the options' container if it does not exist (Create Container);
// Ok when it already exists. For tests and first-time setup.
base::Status CreateContainer(const AbsOptions& options);

}  // namespace litekeep::storage::abs
