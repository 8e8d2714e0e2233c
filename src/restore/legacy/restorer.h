// Restores a database from a Litestream 0.3 replica: decompress the chosen
// snapshot into "<output>.tmp", apply the plan's WAL segments index by index
// with every frame's salts and cumulative checksum verified, stop at the last
// complete transaction, then check and rename (restore::FinalizeOutput).
// Memory is bounded by one page plus one transaction's page list; the
// frames of a transaction wait in a scratch file until its commit frame.
// On any error no output file is left behind and the error names the object.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "restore/executor.h"
#include "restore/legacy/plan.h"
#include "storage/replica_client.h"

namespace litekeep::restore::legacy {

struct RestoreOptions {
  std::string output;  // final database path
  bool force = false;  // replace an existing output
  IntegrityCheck integrity = IntegrityCheck::kQuick;
};

struct RestoreResult {
  std::string generation;
  uint32_t index = 0;  // last WAL index applied (snapshot's when none)
  int64_t offset = 0;  // end of the last applied commit in that index
  uint64_t transactions = 0;
  uint32_t page_size = 0;
  uint32_t pages = 0;
  int64_t bytes_read = 0;  // compressed bytes read
  size_t objects = 0;      // snapshot + segments read
};

Result<RestoreResult> Restore(storage::ReplicaClient& replica, const Plan& plan,
                              const RestoreOptions& options);

}  // namespace litekeep::restore::legacy
