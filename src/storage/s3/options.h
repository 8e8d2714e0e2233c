// S3Options: everything the S3 backend needs to reach a bucket, converted
// from ReplicaSettings (the only place that does), and the request headers
// that carry the storage class and server-side encryption (docs/s3.md
// "Storage class and encryption").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "storage/retry.h"
#include "storage/s3/sigv4.h"
#include "storage/settings.h"

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

// Server-side encryption with store-managed keys.
enum class Sse {
  kNone,
  kS3,   // x-amz-server-side-encryption: AES256
  kKms,  // aws:kms, with sse_kms_key_id when given
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
  std::string ca_bundle;     // PEM file of trusted CAs; "" = $AWS_CA_BUNDLE

  // Credentials; empty = the environment chain (docs/s3.md).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // ~/.aws/credentials section; "" = $AWS_PROFILE or default.
  std::string profile;

  bool sign_payload = true;  // SHA-256 of bodies in the signature
  bool content_md5 = true;   // Content-MD5 on PUT/UploadPart (store checks it)
  // Send If-None-Match: * on PUT so an existing object is never replaced;
  // on 412 the existing object is accepted only if its size and MD5 match.
  bool if_none_match = false;

  std::string storage_class;  // x-amz-storage-class on uploads; "" = none
  Sse sse = Sse::kNone;
  std::string sse_kms_key_id;
  // SSE-C: the 32-byte customer key (raw bytes; secret, never printed).
  std::string sse_customer_key;

  int64_t part_size = 8 << 20;  // multipart part size (>= 5 MiB on AWS)
  int concurrency = 4;          // parallel parts per upload
  int list_concurrency = 16;    // parallel HEADs while listing
  int max_list_pages = 100000;  // a listing longer than this is an error
  ListTimestamps list_timestamps = ListTimestamps::kMetadata;

  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds stall_timeout{30000};
};

// Converts settings (already checked) into options: credentials, storage
// class, encryption (reads sse-customer-key-path), part size, concurrency.
// Errors name the setting and never contain a secret.
Result<S3Options> OptionsFromSettings(const ReplicaSettings& settings);

// The s3 backend's settings check (storage/registry.h): a bucket is required,
// an endpoint gets its scheme and must carry no credentials, and the values
// convert (OptionsFromSettings). Does not read the environment.
base::Status CheckSettings(ReplicaSettings* settings);

// Headers for requests that create an object (PUT, CreateMultipartUpload):
// storage class, SSE-S3/SSE-KMS, and the SSE-C key.
KeyValues CreateHeaders(const S3Options& options);
// Headers for requests that read or extend an SSE-C object (GET, HEAD,
// UploadPart): the SSE-C key, else nothing.
KeyValues CustomerKeyHeaders(const S3Options& options);

}  // namespace litekeep::storage::s3
