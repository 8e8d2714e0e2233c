// The NATS JetStream object-store backend of ReplicaClient: objects in an
// existing object store bucket (stream OBJ_<bucket>), written and read as
// nats.go's object store does, over the hand-written client protocol of
// storage/nats/conn.h. Object names follow Litestream 0.5's NATS client
// ("ltx/<level>/<min>-<max>.ltx" at the bucket root); the creation time is
// the object header Litestream-Timestamp. docs/storage_layout.md ("NATS")
// and docs/config.md ("NATS") describe layout, settings and auth order.
#pragma once

#include <memory>

#include "base/status.h"
#include "storage/nats/options.h"
#include "storage/replica_client.h"

namespace litekeep::storage::nats {

// Creates the client (no network: it connects, and checks that the bucket
// exists, on first use).
Result<std::unique_ptr<ReplicaClient>> NewNatsReplicaClient(
    const NatsOptions& options);

}  // namespace litekeep::storage::nats
