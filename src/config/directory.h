// Directory entries of the config (`dir:` + `pattern:`): the replica each
// database found under such an entry replicates to.
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

}  // namespace litekeep::config
