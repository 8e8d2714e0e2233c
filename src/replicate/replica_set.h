// Several replicas of one database (docs/architecture.md, "Several
// replicas"): the Replicator reads the WAL and encodes each LTX file once;
// the ReplicaSet keeps that file in a bounded local backlog under the
// database's state directory and hands it to every replica, each on a thread
// of its own with its own position (the newest TXID it holds), lease,
// compaction and retention. A replica that fails falls behind on the backlog
// without holding the WAL or slowing the others, and catches up when it
// comes back: with the files it missed while the backlog still holds them,
// otherwise with a full image (an L9 snapshot) first.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "metrics/registry.h"
#include "replicate/compaction_scheduler.h"
#include "replicate/lease.h"
#include "storage/replica_client.h"

namespace litekeep::replicate {

// One replica of the set.
struct ReplicaLaneSpec {
  std::string name;  // unique within the database (docs/config.md, `name`)
  // Its local state directory (temporary files of a catch-up image).
  std::string dir;
  // The replica as written to: lease-fenced and indexed when configured.
  std::shared_ptr<storage::ReplicaClient> client;
  std::shared_ptr<Lease> lease;  // null: no lease (lease-ttl: 0)
  // Compaction and retention of this replica; nullopt: none (-once).
  std::optional<CompactionOptions> compaction;
};

struct ReplicaSetOptions {
  std::string db_path;   // for messages and metric labels
  std::string meta_dir;  // the database's local state directory
  // Bounds of the local backlog (docs/architecture.md, "Several replicas"):
  // past either, the oldest files go and a replica that still needed them
  // catches up with a full image.
  size_t max_backlog_files = 1024;
  int64_t max_backlog_bytes = int64_t{256} << 20;
  metrics::Registry* metrics = nullptr;  // optional
};

// What `status` and the metrics say about one replica of the set.
struct ReplicaLaneStatus {
  std::string name;
  std::string replica;       // Describe()
  TxId txid = 0;             // newest TXID it holds (0: unknown yet)
  bool healthy = false;      // its last upload (or listing) succeeded
  bool needs_image = false;  // behind the backlog: catches up with an image
  size_t behind_files = 0;   // backlog files it has not uploaded yet
  std::string last_error;    // empty while healthy
  TimePoint last_ok{};       // last successful upload; epoch: none yet
};

// The set looks like one replica to the Replicator: it reads from the
// replica with the newest TXID (plus the backlog), and WriteFile / ShipFile
// hand a file to every replica.
class ReplicaSet : public storage::ReplicaClient {
 public:
  ReplicaSet(ReplicaSetOptions options, std::vector<ReplicaLaneSpec> lanes);
  ~ReplicaSet() override;
  ReplicaSet(const ReplicaSet&) = delete;
  ReplicaSet& operator=(const ReplicaSet&) = delete;

  // Takes each replica's lease and lists it, loads the backlog kept by an
  // earlier run, and starts one uploader (and one compaction) thread per
  // replica. A replica that cannot be reached is retried by its thread;
  // Open fails only when a lease is held by another replicator
  // (kFailedPrecondition) or no replica can be listed.
  Status Open();
  // Stops the threads (an upload in progress finishes) and releases the
  // leases. The backlog stays on disk for the next run. Idempotent.
  void Close();

  // Hands a complete LTX file (built, and fsync'd or not, by the caller) to
  // every replica: moves it into the backlog (durably), then waits until
  // each replica that is healthy and caught up has uploaded it (or
  // failed). Replicas that are behind upload it later from the backlog.
  // Ok once the file is durably in the backlog.
  Status ShipFile(const storage::FileInfo& info, const std::string& path);

  // True when a replica needs a full image of the database that no other
  // replica can give (all were behind the backlog): the Replicator's next
  // sync then writes a snapshot.
  bool WantsImage();
  // Called (from a replica's thread, no lock held) while WantsImage is
  // true, to have the database synced even when it is idle.
  void SetWake(std::function<void()> wake);

  std::vector<ReplicaLaneStatus> LaneStatuses() const;
  size_t size() const { return lanes_.size(); }

  // storage::ReplicaClient: reads see the replica with the newest TXID plus
  // the backlog; WriteFile copies data into the backlog and ships it.
  std::string Type() const override { return "set"; }
  std::string Describe() const override;
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid,
                                                 int64_t offset = 0,
                                                 int64_t length = -1) override;
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override;
  // Deleting through the set is refused: each replica's own compaction and
  // retention delete its files.
  base::Status DeleteFiles(
      const std::vector<storage::FileInfo>& files) override;
  base::Status DeleteAll() override;

 private:
  struct Entry {
    storage::FileInfo info;
    std::string path;  // in the backlog directory
  };
  struct Lane;
  void UploadLoop(Lane& lane);
  void CompactLoop(Lane& lane);
  // Under mu_: the next file the lane should upload, or nullptr (then
  // *gap says whether it is behind the backlog).
  const Entry* NextForLocked(const Lane& lane, bool* gap) const;
  // Builds a full image for a lane that is behind the backlog from another
  // replica that holds a newer state, and uploads it. NotFound when no
  // replica can give one.
  Status CatchUpFromPeer(Lane& lane);
  // Under mu_: drops backlog files every replica holds, then the oldest
  // past the bounds.
  void TrimLocked();
  bool LaneCurrentLocked(const Lane& lane, const storage::FileInfo& f) const;
  void PublishLocked();
  Status LoadBacklog();
  std::string BacklogPath(const storage::FileInfo& f) const;
  Lane* LeadLocked() const;  // the lane with the newest TXID

  ReplicaSetOptions options_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::string backlog_dir_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // lanes wait for work
  std::condition_variable done_cv_;  // ShipFile waits for uploads
  std::deque<Entry> backlog_;        // by max TXID
  int64_t backlog_bytes_ = 0;
  bool stopping_ = false;
  bool open_ = false;
  std::atomic<bool> image_wanted_{false};
  uint64_t tmp_seq_ = 0;
  std::string published_;
  std::function<void()> wake_;  // replicas.json as last written
};

}  // namespace litekeep::replicate
