// Object names inside a replica, exactly as docs/storage_layout.md says:
// the only place (with ltx/file_name.*) that builds or parses them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/types.h"

namespace litekeep::storage {

// "<root>/ltx/<level>" (level in decimal), the directory-style layout used
// by the file, Azure Blob, SFTP and GCS backends (and S3 in Litestream 0.5).
std::string LtxLevelDir(std::string_view root, int level);
// "<root>/ltx/<level>/<min:016x>-<max:016x>.ltx".
std::string LtxFilePath(std::string_view root, int level, TxId min_txid,
                        TxId max_txid);

}  // namespace litekeep::storage
