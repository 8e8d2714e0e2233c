// The S3 backend of ReplicaClient: AWS S3 and S3-compatible stores (MinIO,
// R2, B2, Tigris, GCS interop, s3rver) over libcurl with a hand-written
// SigV4 signer. Keys follow Litestream 0.5 ("<path>/<level:04x>/<min>-<max>
// .ltx"); the creation time is stored as x-amz-meta-litestream-timestamp.
// docs/s3.md describes credentials, options, retries and store quirks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "storage/replica_client.h"
#include "storage/s3/sigv4.h"

namespace litekeep::storage::s3 {

// How ListFiles fills FileInfo::created.
enum class ListTimestamps {
  // The stored litestream-timestamp metadata: remembered for files this
  // process wrote or saw before, fetched with one HEAD per file otherwise.
  kMetadata,
  // The store's LastModified from the listing only (no HEADs): upload time,
  // not the LTX creation time. What Litestream does outside timestamp
  // restores.
  kLastModified,
};

struct S3Options {
  std::string bucket;    // required
  std::string path;      // key prefix, used verbatim: keys are path + "/…"
  std::string region;    // "" = us-east-1 with an endpoint, else detected
  std::string endpoint;  // "" = AWS; "http://127.0.0.1:9000", "https://…"
  // Path style (endpoint/bucket/key). Unset: on for custom endpoints, off
  // (virtual-hosted, bucket.endpoint/key) for AWS.
  std::optional<bool> force_path_style;
  bool skip_verify = false;  // TLS certificate checks off (test stores only)
  std::string ca_bundle;     // PEM file of trusted CAs

  // Credentials; empty = the environment chain (docs/s3.md).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string
      profile;  // ~/.aws/credentials section; "" = $AWS_PROFILE or default

  bool sign_payload = true;  // SHA-256 of bodies in the signature
  bool content_md5 = true;   // Content-MD5 on PUT/UploadPart (store checks it)
  // Send If-None-Match: * on PUT so an existing object is never replaced;
  // on 412 the existing object is accepted only if its size and MD5 match.
  bool if_none_match = false;

  int64_t part_size = 8 << 20;  // multipart part size (>= 5 MiB on AWS)
  int concurrency = 4;          // parallel parts per upload
  int list_concurrency = 16;    // parallel HEADs while listing
  ListTimestamps list_timestamps = ListTimestamps::kMetadata;

  int max_attempts = 8;  // per request, first try included
  std::chrono::milliseconds retry_base{200};
  std::chrono::milliseconds retry_max{8000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds stall_timeout{30000};
};

// Resolves credentials: options, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (+AWS_SESSION_TOKEN), then LITESTREAM_ACCESS_KEY_ID/
// LITESTREAM_SECRET_ACCESS_KEY, then the shared credentials file
// ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, section profile /
// $AWS_PROFILE / "default"). The error names where it looked, never a secret.
Result<Credentials> ResolveCredentials(const S3Options& options);

// Creates the client; checks options (not the network).
Result<std::unique_ptr<ReplicaClient>> NewS3ReplicaClient(
    const S3Options& options);

}  // namespace litekeep::storage::s3
