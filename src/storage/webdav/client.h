// The WebDAV backend of ReplicaClient: plain HTTP(S) over libcurl with basic
// authentication. Object names follow Litestream's WebDAV client
// ("<path>/ltx/<level>/<min>-<max>.ltx" below the server URL); a file is
// uploaded to a temporary name and moved into place; creation times come
// from the LTX header, since a WebDAV server keeps its own modification
// time. docs/storage_layout.md ("WebDAV") and docs/config.md ("WebDAV")
// describe layout, settings and what each server guarantees.
#pragma once

#include <memory>

#include "base/status.h"
#include "storage/replica_client.h"
#include "storage/webdav/options.h"

namespace litekeep::storage::webdav {

// Creates the client (no network until the first request).
Result<std::unique_ptr<ReplicaClient>> NewWebdavReplicaClient(
    const WebdavOptions& options);

}  // namespace litekeep::storage::webdav
