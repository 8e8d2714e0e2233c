// Object names inside a replica, exactly as docs/storage_layout.md says:
// with ltx/file_name.* (the LTX file name itself), the only place that builds
// or parses LTX object names, for every backend. Litestream 0.3's read-only
// generations/ names are parsed by restore/legacy/catalog.*.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/types.h"
#include "ltx/file_name.h"

namespace litekeep::storage {

// "<root>/ltx": everything LTX under a directory-style replica.
std::string LtxDir(std::string_view root);
// "<root>/ltx/<level>" (level in decimal), the directory-style layout used
// by the file, Azure Blob, SFTP and GCS backends (and S3 in Litestream 0.5).
std::string LtxLevelDir(std::string_view root, int level);
// "<root>/ltx/<level>/<min:016x>-<max:016x>.ltx".
std::string LtxFilePath(std::string_view root, int level, TxId min_txid,
                        TxId max_txid);

namespace s3 {

// "<path>/<level:04x>/" — the listing prefix of one level in S3's layout
// (docs/storage_layout.md, "S3").
std::string LevelPrefix(std::string_view path, int level);
// "<path>/<level:04x>/<min:016x>-<max:016x>.ltx".
std::string ObjectKey(std::string_view path, int level, TxId min_txid,
                      TxId max_txid);
// The TXID range of a key whose last path component is a canonical LTX file
// name (ltx::ParseFileName); nullopt for any other key.
std::optional<ltx::TxRange> ParseObjectName(std::string_view key);

}  // namespace s3
}  // namespace litekeep::storage
