// What the object-store backends (Azure Blob, GCS) do with a listing, in one
// place: the LTX files of one level (canonical names directly in the level
// folder, sorted, creation time from metadata) and generic objects relative
// to the replica path (docs/storage_layout.md, the ReplicaClient contract).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// One object as a store's listing reports it.
struct ListedObject {
  std::string name;  // full object name
  int64_t size = 0;
  TimePoint modified{};  // the store's last-modified time
  std::string etag;
  std::optional<TimePoint> created;  // the stored LTX creation time, if any
};

// The LTX files of `level` among objects listed under `prefix`
// (LtxLevelDir(root, level) + "/"): only canonical names directly in that
// folder (ltx::ParseFileName), sorted by (min TXID, max TXID); the creation
// time is `created`, else `modified`.
std::vector<FileInfo> LevelFiles(const std::vector<ListedObject>& listed,
                                 const std::string& prefix, int level);

// The objects listed under `base` ("" or "<path>/") with keys relative to
// it, sorted by key.
std::vector<ObjectInfo> RelativeObjects(const std::vector<ListedObject>& listed,
                                        const std::string& base);

}  // namespace litekeep::storage
