// The core replication loop for one database: holds a long-lived read
// transaction, turns newly committed WAL frames into one L0 LTX file per
// sync, writes a snapshot when continuity with the replica cannot be proven,
// and runs litekeep's own checkpoints only after the frames they copy back
// are replicated. docs/architecture.md ("Replication: the core loop")
// explains why this never ships a partial transaction and never leaves a
// silent gap.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "ltx/format.h"
#include "replicate/lease.h"
#include "replicate/lineage.h"
#include "replicate/position.h"
#include "replicate/state_lock.h"
#include "sqlite/connection.h"
#include "sqlite/wal.h"
#include "storage/replica_client.h"

namespace litekeep::replicate {

struct ReplicatorOptions {
  std::string db_path;   // the database to replicate
  std::string meta_dir;  // local state; empty: .<db>-litekeep beside it
  std::chrono::milliseconds busy_timeout{1000};
  int64_t min_checkpoint_page_count = 1000;
  int64_t truncate_page_n = 121359;
  std::chrono::milliseconds checkpoint_interval{std::chrono::minutes(1)};
  // litekeep's PASSIVE checkpoints (each takes the write lock for a moment)
  // run at most this often, however often it syncs (wake-on-change, fast
  // follow); the TRUNCATE bound is not limited (docs/architecture.md,
  // "Checkpoints").
  std::chrono::milliseconds min_checkpoint_spacing{std::chrono::seconds(1)};
  // `max-sync-wal-bytes` (docs/config.md): one L0 file holds the
  // transactions of at most about this many WAL bytes (at least one whole
  // transaction); a sync writes several when more is new. 0: no bound.
  int64_t max_sync_wal_bytes = 0;
  // Lineage guard (docs/architecture.md): start a new history when the
  // database does not descend from the replica's newest state, instead of
  // refusing it.
  bool new_history = false;
  // `auto-recover` (docs/config.md): damaged local state is dropped (the
  // next sync writes a snapshot) when true; Open refuses it when false.
  bool auto_recover = true;
  // Checksum of a replica state computed by restoring it (optional; without
  // it only newest files that carry a post-apply checksum can prove that the
  // database is byte-for-byte the replica's state).
  ReplicaStateChecksum replica_state_checksum;
  // How the LTX files it writes store their pages (docs/config.md,
  // `page-encoding`).
  ltx::PageEncoding page_encoding = ltx::PageEncoding::kBlock;
  // The replica lease (docs/architecture.md, "Replica lease"): taken by
  // Open before the replica is read or written, renewed in the background,
  // checked before every sync, released by Close. Null: no lease. Writes
  // are fenced by a LeasedReplica around the replica given to the
  // constructor.
  std::shared_ptr<Lease> lease;
  // Several replicas (replicate/replica_set.h; docs/architecture.md,
  // "Several replicas"). open_replica: called by Open after the local lock,
  // before the replica is read (takes the replicas' leases). ship_file:
  // takes each finished LTX file (it moves it away) instead of the
  // replica's WriteFile. wants_image: while true, a sync writes a snapshot.
  std::function<Status()> open_replica;
  std::function<Status(const storage::FileInfo&, const std::string&)> ship_file;
  std::function<bool()> wants_image;
  // Tests only (fault injection; empty otherwise): Checkpoint calls
  // before_checkpoint_lock just before it takes the write lock, and
  // after_checkpoint_unlock just after it releases it, before the tail it
  // captured under the lock is encoded (docs/architecture.md, "Checkpoints").
  std::function<void()> before_checkpoint_lock;
  std::function<void()> after_checkpoint_unlock;
};

// What one Sync wrote.
struct SyncResult {
  TxId txid = 0;          // TXID written, 0 when nothing was new
  bool snapshot = false;  // a full image (continuity was lost or first sync)
  uint64_t pages = 0;
  uint64_t bytes = 0;  // LTX bytes uploaded
  std::string reason;  // why a snapshot was written
  uint64_t files = 0;  // L0 files written (more than one: max-sync-wal-bytes)
};

// The hidden local state directory for a database: "<dir>/.<name>-litekeep".
std::string DefaultMetaDir(const std::string& db_path);

class Replicator {
 public:
  Replicator(ReplicatorOptions options,
             std::shared_ptr<storage::ReplicaClient> replica);
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Takes the local lock, opens the database (switching it to WAL mode if
  // needed), starts the read transaction, loads the local position and
  // applies the lineage guard: kFailedPrecondition, uploading nothing, when
  // the database does not descend from the replica's newest state (unless
  // new_history) or another process replicates it. Errors name the database
  // and what to do.
  Status Open();

  // Ships every transaction committed since the last sync as one L0 file,
  // or a snapshot when continuity with the replica cannot be proven.
  // Returns only after the file is durable in the replica and the local
  // position is saved.
  Result<SyncResult> Sync();

  // Runs the checkpoint policy: a checkpoint when the WAL grew by
  // min_checkpoint_page_count or checkpoint_interval passed, at once past
  // truncate_page_n. Checkpoints only frames already replicated.
  Status MaybeCheckpoint();
  // Syncs everything under the database's write lock, then checkpoints
  // (the application's next commit restarts the WAL without costing a
  // snapshot), shrinking a WAL file larger than truncate_page_n pages
  // (ShrinkWal; docs/architecture.md, "Checkpoints").
  Status Checkpoint();

  void Close();

  // Checkpoints that released the write lock before the disk had finished
  // a flush the WAL's restart needs, and so left the restart to a later
  // checkpoint (docs/architecture.md, "Checkpoints").
  uint64_t restarts_put_off() const { return restarts_put_off_.load(); }

  // Idle databases (docs/architecture.md, "Idle databases"): when every
  // committed frame is replicated and the WAL is fully checkpointed, ends
  // the read transaction and closes every SQLite connection and file but
  // the state lock, remembering the database file's identity and change
  // time. Returns false (doing nothing) when the database is not in that
  // state yet or changed too recently to rely on its change time; the
  // caller tries again later. May run a PASSIVE checkpoint of frames
  // already replicated.
  Result<bool> Suspend();
  bool suspended() const { return suspended_; }
  // Reopens a suspended replicator and begins the read transaction. If the
  // database file was not written since Suspend, the next sync accepts any
  // new WAL generation from its first frame (no checkpoint copied a frame
  // litekeep had not seen, so no restart could have dropped one); otherwise
  // the usual rules apply (a restart costs a snapshot, never a gap).
  Status Resume();

  // Why this database is not being replicated ("lineage", "db_replaced",
  // "db_deleted", "locked", "lease"); empty while it is. Safe from any thread.
  std::string blocked() const;

  // True while the read transaction may sit on WAL read-mark slot 0 (it
  // began when every WAL frame was already checkpointed, e.g. right after
  // litekeep's own checkpoint or on a new database). Such a reader blocks
  // every checkpoint of the application, which then rescans the whole WAL on
  // each commit; the runner should sync at the next WAL write instead of
  // waiting for sync-interval (docs/architecture.md, "Checkpoints").
  bool wants_fast_follow() const { return maybe_slot0_; }

  // A cheap look at SQLite's WAL index (a pread, no lock): true when it
  // shows a commit the last sync did not replicate (another WAL generation,
  // another last frame) or cannot be read consistently; false when it shows
  // none (same generation and last frame, an empty WAL, or no WAL index at
  // all). Call between syncs of an open database, from the thread that
  // syncs it.
  bool MaybeHasNewFrames();

  const std::string& db_path() const { return options_.db_path; }
  const std::string& meta_dir() const { return options_.meta_dir; }
  // Last TXID durably in the replica (0 before the first sync).
  TxId replicated_txid() const { return pos_ ? pos_->txid : replica_max_; }
  std::optional<Position> position() const { return pos_; }
  storage::ReplicaClient& replica() { return *replica_; }

  // Checkpoints run so far by mode; safe from any thread (for metrics).
  // Checkpoints run by litekeep, per mode: completed, failed, and the time
  // spent in them (both).
  struct CheckpointCounts {
    uint64_t passive = 0;
    uint64_t truncate = 0;
    uint64_t passive_errors = 0;
    uint64_t truncate_errors = 0;
    double passive_seconds = 0;
    double truncate_seconds = 0;
  };
  // Times Open dropped damaged local state (auto-recover).
  uint64_t auto_recoveries() const { return auto_recoveries_.load(); }
  CheckpointCounts checkpoint_counts() const {
    return {passive_checkpoints_.load(),
            truncate_checkpoints_.load(),
            passive_checkpoint_errors_.load(),
            truncate_checkpoint_errors_.load(),
            static_cast<double>(passive_checkpoint_us_.load()) / 1e6,
            static_cast<double>(truncate_checkpoint_us_.load()) / 1e6};
  }

 private:
  struct WalState;
  // Whether the caller already holds the database's write lock (W's
  // BEGIN IMMEDIATE): only litekeep's own checkpoint does.
  enum class WriteLock { kNotHeld, kHeld };
  // One sync (see Sync()); with kHeld it runs inside the caller's write lock.
  Result<SyncResult> DoSync(WriteLock lock);
  Result<SyncResult> WriteSnapshot(const std::string& reason,
                                   bool have_write_lock);
  Result<SyncResult> WriteIncremental(const sqlite::WalHeader& header,
                                      const sqlite::WalScan& scan,
                                      const base::File& wal);
  // An L0 file built locally whose upload is still due: the tail captured
  // under the write lock by Checkpoint, uploaded after the lock is released.
  struct PendingFile {
    ltx::Header header;
    std::string tmp_path;
    uint64_t pages = 0;
    Position next;  // the position once it is in the replica
  };
  // Encodes the committed frames in scan as the next TXID's L0 file in the
  // local state directory (no upload), reading each page's newest version
  // from wal.
  Result<PendingFile> EncodeIncremental(const sqlite::WalHeader& header,
                                        const sqlite::WalScan& scan,
                                        const base::File& wal, bool sync);
  // The same from memory, touching neither the WAL nor the database file:
  // page_bytes holds the newest version of each page of scan.pages, in its
  // order, page_size bytes each (the tail Checkpoint copies under the write
  // lock and encodes after releasing it).
  Result<PendingFile> EncodeIncremental(const sqlite::WalHeader& header,
                                        const sqlite::WalScan& scan,
                                        std::span<const uint8_t> page_bytes,
                                        bool sync);
  // What both EncodeIncremental forms share: page(pgno, index) gives the
  // page of scan.pages at that index of its order.
  using PageSource =
      std::function<Result<std::span<const uint8_t>>(Pgno, size_t index)>;
  Result<PendingFile> EncodeL0(const sqlite::WalHeader& header,
                               const sqlite::WalScan& scan, bool sync,
                               const PageSource& page);
  // The position reached once scan (of the generation header describes) is
  // the next TXID after pos_.
  Position NextPosition(const sqlite::WalHeader& header,
                        const sqlite::WalScan& scan) const;
  // Uploads pending_ and saves its position; on failure pending_ stays for
  // the next sync to retry.
  Result<SyncResult> FinishPending();
  // keep_tmp: leave tmp_path on failure (the caller retries it).
  Result<SyncResult> Upload(const ltx::Header& header,
                            const std::string& tmp_path, uint64_t pages,
                            bool keep_tmp = false);
  Status CommitPosition(const Position& pos);
  Status BeginRead();
  Status EndRead();
  // Begins a read transaction on c and sets maybe_slot0_ from the WAL index
  // read around it (see wants_fast_follow()).
  Status BeginReadTracked(sqlite::Connection& c);
  // Begins a read transaction at the end of the WAL on the other reader
  // connection, then ends the current one (R is never released between).
  Status MoveReadToEnd();
  // Moves the read transaction to the other reader connection, then marks
  // read_began_at_ when no commit followed the replicated position.
  Status HandOffRead(const sqlite::WalHeader& header, const base::File& wal);
  // HandOffRead when frames were shipped past the read mark (all of them
  // when `force`, else only once kReadHandOffSpacing has passed since the
  // mark last moved).
  Status MoveReadIfBehind(bool force);
  // HandOffRead, then a PASSIVE checkpoint on the locker connection, with
  // SQLite's checkpointer lock held for this process from before the read
  // mark moves: the application cannot checkpoint what the move released, so
  // its next commit does not copy and fsync that back inside the commit
  // (docs/architecture.md, "Checkpoints"). Returns the hand-off's status;
  // the checkpoint is best effort.
  Status HandOffAndCheckpoint(const sqlite::WalHeader& header,
                              const base::File& wal);
  // Takes SQLite's checkpointer lock for this process (waiting up to 2 ms
  // for another process's checkpoint), so that the application cannot
  // checkpoint until our next checkpoint ends or ReleaseAppCheckpoints.
  // Best effort: without a writable "-shm" or within the wait, nothing.
  void HoldAppCheckpoints();
  void ReleaseAppCheckpoints();
  // Opens shm_ if it is not open: for reading and writing when allowed (to
  // take the checkpointer lock), else read-only. False when there is none.
  bool OpenShm();
  // Under the write lock: truncates "<db>-wal" to truncate_page_n pages, or
  // to committed_end (the end of its last commit) if that is larger, when
  // the file is larger than both.
  void ShrinkWal(int64_t committed_end);
  Status LockWrites();
  void UnlockWrites();
  Result<std::optional<base::File>> OpenWal() const;
  // The lineage decision of Open (docs/architecture.md, "Lineage guard").
  Status CheckLineage(const ReplicaTip& tip);
  // Opens both readers, the locker and db_file_ (switching the database to
  // WAL mode if needed).
  Status OpenConnections();
  // Errors (and sets blocked) when the database path no longer names the
  // file opened by Open: replaced or deleted while replicating.
  Status CheckSameFile();
  void SetBlocked(const std::string& reason);
  // Ok when there is no lease or it is held and valid; otherwise sets
  // blocked "lease" and says why (docs/architecture.md, "Replica lease").
  Status CheckLease();

  ReplicatorOptions options_;
  std::shared_ptr<storage::ReplicaClient> replica_;
  StateLock lock_;         // held from Open to Close
  FileIdentity identity_;  // the database file Open opened
  mutable std::mutex blocked_mu_;
  std::string blocked_;
  // The read transaction lives on readers_[active_]; after each sync it is
  // handed to the other connection (begin there first, then end here), so
  // the application's checkpoints can follow what was replicated and the
  // read transaction never sits on a stale snapshot.
  sqlite::Connection readers_[2];
  int active_ = 0;
  sqlite::Connection& reader() { return readers_[active_]; }
  // See wants_fast_follow(). Conservative: true whenever slot 0 cannot be
  // ruled out.
  bool maybe_slot0_ = true;
  // "<db>-shm", opened on first use and closed only after every connection
  // (closing it would drop SQLite's POSIX locks of this process).
  base::File shm_;
  bool shm_writable_ = false;
  // HoldAppCheckpoints took the lock (it may since have ended with one of
  // our checkpoints; releasing again is harmless).
  bool app_checkpoints_held_ = false;
  std::optional<PendingFile> pending_;
  sqlite::Connection locker_;  // takes the write lock (BEGIN IMMEDIATE)
  bool write_locked_ = false;  // locker_ holds it now
  bool more_ = false;          // the last DoSync stopped at max_sync_wal_bytes
  base::File db_file_;
  bool in_read_ = false;
  std::optional<Position> pos_;  // nullopt: next sync writes a snapshot
  // The position at which reader_'s current read transaction began while
  // the WAL ended exactly there; a WAL restart is lossless only then.
  std::optional<Position> read_began_at_;
  // When the read transaction last began at the end of the WAL, and the
  // frames shipped since: the read mark is moved at most every
  // kReadHandOffSpacing (docs/architecture.md, "Checkpoints").
  std::chrono::steady_clock::time_point read_moved_at_;
  int64_t frames_past_read_ = 0;
  TxId replica_max_ = 0;
  int64_t last_checkpoint_offset_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
  // Suspend/Resume state: the database file as Suspend left it, and whether
  // Resume found it unchanged (valid until the read transaction ends).
  struct FileStamp {
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static Result<FileStamp> StampOf(int fd);
  bool suspended_ = false;
  FileStamp idle_stamp_;
  bool idle_proof_ = false;
  // The WAL generation Resume found (nullopt: no WAL frames then).
  std::optional<std::pair<uint32_t, uint32_t>> resume_salts_;
  // Closes every SQLite connection and file Open opened (not the lock).
  void CloseConnections();
  std::atomic<uint64_t> auto_recoveries_{0};
  std::atomic<uint64_t> passive_checkpoints_{0};
  std::atomic<uint64_t> truncate_checkpoints_{0};
  std::atomic<uint64_t> passive_checkpoint_errors_{0};
  std::atomic<uint64_t> truncate_checkpoint_errors_{0};
  std::atomic<uint64_t> passive_checkpoint_us_{0};  // microseconds
  std::atomic<uint64_t> truncate_checkpoint_us_{0};
  // Whether the WAL our position is in has reached truncate_page_n frames.
  bool PastTruncateBound() const;
  // Checkpoints that released the write lock before a slow flush ended,
  // leaving the WAL's restart to a later checkpoint (see
  // restarts_put_off()).
  std::atomic<uint64_t> restarts_put_off_{0};
  // Checkpoints since the last one that let the WAL restart.
  int put_offs_in_a_row_ = 0;
};

}  // namespace litekeep::replicate
