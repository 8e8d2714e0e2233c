// Builds the ReplicaClient for a replica configuration: the only place that
// knows the concrete backends.
#pragma once

#include <memory>

#include "config/config.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// Returns a client for the replica's type; kUnimplemented for a type that is
// not built yet, kInvalidArgument for a missing destination.
Result<std::unique_ptr<ReplicaClient>> NewReplicaClient(
    const config::ReplicaConfig& replica);

}  // namespace litekeep::storage
