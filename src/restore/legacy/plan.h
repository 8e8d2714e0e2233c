// Which Litestream 0.3 state to restore: the generation, the snapshot and
// the WAL segments to apply, chosen the way Litestream 0.3.13 chooses them
// (docs/migrating.md, "How a 0.3 restore is chosen").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "restore/legacy/catalog.h"

namespace litekeep::restore::legacy {

struct Options {
  std::string generation;              // "" = choose
  std::optional<uint32_t> index;       // restore up to this WAL index
  std::optional<TimePoint> timestamp;  // newest state written at or before
};

struct Plan {
  std::string generation;
  SnapshotInfo snapshot;
  // Segments to apply, by (index, offset); every index from the snapshot's
  // up to the last one is present and starts at offset 0.
  std::vector<WalSegmentInfo> segments;
  // Time of the newest object in the plan (what the state is "as of").
  TimePoint as_of{};
  uint32_t last_index() const {
    return segments.empty() ? snapshot.index : segments.back().index;
  }
  int64_t total_bytes() const;
};

// Litestream 0.3's generation choice: among generations (filtered by
// options.generation) whose [created, updated] range holds the timestamp
// (any, without one), the one updated last; ties go to the first by name.
// litekeep extension: when a timestamp lies in no generation's range, the
// generation created at or before it and updated last is chosen (its final
// state is the newest state at that time); 0.3 finds nothing there.
// kNotFound when there is none.
Result<const Generation*> SelectGeneration(const Catalog& catalog,
                                           const Options& options,
                                           const std::string& replica_name);

// Builds the plan in the chosen generation: the snapshot (with -index: the
// highest index at or below it; otherwise the newest created at or before
// the timestamp), then WAL segments in (index, offset) order from the
// snapshot's index, stopping before the first segment written after the
// timestamp or beyond -index. kNotFound when nothing matches; kCorrupt
// naming the object when an index or an index's first segment is missing.
Result<Plan> MakePlan(const Catalog& catalog, const Options& options,
                      const std::string& replica_name);

}  // namespace litekeep::restore::legacy
