// Backup verification without trusting the backup (`litekeep verify`), at
// three depths: the listing alone (contiguity, gaps, overlaps, orphans,
// snapshot coverage of the retention window), every file's bytes (strict
// LTX decode, checksums, TXID chain), and a full restore checked with
// integrity_check and compared page by page with the live database at the
// same TXID. Every problem names the object at fault.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "ltx/timings.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

enum class VerifyDepth { kListing, kChecksums, kFull };

// What the listing checks compare against.
struct ListingPolicy {
  TimePoint now{};
  // The retention window; nullopt skips the snapshot-age check.
  std::optional<std::chrono::milliseconds> retention;
  // The snapshot interval; the newest snapshot may be this old even when
  // retention is shorter.
  std::chrono::milliseconds snapshot_interval{ltx::kDefaultSnapshotInterval};
};

// One failed check.
struct VerifyProblem {
  std::string check;    // "listing", "gap", "overlap", "orphan", "snapshot",
                        // "checksum", "chain", "restore", "integrity",
                        // "compare"
  std::string object;   // the object at fault ("level 0 file A-B.ltx"), or ""
  std::string message;  // what is wrong, naming the object
};

// Where the live database stood when the replica was last written, as the
// replicator recorded it (its position.json).
struct LivePosition {
  TxId txid = 0;
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  int64_t offset = 0;  // WAL byte offset replicated up to (0: no WAL)
  bool operator==(const LivePosition&) const = default;
};

struct VerifyOptions {
  VerifyDepth depth = VerifyDepth::kListing;
  ListingPolicy policy;
  // -full (and -checksums of files that carry database checksums): the
  // directory in which a private scratch directory (mkdtemp, 0700) holds
  // the temporary restore; removed after.
  std::string temp_dir;
  int parallelism = 8;
  // -full: the live database to compare with (empty: no comparison) and a
  // function returning its replicated position (re-read while the database
  // settles).
  std::string live_db;
  std::function<std::optional<LivePosition>()> load_position;
  // Called as files are checked or restored: files done/total, bytes
  // done/total.
  std::function<void(size_t, size_t, int64_t, int64_t)> progress;
};

struct VerifyReport {
  std::vector<VerifyProblem> problems;
  std::vector<std::string> notes;  // what was checked, what was skipped
  size_t files = 0;                // files listed
  int64_t bytes = 0;               // bytes listed
  TxId max_txid = 0;
  size_t files_decoded = 0;  // -checksums: files fully decoded
  TxId restored_txid = 0;    // -full: TXID restored
  bool compared_live = false;
  bool ok() const { return problems.empty(); }
};

// A file's name in problems: "level L file <min>-<max>.ltx".
std::string VerifyObjectName(const storage::FileInfo& f);

// The listing checks alone, on a listing (pure: used by tests).
std::vector<VerifyProblem> CheckListing(
    const std::vector<storage::FileInfo>& files, const ListingPolicy& policy);

// Runs the checks up to options.depth. A returned error means verification
// could not run (e.g. the replica cannot be listed); failed checks are in
// the report.
Result<VerifyReport> Verify(storage::ReplicaClient& replica,
                            const VerifyOptions& options);

}  // namespace litekeep::restore
