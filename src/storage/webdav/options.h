// WebdavOptions: everything the WebDAV backend needs to reach a server
// directory, converted from ReplicaSettings (the only place that does), and
// how the server URL, login and replica path combine (docs/config.md
// "WebDAV"): objects live at <webdav-url>/<path>/ltx/<level>/<name>, as
// Litestream's WebDAV client puts them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/retry.h"
#include "storage/settings.h"

namespace litekeep::storage::webdav {

struct WebdavOptions {
  // The server's base URL: http(s)://host[:port][/root], no trailing '/'.
  std::string base_url;
  std::string path;  // below base_url, no leading or trailing '/'
  std::string username;
  std::string password;  // secret: never printed
  bool skip_verify = false;
  std::string ca_bundle;

  // Files up to this size are buffered in memory for retries; larger ones
  // are staged in a private temporary file (mkstemp, unlinked at once).
  int64_t memory_buffer = 8 << 20;
  // Header reads (creation times) and deletes run this many at once.
  int concurrency = 8;
  // Use WebDAV locks (LOCK/UNLOCK) to make lease replacement exclusive when
  // the server offers them (docs/storage_layout.md "WebDAV").
  bool use_locks = true;

  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds stall_timeout{30000};
};

// The webdav backend's settings check (storage/registry.h): webdav-url is
// required and must be http(s)://host[:port][/root] without credentials;
// the path is cleaned. Does not read the environment.
base::Status CheckSettings(ReplicaSettings* settings);

// Converts checked settings into options.
Result<WebdavOptions> OptionsFromSettings(const ReplicaSettings& settings);

}  // namespace litekeep::storage::webdav
