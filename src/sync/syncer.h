// The engine of `litekeep sync` (docs/sync.md): keeps a local directory in
// step with the objects under a store's prefix, one way (the store is the
// truth). A pass lists the store once, downloads new and changed objects
// (change = ETag or size differs from the state file), optionally deletes
// local files whose objects are gone, and saves the state file; Watch runs
// passes with an interval that backs off while nothing changes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/object_store.h"
#include "sync/glob.h"
#include "sync/local_tree.h"

namespace litekeep::sync {

struct SyncOptions {
  std::string dest;  // the local directory (created when missing)
  // The state file; "" = <dest>/.litekeep-sync.json.
  std::string state_path;
  std::vector<std::string> include;  // globs (sync/glob.h)
  std::vector<std::string> exclude;
  bool delete_extra = false;   // -delete: remove local files not in the store
  int64_t max_size = 0;        // per object, bytes; 0 = no limit
  int64_t max_total_size = 0;  // the selected tree, bytes; 0 = no limit
  int parallelism = 4;         // concurrent downloads
  std::chrono::milliseconds interval{2000};       // watch: first interval
  std::chrono::milliseconds max_interval{30000};  // watch: backoff bound
};

// What one pass did.
struct PassStats {
  size_t objects = 0;  // selected objects in the listing
  int64_t bytes = 0;   // their total size
  size_t downloaded = 0;
  int64_t downloaded_bytes = 0;
  size_t deleted = 0;
  size_t excluded = 0;  // left out by include/exclude
  // Objects refused (unsafe name, symbolic link, over -max-size): one
  // message each. They do not fail the pass.
  std::vector<std::string> refused;
  // Objects that failed to download or apply: one message each.
  std::vector<std::string> failed;
  bool changed() const { return downloaded > 0 || deleted > 0; }
};

// Totals across passes (for metrics). Thread-safe to read.
struct SyncTotals {
  size_t objects = 0;
  int64_t bytes = 0;
  uint64_t passes = 0;
  uint64_t downloads = 0;
  uint64_t download_bytes = 0;
  uint64_t deletes = 0;
  uint64_t errors = 0;      // failed passes + failed objects
  double last_success = 0;  // unix seconds of the last complete pass; 0 never
  storage::RequestCounts requests;
};

// files_done, files_total, bytes_done, bytes_total (of this pass's downloads).
using ProgressFn = std::function<void(size_t, size_t, int64_t, int64_t)>;

class Syncer {
 public:
  // Checks the options (patterns, sizes) and creates dest; loads the state
  // file when it exists and belongs to this store.
  static Result<std::unique_ptr<Syncer>> Create(
      std::unique_ptr<storage::ObjectStore> store, SyncOptions options);

  // One pass. An error means the listing or the state could not be used
  // (nothing or only part was applied); per-object problems are in the
  // stats. A tree over max_total_size is kFailedPrecondition, and nothing
  // is applied.
  Result<PassStats> Pass(const ProgressFn& progress = nullptr);

  // Passes until wait(interval) returns true (stop). The interval starts at
  // options.interval, doubles after each pass without a change up to
  // max_interval, and snaps back after a change. after(pass) sees each
  // pass's result. Returns when stopped.
  void Watch(const std::function<bool(std::chrono::milliseconds)>& wait,
             const std::function<void(const Result<PassStats>&)>& after);

  SyncTotals totals() const;
  const SyncOptions& options() const { return options_; }
  std::string Describe() const { return store_->Describe(); }

 private:
  struct Entry {
    std::string etag;
    int64_t size = 0;
    int64_t modified_ns = 0;  // object's time = the local file's mtime
  };
  Syncer(std::unique_ptr<storage::ObjectStore> store, SyncOptions options);
  Status LoadState();
  Status SaveState();
  // Why key cannot be a local path ("" when it can).
  std::string RefuseReason(const std::string& key) const;

  std::unique_ptr<storage::ObjectStore> store_;
  SyncOptions options_;
  Filter filter_;
  LocalTree tree_;
  std::string state_rel_;  // state file path relative to dest ("" outside)
  std::map<std::string, Entry> state_;
  std::set<std::string> warned_;  // refusals already logged
  bool first_pass_ = true;

  mutable std::mutex totals_mu_;
  SyncTotals totals_;
};

}  // namespace litekeep::sync
