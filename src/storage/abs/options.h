// AbsOptions: everything the Azure Blob backend needs to reach a container,
// converted from ReplicaSettings (the only place that does), and how the
// credentials are chosen (docs/config.md "Azure Blob": SAS token, then
// account key, each from the config before the environment, as Litestream).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/retry.h"
#include "storage/settings.h"

namespace litekeep::storage::abs {

// How requests are authorized.
enum class Auth {
  kSharedKey,  // Authorization: SharedKey account:signature
  kSas,        // the SAS token's parameters appended to every URL
};

struct AbsOptions {
  std::string account;    // storage account name (required)
  std::string container;  // required
  std::string path;       // blob name prefix ("" = container root)
  // The service URL: "" = https://<account>.blob.core.windows.net; an
  // emulator's is path style, e.g. http://127.0.0.1:10000/devstoreaccount1.
  std::string endpoint;
  bool skip_verify = false;
  std::string ca_bundle;

  Auth auth = Auth::kSharedKey;
  std::string account_key;  // decoded key bytes (secret, never printed)
  std::string sas_token;    // without a leading '?' (secret)

  // Blobs up to block_size bytes go in one Put Blob; larger ones as blocks
  // of block_size (Put Block, up to `concurrency` at once, then Put Block
  // List).
  int64_t block_size = 4 << 20;
  int concurrency = 4;
  // Send If-None-Match: * on writes so an existing blob is never replaced;
  // on 409/412 the existing blob is accepted only if its size and MD5 match.
  bool if_none_match = false;
  int delete_concurrency = 16;
  int max_list_pages = 100000;  // a listing longer than this is an error
  int list_page_size = 0;       // maxresults per List Blobs; 0 = store's

  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds stall_timeout{30000};
};

// The abs backend's settings check (storage/registry.h): account name and
// container are required, the endpoint gets its scheme, values convert.
// Does not read the environment.
base::Status CheckSettings(ReplicaSettings* settings);

// Converts checked settings into options and picks the credentials: a SAS
// token (sas-token, else $LITESTREAM_AZURE_SAS_TOKEN), else an account key
// (account-key, else $LITESTREAM_AZURE_ACCOUNT_KEY). Errors name the setting
// or variable and never contain a secret.
Result<AbsOptions> OptionsFromSettings(const ReplicaSettings& settings);

}  // namespace litekeep::storage::abs
