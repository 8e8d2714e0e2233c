// The SFTP backend of ReplicaClient: a remote directory reached over SSH
// (OpenSSH's sftp-server or internal-sftp, and other SFTP v3 servers) with
// libssh2. Layout as the file backend and Litestream 0.5:
// <path>/ltx/<level>/<min:016x>-<max:016x>.ltx, creation time in the mtime.
// docs/storage_layout.md "SFTP" describes writes, host keys and retries.
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "storage/replica_client.h"
#include "storage/sftp/options.h"

namespace litekeep::storage::sftp {

// Creates the client (no network until the first request).
Result<std::unique_ptr<ReplicaClient>> NewSftpReplicaClient(
    const SftpOptions& options);

// SFTP requests the client sent so far (every open, read batch, write
// batch, stat, rename, ... counted once): for benchmarks. 0 for other
// clients.
uint64_t SftpRequestCount(const ReplicaClient& client);

// Memory blocks libssh2 holds for all SFTP connections of the process (a
// session, its SFTP channel, open handles, buffers): 0 once every client
// is destroyed. For leak tests.
int64_t LibsshBlocksInUse();

}  // namespace litekeep::storage::sftp
