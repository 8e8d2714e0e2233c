// The default timings of an LTX replica (Litestream 0.5's defaults, listed
// in docs/config.md): one home for every layer that needs them (config
// defaults, the compaction scheduler, verify's listing policy, the runner).
#pragma once

#include <chrono>
#include <vector>

namespace litekeep::ltx {

// How often committed WAL frames are shipped as an L0 file.
inline constexpr std::chrono::milliseconds kDefaultSyncInterval{1000};
// How often a full image is written to the snapshot level (L9).
inline constexpr std::chrono::milliseconds kDefaultSnapshotInterval{
    std::chrono::hours(24)};
// How long restorable history is kept.
inline constexpr std::chrono::milliseconds kDefaultRetention{
    std::chrono::hours(24)};
// How often snapshot retention runs.
inline constexpr std::chrono::milliseconds kDefaultRetentionCheckInterval{
    std::chrono::hours(1)};
// How long an L0 file stays after it was compacted into L1, and how often
// that is checked.
inline constexpr std::chrono::milliseconds kDefaultL0Retention{
    std::chrono::minutes(5)};
inline constexpr std::chrono::milliseconds kDefaultL0RetentionCheckInterval{
    std::chrono::seconds(15)};

// Compaction intervals of levels 1, 2, 3.
inline std::vector<std::chrono::milliseconds> DefaultLevelIntervals() {
  return {std::chrono::seconds(30), std::chrono::minutes(5),
          std::chrono::hours(1)};
}

}  // namespace litekeep::ltx
