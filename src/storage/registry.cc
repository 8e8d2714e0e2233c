// Backend selection by replica type.
#include "storage/registry.h"

#include "storage/file/file_client.h"

namespace litekeep::storage {

Result<std::unique_ptr<ReplicaClient>> NewReplicaClient(
    const config::ReplicaConfig& replica) {
  const std::string& type = replica.type.empty() ? "file" : replica.type;
  if (type == "file") {
    if (replica.path.empty()) {
      return base::InvalidArgumentError(
          "file replica has no path (set `path:` or use file:///dir)");
    }
    return std::unique_ptr<ReplicaClient>(new FileReplicaClient(replica.path));
  }
  return base::UnimplementedError("replica type \"" + type +
                                  "\" is not supported by this build "
                                  "(supported: file)");
}

}  // namespace litekeep::storage
