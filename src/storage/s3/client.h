// The S3 backend of ReplicaClient: AWS S3 and S3-compatible stores (MinIO,
// R2, B2, Tigris, GCS interop, s3rver) over libcurl with a hand-written
// SigV4 signer. Keys follow Litestream 0.5 ("<path>/<level:04x>/<min>-<max>
// .ltx"); the creation time is stored as x-amz-meta-litestream-timestamp.
// docs/s3.md describes credentials, options, retries and store quirks.
#pragma once

#include <memory>

#include "base/status.h"
#include "storage/replica_client.h"
#include "storage/s3/credentials.h"
#include "storage/s3/options.h"

namespace litekeep::storage::s3 {

// Creates the client; checks options and resolves credentials (not the
// network). An empty ca_bundle takes $AWS_CA_BUNDLE.
Result<std::unique_ptr<ReplicaClient>> NewS3ReplicaClient(
    const S3Options& options);

}  // namespace litekeep::storage::s3
