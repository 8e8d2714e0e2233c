// GcsOptions: everything the Google Cloud Storage backend needs to reach a
// bucket, converted from ReplicaSettings (the only place that does), and how
// the JSON API endpoint and credentials are chosen (docs/config.md "Google
// Cloud Storage"): STORAGE_EMULATOR_HOST (no authentication, as Google's
// client libraries), else the `endpoint` setting or storage.googleapis.com
// with Application Default Credentials.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/retry.h"
#include "storage/settings.h"

namespace litekeep::storage::gcs {

struct GcsOptions {
  std::string bucket;  // required
  std::string path;    // object name prefix ("" = bucket root)
  // The JSON API base URL (scheme://host[:port], no trailing '/').
  std::string endpoint = "https://storage.googleapis.com";
  // Requests carry no Authorization header (STORAGE_EMULATOR_HOST).
  bool anonymous = false;
  bool skip_verify = false;
  std::string ca_bundle;

  // Objects up to chunk_size bytes go in one multipart insert; larger ones
  // as a resumable upload in chunks of chunk_size (a multiple of 256 KiB).
  int64_t chunk_size = 8 << 20;
  // Send ifGenerationMatch=0 on writes so an existing object is never
  // replaced; on 412 the existing object is accepted only if its size and
  // MD5 match.
  bool if_generation_match = false;
  int delete_concurrency = 16;
  int max_list_pages = 100000;  // a listing longer than this is an error
  int list_page_size = 0;       // maxResults per list; 0 = the store's

  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds stall_timeout{30000};
};

// The gcs backend's settings check (storage/registry.h): the bucket is
// required, the endpoint gets its scheme, values convert. Does not read the
// environment.
base::Status CheckSettings(ReplicaSettings* settings);

// Converts checked settings into options; STORAGE_EMULATOR_HOST, when set,
// replaces the endpoint and turns authentication off.
Result<GcsOptions> OptionsFromSettings(const ReplicaSettings& settings);

}  // namespace litekeep::storage::gcs
