// Litestream 0.3 replica layout: object names under generations/ and a
// catalog of every generation's snapshots and WAL segments, built from one
// recursive listing of the replica. Layout (docs/migrating.md):
//   generations/<16 hex>/snapshots/<index:08x>.snapshot.lz4
//   generations/<16 hex>/wal/<index:08x>_<offset:08x>.wal.lz4
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/replica_client.h"

namespace litekeep::restore::legacy {

// The listing prefix of every 0.3 object.
inline constexpr std::string_view kGenerationsPrefix = "generations/";

struct SnapshotInfo {
  std::string generation;
  uint32_t index = 0;
  int64_t size = 0;
  TimePoint created{};  // the object's modification time, as 0.3 uses it
  std::string key;
};

struct WalSegmentInfo {
  std::string generation;
  uint32_t index = 0;
  int64_t offset = 0;  // byte offset in that WAL index (uncompressed)
  int64_t size = 0;    // compressed object size
  TimePoint created{};
  std::string key;
};

struct Generation {
  std::string name;
  std::vector<SnapshotInfo> snapshots;  // by index
  std::vector<WalSegmentInfo> wal;      // by (index, offset)
  TimePoint created{};                  // earliest object time
  TimePoint updated{};                  // latest object time
};

struct Catalog {
  std::vector<Generation> generations;  // by name
  bool empty() const { return generations.empty(); }
  const Generation* Find(std::string_view name) const;
};

// 16 lower-case hex digits.
bool IsGenerationName(std::string_view s);
// "<8 hex>.snapshot.lz4" → index.
std::optional<uint32_t> ParseSnapshotName(std::string_view name);
// "<8 hex>_<8 hex>.wal.lz4" → (index, offset).
std::optional<std::pair<uint32_t, int64_t>> ParseWalSegmentName(
    std::string_view name);
std::string SnapshotKey(std::string_view generation, uint32_t index);
std::string WalSegmentKey(std::string_view generation, uint32_t index,
                          int64_t offset);
// "%08x" as 0.3 prints indexes and offsets in names.
std::string Hex8(uint64_t v);

// Builds the catalog from listed objects (keys relative to the replica
// path); names that are not 0.3 objects are ignored.
Catalog BuildCatalog(const std::vector<storage::ObjectInfo>& objects);

// Lists generations/ of a replica. A backend without generic listing yields
// an empty catalog.
Result<Catalog> ReadCatalog(storage::ReplicaClient& replica);

}  // namespace litekeep::restore::legacy
