// Helpers over any ReplicaClient.
#include "storage/replica_client.h"

#include <algorithm>

#include "ltx/format.h"

namespace litekeep::storage {

Result<std::vector<ObjectInfo>> ReplicaClient::ListObjects(
    const std::string& prefix) {
  return base::UnimplementedError("list objects under \"" + prefix + "\" in " +
                                  Describe() + ": not supported by the " +
                                  Type() + " backend");
}

Result<std::unique_ptr<base::Reader>> ReplicaClient::OpenObject(
    const std::string& key) {
  return base::UnimplementedError("open object " + key + " in " + Describe() +
                                  ": not supported by the " + Type() +
                                  " backend");
}

Result<VersionedObject> ReplicaClient::ReadVersioned(const std::string& key) {
  return base::UnimplementedError("read " + key + " in " + Describe() +
                                  " with its version: conditional access is "
                                  "not supported by the " +
                                  Type() + " backend");
}

Result<std::string> ReplicaClient::WriteIf(const std::string& key,
                                           const std::string&,
                                           const std::string&) {
  return base::UnimplementedError("conditional write of " + key + " in " +
                                  Describe() + ": not supported by the " +
                                  Type() + " backend");
}

base::Status ReplicaClient::WriteFileFenced(const FileInfo& info,
                                            base::Reader& data,
                                            const PublishFence&) {
  return WriteFile(info, data);
}

base::Status ReplicaClient::DeleteFilesFenced(
    const std::vector<FileInfo>& files, const PublishFence&) {
  return DeleteFiles(files);
}

Result<TxId> MaxTxId(ReplicaClient& client) {
  TxId max = 0;
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    LK_ASSIGN_OR_RETURN(auto files, client.ListFiles(level));
    for (const auto& f : files) max = std::max(max, f.max_txid);
  }
  return max;
}

}  // namespace litekeep::storage
