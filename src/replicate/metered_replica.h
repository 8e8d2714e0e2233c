// Litestream 0.5's replica operation metrics (docs/metrics.md, "Litestream's
// series"): a ReplicaClient that passes every call to another one and counts
// it as Litestream does — litestream_replica_operation_total, _bytes,
// _duration_seconds and _errors_total, labelled replica_type and operation
// (GET, PUT, DELETE, LIST). One operation is one call of the interface (a
// file written, opened, listed or a batch deleted), as in Litestream; the
// per-request counts stay in litekeep_storage_requests_total.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "metrics/registry.h"
#include "storage/forwarding_client.h"

namespace litekeep::replicate {

// Declares the litestream_replica_operation_* families (idempotent).
void DescribeReplicaOperationMetrics(metrics::Registry& registry);

class MeteredReplica : public storage::ForwardingReplicaClient {
 public:
  // registry must outlive this client.
  MeteredReplica(std::shared_ptr<storage::ReplicaClient> inner,
                 metrics::Registry* registry);

  Result<std::vector<storage::FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override;
  base::Status DeleteFiles(
      const std::vector<storage::FileInfo>& files) override;
  base::Status WriteFileFenced(const storage::FileInfo& info,
                               base::Reader& data,
                               const storage::PublishFence& fence) override;
  base::Status DeleteFilesFenced(const std::vector<storage::FileInfo>& files,
                                 const storage::PublishFence& fence) override;
  base::Status DeleteAll() override;
  Result<std::vector<storage::ObjectInfo>> ListObjects(
      const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  // Lease objects (ReadVersioned, WriteIf) are passed on uncounted: they
  // are not replica operations.

  // Records one operation: its duration, `count` operations and `bytes`
  // (when > 0), and an error with its code when status is not ok.
  void Record(const char* operation, double seconds, const base::Status& status,
              double count = 1, double bytes = 0);

 private:
  // Runs call() and records it as `operation` (see Record).
  template <typename F>
  auto Timed(const char* operation, F&& call, double count = 1,
             double bytes = 0);

  metrics::Registry* registry_;
  std::string type_;
};

}  // namespace litekeep::replicate
