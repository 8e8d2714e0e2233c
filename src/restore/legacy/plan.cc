// Generation, snapshot and WAL segment selection for 0.3 replicas.
#include "restore/legacy/plan.h"

#include <algorithm>

namespace litekeep::restore::legacy {

int64_t Plan::total_bytes() const {
  int64_t n = snapshot.size;
  for (const auto& s : segments) n += s.size;
  return n;
}

Result<const Generation*> SelectGeneration(const Catalog& catalog,
                                           const Options& options,
                                           const std::string& replica_name) {
  const Generation* best = nullptr;
  for (const auto& g : catalog.generations) {
    if (!options.generation.empty() && g.name != options.generation) continue;
    if (options.timestamp &&
        (*options.timestamp < g.created || *options.timestamp > g.updated)) {
      continue;
    }
    if (best == nullptr || g.updated > best->updated) best = &g;
  }
  if (best == nullptr && options.timestamp) {
    for (const auto& g : catalog.generations) {
      if (!options.generation.empty() && g.name != options.generation) continue;
      if (g.created > *options.timestamp) continue;
      if (best == nullptr || g.updated > best->updated) best = &g;
    }
  }
  if (best != nullptr) return best;
  if (!options.generation.empty() &&
      catalog.Find(options.generation) == nullptr) {
    return base::NotFoundError("generation " + options.generation +
                               " not found in " + replica_name +
                               " (list them with: litekeep generations)");
  }
  if (options.timestamp) {
    return base::NotFoundError("no Litestream 0.3 generation in " +
                               replica_name +
                               " was written at or before the requested "
                               "timestamp");
  }
  return base::NotFoundError("no Litestream 0.3 generations found in " +
                             replica_name);
}

Result<Plan> MakePlan(const Catalog& catalog, const Options& options,
                      const std::string& replica_name) {
  if (options.index && options.timestamp) {
    return base::InvalidArgumentError(
        "cannot use -index and -timestamp together");
  }
  LK_ASSIGN_OR_RETURN(const Generation* g,
                      SelectGeneration(catalog, options, replica_name));
  Plan plan;
  plan.generation = g->name;

  // Snapshot.
  const SnapshotInfo* snap = nullptr;
  for (const auto& s : g->snapshots) {
    if (options.index) {
      if (s.index > *options.index) continue;
      if (snap == nullptr || s.index >= snap->index) snap = &s;
    } else {
      if (options.timestamp && s.created > *options.timestamp) continue;
      if (snap == nullptr || s.created > snap->created) snap = &s;
    }
  }
  if (snap == nullptr) {
    return base::NotFoundError(
        "generation " + g->name + " in " + replica_name + " has no snapshot " +
        (options.index       ? "at or below WAL index " + Hex8(*options.index)
         : options.timestamp ? std::string("written at or before the timestamp")
                             : std::string("at all")));
  }
  plan.snapshot = *snap;
  plan.as_of = snap->created;

  if (options.index) {
    bool found = false;
    uint32_t highest = 0;
    for (const auto& w : g->wal) {
      highest = std::max(highest, w.index);
      if (w.index == *options.index) found = true;
    }
    if (!found && *options.index != snap->index) {
      return base::NotFoundError("WAL index " + Hex8(*options.index) +
                                 " not found in generation " + g->name +
                                 " of " + replica_name + " (highest index is " +
                                 Hex8(highest) + ")");
    }
  }

  // WAL segments in (index, offset) order; stop at the first one past the
  // timestamp or the index, as 0.3 does.
  for (const auto& w : g->wal) {
    if (options.timestamp && w.created > *options.timestamp) break;
    if (options.index && w.index > *options.index) break;
    if (w.index < snap->index) continue;
    plan.segments.push_back(w);
    if (w.created > plan.as_of) plan.as_of = w.created;
  }

  // Every index from the snapshot's to the last must be there, each
  // starting at offset 0.
  std::optional<uint32_t> current;
  for (const auto& w : plan.segments) {
    if (current && w.index == *current) continue;
    const uint32_t want = current ? *current + 1 : snap->index;
    if (w.index != want) {
      return base::CorruptError("missing WAL index " + Hex8(want) +
                                " in generation " + g->name + " of " +
                                replica_name + ": expected object " +
                                WalSegmentKey(g->name, want, 0));
    }
    if (w.offset != 0) {
      return base::CorruptError("missing WAL segment " +
                                WalSegmentKey(g->name, w.index, 0) + " in " +
                                replica_name + " (the first segment of index " +
                                Hex8(w.index) + " is " + w.key + ")");
    }
    current = w.index;
  }
  return plan;
}

}  // namespace litekeep::restore::legacy
