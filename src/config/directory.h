// Directory entries of the config (`dir:` + `pattern:`): the replica each
// database found under such an entry replicates to, and where its local
// state lives.
#pragma once

#include <string>

#include "config/config.h"

namespace litekeep::config {

// The replica for one database found under a directory entry: the entry's
// replica with the database's path relative to dir appended to its path
// (the file name alone when db_path is not under dir).
ReplicaConfig ReplicaForDatabase(const ReplicaConfig& base,
                                 const std::string& dir,
                                 const std::string& db_path);

// The local state directory of one database of the config (docs/config.md,
// `meta-dir`): for a `path` entry its `meta-path`; for a database found
// under a `dir` entry, <meta-dir>/<path relative to dir>-litekeep, or with
// `meta-path` <meta-path>/<relative dir>/.<file>-litekeep (as Litestream
// derives them, so databases never share one). Empty: the default
// (.<db>-litekeep beside the database).
std::string StateDirForDatabase(const DbConfig& db, const std::string& db_path);

// Whether db_path is a database under db's `dir` (lexically).
bool UnderDirectory(const DbConfig& db, const std::string& db_path);

}  // namespace litekeep::config
