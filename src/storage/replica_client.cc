// Helpers over any ReplicaClient.
#include "storage/replica_client.h"

#include <algorithm>

#include "ltx/format.h"

namespace litekeep::storage {

Result<TxId> MaxTxId(ReplicaClient& client) {
  TxId max = 0;
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    LK_ASSIGN_OR_RETURN(auto files, client.ListFiles(level));
    for (const auto& f : files) max = std::max(max, f.max_txid);
  }
  return max;
}

}  // namespace litekeep::storage
