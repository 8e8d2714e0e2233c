// Test harness for Litestream 0.3 replicas: runs the official Litestream
// v0.3.13 binary (npm @flydotio/litestream-linux-x64) replicating a real
// workload, and lists/edits the 0.3 objects it wrote.
#pragma once

#include <string>
#include <vector>

#include "tests/support/workload.h"

namespace litekeep::testing {

// The litestream 0.3.13 binary, or "" when it is not installed.
std::string Litestream03Bin();

// Runs `litestream replicate -config config_path` while RunWorkload(db, w)
// writes, waits for the replica to catch up, and stops it with SIGTERM.
// Returns "" or an error (with the log).
std::string ReplicateWithLitestream03(const std::string& config_path,
                                      const std::string& db,
                                      const WorkloadOptions& w,
                                      const std::string& log_path);

// Every regular file under dir, sorted (recursive).
std::vector<std::string> FilesUnder(const std::string& dir);

// LZ4 frame helpers (liblz4) for editing 0.3 objects in tests.
std::string Lz4Decompress(const std::string& frame);
std::string Lz4Compress(const std::string& data);

}  // namespace litekeep::testing
