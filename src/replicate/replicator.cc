// Replicator: WAL tailing, L0 files, snapshots and checkpoints.
#include "replicate/replicator.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <future>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "ltx/file_name.h"
#include "ltx/l0_builder.h"
#include "replicate/levels.h"
#include "sqlite/db_header.h"
#include "sqlite/db_image.h"
#include "sqlite/shm_lock.h"

namespace litekeep::replicate {
namespace {

// SQLite's default wal_autocheckpoint: past this many WAL frames every
// commit of the application attempts a checkpoint.
constexpr int64_t kSqliteAutocheckpointFrames = 1000;
// Each move of the read mark lets the application's next commit checkpoint
// (and fsync) what the mark moved over: with wake-on-change a sync runs every
// few milliseconds, so the mark moves no more often than this.
constexpr auto kReadHandOffSpacing = std::chrono::milliseconds(750);

// A PASSIVE checkpoint that, while another connection (the application's
// automatic checkpoint) holds SQLite's checkpoint lock, tries again every
// 100 µs for up to `budget`. PASSIVE reports SQLITE_BUSY only for that lock:
// giving up at once would leave the frames to the next attempt and the WAL
// unable to restart.
Result<sqlite::CheckpointResult> PassiveCheckpoint(
    sqlite::Connection& c, std::chrono::microseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    auto r = c.Checkpoint(sqlite::CheckpointMode::kPassive);
    if (!r.ok() || !r->busy || std::chrono::steady_clock::now() >= deadline) {
      return r;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// fdatasync(fd): 0, or the errno it failed with (safe to run on another
// thread: the result does not travel through errno).
int FlushFile(int fd) { return ::fdatasync(fd) == 0 ? 0 : errno; }

// A PASSIVE checkpoint (as PassiveCheckpoint, 10 ms budget) that makes no
// fsync: the caller makes the WAL durable before it and the database after
// it, before anything may restart the WAL.
Result<sqlite::CheckpointResult> UnsyncedCheckpoint(sqlite::Connection& c) {
  LK_ASSIGN_OR_RETURN(std::string level, c.QueryText("PRAGMA synchronous"));
  LK_RETURN_IF_ERROR(c.Exec("PRAGMA synchronous=OFF"));
  auto r = PassiveCheckpoint(c, std::chrono::milliseconds(10));
  Status restored = c.Exec("PRAGMA synchronous=" + level);
  if (r.ok() && !restored.ok()) return restored;
  return r;
}

// Microseconds since `start` on the steady clock.
uint64_t ElapsedMicros(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start)
          .count());
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             Clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string DefaultMetaDir(const std::string& db_path) {
  return base::DirName(db_path) + "/." + base::BaseName(db_path) + "-litekeep";
}

Replicator::Replicator(ReplicatorOptions options,
                       std::shared_ptr<storage::ReplicaClient> replica)
    : options_(std::move(options)), replica_(std::move(replica)) {
  if (options_.meta_dir.empty()) {
    options_.meta_dir = DefaultMetaDir(options_.db_path);
  }
}

Replicator::~Replicator() { Close(); }

void Replicator::CloseConnections() {
  ReleaseAppCheckpoints();
  if (in_read_) EndRead().IgnoreError();
  readers_[0].Close();
  readers_[1].Close();
  active_ = 0;
  locker_.Close();
  db_file_.Close().IgnoreError();
  shm_.Close().IgnoreError();
}

void Replicator::Close() {
  CloseConnections();
  suspended_ = false;
  if (options_.lease) {
    Status s = options_.lease->Release();
    if (!s.ok()) spdlog::warn("{}: {}", options_.db_path, s.message());
  }
  lock_.Release();
}

std::string Replicator::blocked() const {
  std::lock_guard<std::mutex> lock(blocked_mu_);
  return blocked_;
}

void Replicator::SetBlocked(const std::string& reason) {
  std::lock_guard<std::mutex> lock(blocked_mu_);
  blocked_ = reason;
}

Status Replicator::OpenConnections() {
  const std::string& db = options_.db_path;
  LK_ASSIGN_OR_RETURN(readers_[0],
                      sqlite::Connection::Open(db, options_.busy_timeout));
  LK_ASSIGN_OR_RETURN(std::string mode,
                      readers_[0].QueryText("PRAGMA journal_mode"));
  if (mode != "wal") {
    spdlog::info("{}: database is in {} journal mode; switching it to WAL", db,
                 mode);
    auto switched = readers_[0].QueryText("PRAGMA journal_mode=wal");
    if (!switched.ok() || *switched != "wal") {
      return base::FailedPreconditionError(
          "database " + db + " is in " + mode +
          " journal mode and could not be switched to WAL (" +
          (switched.ok() ? "SQLite kept " + *switched
                         : switched.status().message()) +
          "); stop the application, run `sqlite3 " + db +
          " 'PRAGMA journal_mode=wal'`, and start again");
    }
  }
  LK_ASSIGN_OR_RETURN(readers_[1],
                      sqlite::Connection::Open(db, options_.busy_timeout));
  LK_ASSIGN_OR_RETURN(locker_,
                      sqlite::Connection::Open(db, options_.busy_timeout));
  locker_.SetPollingBusyHandler(options_.busy_timeout);
  // A connection opens the WAL at its first read; until then SQLite makes
  // its checkpoints no-ops (log and checkpointed frames -1).
  LK_RETURN_IF_ERROR(locker_.QueryText("PRAGMA schema_version").status());
  LK_ASSIGN_OR_RETURN(db_file_, base::File::Open(db, O_RDONLY));
  return Status::Ok();
}

Status Replicator::Open() {
  const std::string& db = options_.db_path;
  struct stat st;
  if (::stat(db.c_str(), &st) != 0) {
    return base::NotFoundError(
        "database " + db +
        " does not exist (check the path; litekeep replicates an existing "
        "database, start the application first or restore it with "
        "`litekeep restore`)");
  }
  if (!S_ISREG(st.st_mode)) {
    return base::InvalidArgumentError("database " + db +
                                      " is not a regular file");
  }
  LK_RETURN_IF_ERROR(base::MakeDirs(options_.meta_dir)
                         .WithContext("create local state directory"));
  {
    auto lock = StateLock::Acquire(options_.meta_dir, db);
    if (!lock.ok()) {
      SetBlocked("locked");
      return lock.status();
    }
    lock_ = std::move(lock).value();
  }
  if (options_.lease) {
    // One writer per replica across hosts: before reading or writing it.
    Status s = options_.lease->Acquire();
    if (!s.ok()) {
      if (s.code() == base::Code::kFailedPrecondition) SetBlocked("lease");
      if (s.code() == base::Code::kUnimplemented) {
        return s.WithContext(
            "replica lease (set lease-ttl: 0 to replicate without one)");
      }
      return s;
    }
  }
  if (options_.open_replica) {
    Status s = options_.open_replica();
    if (!s.ok()) {
      if (s.code() == base::Code::kFailedPrecondition) SetBlocked("lease");
      return s;
    }
  }
  LK_RETURN_IF_ERROR(OpenConnections());
  LK_RETURN_IF_ERROR(BeginRead());

  LK_ASSIGN_OR_RETURN(ReplicaTip tip, ReadReplicaTip(*replica_));
  replica_max_ = tip.txid;
  // Where this lease generation's files begin, before any is written
  // (docs/architecture.md, "Fencing").
  if (options_.lease) {
    LK_RETURN_IF_ERROR(options_.lease->RecordStart(tip.txid + 1));
  }
  pos_ = LoadPosition(options_.meta_dir + "/position.json");
  if (!pos_ &&
      ::access((options_.meta_dir + "/position.json").c_str(), F_OK) == 0) {
    if (!options_.auto_recover) {
      return base::FailedPreconditionError(
          db + ": local state " + options_.meta_dir +
          "/position.json is damaged and auto-recover is false; run "
          "`litekeep reset " +
          db + "` (the next sync writes a snapshot) or set auto-recover: true");
    }
    ++auto_recoveries_;
    spdlog::warn(
        "{}: local state {}/position.json is damaged; starting "
        "over (auto-recover): the next sync writes a snapshot",
        db, options_.meta_dir);
  }
  LK_RETURN_IF_ERROR(CheckLineage(tip));
  if (pos_ && pos_->txid != replica_max_) {
    spdlog::warn(
        "{}: local state says TXID {} but the replica {} holds TXID {}; the "
        "next sync writes a snapshot",
        db, ltx::FormatTxId(pos_->txid), replica_->Describe(),
        ltx::FormatTxId(replica_max_));
    pos_.reset();
  }
  read_began_at_.reset();
  last_checkpoint_ = std::chrono::steady_clock::now();
  last_checkpoint_offset_ = pos_ ? pos_->offset : 0;
  return Status::Ok();
}

namespace {

// What litekeep reads of SQLite's WAL index ("<db>-shm"; the file is the
// shared memory SQLite maps, so pread sees its current contents): the first
// copy of the index header and the checkpoint's progress.
struct WalIndexState {
  bool ok = false;
  uint8_t header[48] = {};  // WalIndexHdr: mxFrame at 16, salts at 32
  uint32_t mx_frame = 0;    // last committed frame
  uint32_t n_backfill = 0;  // frames already copied into the database
};

WalIndexState ReadWalIndex(const base::File& shm) {
  WalIndexState st;
  if (!shm.valid()) return st;
  uint8_t buf[100];
  auto n = shm.ReadAt(buf, sizeof(buf), 0);
  // Both header copies equal (a writer is not between them) and initialised.
  if (!n.ok() || *n < sizeof(buf) || std::memcmp(buf, buf + 48, 48) != 0 ||
      buf[12] == 0) {
    return st;
  }
  std::memcpy(st.header, buf, sizeof(st.header));
  std::memcpy(&st.mx_frame, buf + 16, 4);
  std::memcpy(&st.n_backfill, buf + 96, 4);
  st.ok = true;
  return st;
}

}  // namespace

bool Replicator::MaybeHasNewFrames() {
  if (suspended_ || !pos_) return false;
  // No WAL index: no connection has the database open in WAL mode, so
  // nothing was committed to a WAL since the sync looked.
  if (!OpenShm()) return false;
  const WalIndexState index = ReadWalIndex(shm_);
  // Unreadable or being written: a commit may be under way.
  if (!index.ok) return true;
  if (pos_->offset == 0) return index.mx_frame != 0;
  // The index keeps the WAL header's salts as the file has them (big-endian).
  const uint32_t salt1 = base::GetBE32(index.header + 32);
  const uint32_t salt2 = base::GetBE32(index.header + 36);
  const int64_t frame_size = sqlite::kWalFrameHeaderSize + pos_->page_size;
  const int64_t frames =
      (pos_->offset - static_cast<int64_t>(sqlite::kWalHeaderSize)) /
      frame_size;
  if (index.mx_frame == 0) return false;  // restarted, nothing new yet
  return salt1 != pos_->salt1 || salt2 != pos_->salt2 ||
         static_cast<int64_t>(index.mx_frame) != frames;
}

Status Replicator::BeginReadTracked(sqlite::Connection& c) {
  OpenShm();
  const WalIndexState before = ReadWalIndex(shm_);
  LK_RETURN_IF_ERROR(sqlite::BeginPinnedRead(c));
  const WalIndexState after = ReadWalIndex(shm_);
  read_moved_at_ = std::chrono::steady_clock::now();
  frames_past_read_ = 0;
  // SQLite puts a reader on slot 0 only when, as it begins, every WAL frame
  // is checkpointed (nBackfill == mxFrame). If no commit or restart happened
  // around our begin (same index header) and a frame is still not
  // checkpointed, that was not the case; otherwise assume slot 0.
  maybe_slot0_ =
      !(before.ok && after.ok &&
        std::memcmp(before.header, after.header, sizeof(before.header)) == 0 &&
        after.n_backfill < after.mx_frame);
  spdlog::debug(
      "{}: read transaction begun (WAL index: {} frames, {} "
      "checkpointed; may be on slot 0: {})",
      options_.db_path, after.mx_frame, after.n_backfill, maybe_slot0_);
  return Status::Ok();
}

Status Replicator::BeginRead() {
  if (in_read_) return Status::Ok();
  LK_RETURN_IF_ERROR(BeginReadTracked(reader()));
  in_read_ = true;
  return Status::Ok();
}

Status Replicator::EndRead() {
  if (!in_read_) return Status::Ok();
  in_read_ = false;
  idle_proof_ = false;  // it holds only while the read transaction does
  return reader().Exec("ROLLBACK");
}

Status Replicator::MoveReadToEnd() {
  if (!in_read_) return BeginRead();
  sqlite::Connection& next = readers_[1 - active_];
  LK_RETURN_IF_ERROR(BeginReadTracked(next));
  reader().Exec("ROLLBACK").IgnoreError();
  active_ = 1 - active_;
  return Status::Ok();
}

Status Replicator::HandOffRead(const sqlite::WalHeader& header,
                               const base::File& wal) {
  if (!in_read_) return BeginRead();
  LK_RETURN_IF_ERROR(MoveReadToEnd());
  // The new read transaction began exactly at the replicated position if no
  // commit follows that position now, in the same WAL generation.
  auto after = sqlite::ScanWal(wal, header, pos_->offset, pos_->checksum);
  auto h = sqlite::ReadWalHeader(wal);
  if (after.ok() && after->empty() && h.ok() && pos_->SameGeneration(*h)) {
    read_began_at_ = pos_;
  }
  return Status::Ok();
}

Status Replicator::MoveReadIfBehind(bool force) {
  if (frames_past_read_ == 0 || !in_read_ || !pos_) return Status::Ok();
  if (!force &&
      std::chrono::steady_clock::now() - read_moved_at_ < kReadHandOffSpacing) {
    return Status::Ok();
  }
  LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
  if (!wal) return Status::Ok();
  LK_ASSIGN_OR_RETURN(auto header, sqlite::ReadWalHeader(*wal));
  if (frames_past_read_ >= kSqliteAutocheckpointFrames && !write_locked_) {
    return HandOffAndCheckpoint(header, *wal);
  }
  return HandOffRead(header, *wal);
}

bool Replicator::OpenShm() {
  if (shm_.valid()) return true;
  const std::string path = options_.db_path + "-shm";
  auto f = base::File::Open(path, O_RDWR);
  shm_writable_ = f.ok();
  if (!f.ok()) f = base::File::Open(path, O_RDONLY);
  if (!f.ok()) return false;
  shm_ = std::move(f).value();
  return true;
}

Status Replicator::HandOffAndCheckpoint(const sqlite::WalHeader& header,
                                        const base::File& wal) {
  HoldAppCheckpoints();
  Status s = HandOffRead(header, wal);
  if (s.ok()) {
    // Takes the lock this process holds as its own and releases it.
    auto cp = locker_.Checkpoint(sqlite::CheckpointMode::kPassive);
    if (!cp.ok()) {
      spdlog::debug("{}: checkpoint after the hand-off: {}", options_.db_path,
                    cp.status().message());
    }
  }
  ReleaseAppCheckpoints();
  return s;
}

void Replicator::HoldAppCheckpoints() {
  if (!OpenShm() || !shm_writable_) return;
  // The application's automatic checkpoint, when it has nothing to copy,
  // holds the lock for microseconds; one that is copying is not waited for.
  auto h = sqlite::HoldCheckpointerLock(shm_, std::chrono::milliseconds(2));
  if (h.ok() && *h) app_checkpoints_held_ = true;
}

void Replicator::ReleaseAppCheckpoints() {
  // Called only between our checkpoints (one thread uses our connections).
  if (app_checkpoints_held_) sqlite::DropCheckpointerLock(shm_);
  app_checkpoints_held_ = false;
}

Result<Replicator::FileStamp> Replicator::StampOf(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return base::IoError(std::string("fstat: ") + std::strerror(errno));
  }
  FileStamp s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  s.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
  return s;
}

Result<bool> Replicator::Suspend() {
  if (suspended_) return true;
  if (!pos_ || pending_ || !in_read_ || write_locked_) return false;
  ReleaseAppCheckpoints();
  LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
  std::optional<sqlite::WalHeader> header;
  if (wal) {
    auto h = sqlite::ReadWalHeader(*wal);
    if (h.ok()) {
      header = *h;
    } else if (h.status().code() != base::Code::kNotFound) {
      return h.status();
    }
  }
  if (header) {
    // Every committed frame replicated, in the generation we follow.
    if (!pos_->SameGeneration(*header)) return false;
    LK_ASSIGN_OR_RETURN(auto scan, sqlite::ScanWal(*wal, *header, pos_->offset,
                                                   pos_->checksum));
    if (!scan.empty()) return false;
    // Our read transaction must sit at the replicated end (below).
    if (frames_past_read_ > 0) LK_RETURN_IF_ERROR(HandOffRead(*header, *wal));
    // ... and copied back into the database file, so that no later
    // checkpoint writes to it unless it copies a frame written after now.
    const int64_t frame_size = sqlite::kWalFrameHeaderSize + header->page_size;
    const auto frames = static_cast<uint32_t>(
        (pos_->offset - static_cast<int64_t>(sqlite::kWalHeaderSize)) /
        frame_size);
    OpenShm();
    WalIndexState index = ReadWalIndex(shm_);
    if (!index.ok || index.mx_frame != frames) return false;
    if (index.n_backfill < index.mx_frame) {
      // Our read transaction sits at the replicated end: this copies back
      // only replicated frames.
      auto cp = locker_.Checkpoint(sqlite::CheckpointMode::kPassive);
      index = ReadWalIndex(shm_);
      if (!cp.ok() || !index.ok || index.n_backfill < frames) {
        spdlog::debug(
            "{}: not idle yet: checkpoint copied {} of {} frames ({})",
            options_.db_path, index.n_backfill, frames,
            cp.ok() ? (cp->busy ? "busy" : "ok") : cp.status().message());
        return false;
      }
    }
  } else if (pos_->offset != 0) {
    return false;  // the sync path decides what a missing WAL means
  }
  // The change time must be old enough that any later write gives the file
  // a different one, whatever the file system's timestamp granularity.
  LK_ASSIGN_OR_RETURN(FileStamp stamp, StampOf(db_file_.fd()));
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  constexpr int64_t kStampMarginNs = 2'000'000'000;
  if (now_ns - stamp.ctime_ns < kStampMarginNs ||
      now_ns - stamp.mtime_ns < kStampMarginNs) {
    return false;
  }
  idle_stamp_ = stamp;
  CloseConnections();
  read_began_at_.reset();
  maybe_slot0_ = true;
  suspended_ = true;
  spdlog::debug("{}: idle: read transaction ended, connections closed",
                options_.db_path);
  return true;
}

Status Replicator::Resume() {
  if (!suspended_) return Status::Ok();
  Status s = [&]() -> Status {
    LK_RETURN_IF_ERROR(CheckSameFile());
    LK_RETURN_IF_ERROR(OpenConnections());
    LK_RETURN_IF_ERROR(BeginRead());
    // Under the read transaction: no restart can drop a frame from now on,
    // so what the WAL and the database file show now decides.
    LK_ASSIGN_OR_RETURN(FileStamp stamp, StampOf(db_file_.fd()));
    resume_salts_.reset();
    LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
    if (wal) {
      auto h = sqlite::ReadWalHeader(*wal);
      if (h.ok()) {
        resume_salts_ = std::make_pair(h->salt1, h->salt2);
      } else if (h.status().code() != base::Code::kNotFound) {
        return h.status();
      }
    }
    idle_proof_ = stamp == idle_stamp_;
    return Status::Ok();
  }();
  if (!s.ok()) {
    CloseConnections();
    return s;
  }
  suspended_ = false;
  last_checkpoint_ = std::chrono::steady_clock::now();
  spdlog::debug("{}: resumed (database file {} since idle)", options_.db_path,
                idle_proof_ ? "unchanged" : "changed");
  return Status::Ok();
}

Status Replicator::LockWrites() {
  Status s = locker_.Exec("BEGIN IMMEDIATE");
  if (!s.ok()) {
    return base::UnavailableError(
        "could not take the write lock on " + options_.db_path +
        " within busy-timeout (the application holds a long write "
        "transaction): " +
        s.message());
  }
  write_locked_ = true;
  return Status::Ok();
}

void Replicator::UnlockWrites() {
  locker_.Exec("ROLLBACK").IgnoreError();
  write_locked_ = false;
}

Result<std::optional<base::File>> Replicator::OpenWal() const {
  auto f = base::File::Open(options_.db_path + "-wal", O_RDONLY);
  if (!f.ok()) {
    if (f.status().code() == base::Code::kNotFound) {
      return std::optional<base::File>();
    }
    return f.status();
  }
  return std::optional<base::File>(std::move(f).value());
}

Status Replicator::CheckLease() {
  if (!options_.lease) return Status::Ok();
  // Every upload is also fenced by LeasedReplica; this makes a lost or
  // expired lease visible (blocked, /healthz) before any work.
  Status s = options_.lease->Revalidate();
  if (!s.ok()) {
    SetBlocked("lease");
    return s;
  }
  if (blocked() == "lease") SetBlocked("");
  return Status::Ok();
}

Result<SyncResult> Replicator::Sync() {
  LK_RETURN_IF_ERROR(CheckLease());
  // A tail captured by Checkpoint whose upload failed goes first.
  if (pending_) LK_RETURN_IF_ERROR(FinishPending().status());
  if (maybe_slot0_ && in_read_ && pos_) {
    // The read transaction may sit on slot 0 and block every checkpoint of
    // the application: move it to a later read mark before shipping (a
    // hand-off keeps some read transaction held at every instant, so what
    // it protects stays protected; docs/architecture.md).
    auto wal = OpenWal();
    if (wal.ok() && wal->has_value()) {
      auto h = sqlite::ReadWalHeader(**wal);
      if (h.ok()) {
        HoldAppCheckpoints();  // see Checkpoint
        Status s = HandOffRead(*h, **wal);
        if (!s.ok()) {
          spdlog::debug("{}: could not move the read transaction: {}",
                        options_.db_path, s.message());
        }
      }
    }
  }
  if (options_.wants_image && pos_ && options_.wants_image()) {
    LK_RETURN_IF_ERROR(CheckSameFile());
    return WriteSnapshot("a replica needs a full image to catch up",
                         /*have_write_lock=*/false);
  }
  // With max-sync-wal-bytes, one DoSync ships a bounded part of the new
  // frames: go on until it has shipped them all.
  SyncResult total;
  for (;;) {
    more_ = false;
    LK_ASSIGN_OR_RETURN(SyncResult r, DoSync(WriteLock::kNotHeld));
    if (r.txid != 0) {
      total.txid = r.txid;
      total.snapshot |= r.snapshot;
      if (!r.reason.empty()) total.reason = r.reason;
      total.pages += r.pages;
      total.bytes += r.bytes;
      ++total.files;
    }
    if (!more_ || r.txid == 0) return total;
  }
}

Result<SyncResult> Replicator::DoSync(WriteLock lock) {
  const bool have_write_lock = lock == WriteLock::kHeld;
  LK_RETURN_IF_ERROR(CheckSameFile());
  LK_RETURN_IF_ERROR(CheckLease());
  if (!pos_)
    return WriteSnapshot("no replicated position yet", have_write_lock);
  LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
  std::optional<sqlite::WalHeader> header;
  if (wal) {
    auto h = sqlite::ReadWalHeader(*wal);
    if (h.ok()) {
      header = *h;
    } else if (h.status().code() != base::Code::kNotFound) {
      return h.status();
    }
  }
  const bool restart_ok = read_began_at_ && *read_began_at_ == *pos_;
  if (!header) {
    // No WAL frames at all. Only while our read transaction has been held
    // since the replicated position (or since a Resume that found the
    // database file unchanged) do we know the database did not change
    // (e.g. a write, checkpoint and truncation while litekeep was stopped).
    if (restart_ok || idle_proof_) return SyncResult{};
    return WriteSnapshot(pos_->offset == 0
                             ? "the database may have changed while litekeep "
                               "was not running (no WAL to follow)"
                             : "the WAL was truncated by another process",
                         have_write_lock);
  }
  if (header->page_size != pos_->page_size) {
    return WriteSnapshot("the page size changed", have_write_lock);
  }
  // Under the write lock (a checkpoint's capture) everything goes at once.
  const int64_t max_bytes = have_write_lock ? 0 : options_.max_sync_wal_bytes;
  if (pos_->SameGeneration(*header)) {
    LK_ASSIGN_OR_RETURN(auto scan, sqlite::ScanWal(*wal, *header, pos_->offset,
                                                   pos_->checksum, max_bytes));
    if (scan.empty()) {
      // Nothing new: let the application checkpoint what was shipped.
      if (frames_past_read_ > 0 && !have_write_lock) {
        Status moved = MoveReadIfBehind(/*force=*/false);
        if (!moved.ok()) {
          spdlog::warn("{}: could not renew the read transaction: {}",
                       options_.db_path, moved.message());
        }
      }
      return SyncResult{};
    }
    more_ = scan.limited;
    return WriteIncremental(*header, scan, *wal);
  }
  // A new WAL generation. It is lossless only when our read transaction
  // began exactly at the replicated end of the old one, and one restart
  // happened since.
  // SQLite adds 1 to salt1 at every restart (the checkpoint sequence in the
  // header is per connection and cannot be used to count restarts).
  const bool one_restart =
      pos_->offset == 0 || header->salt1 == pos_->salt1 + 1;
  // After a Resume that found the database file unchanged, the generation
  // it found (or, with no WAL then, the first one since) holds only frames
  // written since Suspend (docs/architecture.md, "Idle databases").
  const bool resumed_generation =
      idle_proof_ &&
      (!resume_salts_ ||
       *resume_salts_ == std::make_pair(header->salt1, header->salt2));
  if ((restart_ok && one_restart) || resumed_generation) {
    LK_ASSIGN_OR_RETURN(auto scan,
                        sqlite::ScanWal(*wal, *header, sqlite::kWalHeaderSize,
                                        header->checksum, max_bytes));
    if (scan.empty()) return SyncResult{};
    more_ = scan.limited;
    return WriteIncremental(*header, scan, *wal);
  }
  return WriteSnapshot(
      "the WAL was restarted while litekeep could not follow it (stopped, or a "
      "checkpoint by another process)",
      have_write_lock);
}

Result<SyncResult> Replicator::WriteIncremental(const sqlite::WalHeader& header,
                                                const sqlite::WalScan& scan,
                                                const base::File& wal) {
  LK_ASSIGN_OR_RETURN(PendingFile file,
                      EncodeIncremental(header, scan, wal, /*sync=*/true));
  LK_ASSIGN_OR_RETURN(SyncResult result,
                      Upload(file.header, file.tmp_path, file.pages));
  LK_RETURN_IF_ERROR(CommitPosition(file.next));
  // Past SQLite's default wal_autocheckpoint, the application checkpoints on
  // its next commit, as soon as the hand-off lets it copy back what we
  // shipped: it would fsync the WAL and the copied pages inside that commit.
  // HandOffAndCheckpoint keeps it from starting and runs that checkpoint
  // here instead (it only touches frames already shipped;
  // docs/architecture.md, "Checkpoints").
  const int64_t frame_size = sqlite::kWalFrameHeaderSize + header.page_size;
  frames_past_read_ += (scan.end_offset - scan.start_offset) / frame_size;
  // The read mark moves at most every kReadHandOffSpacing: each move lets
  // the application's next commit checkpoint what it moved over, and with a
  // sync every few milliseconds (wake-on-change) that was a small
  // checkpoint with two fsyncs in one commit of every few.
  if (in_read_ &&
      std::chrono::steady_clock::now() - read_moved_at_ < kReadHandOffSpacing) {
    return result;
  }
  // Only past that size: below it the application does not checkpoint.
  const bool app_checkpoints = frames_past_read_ >= kSqliteAutocheckpointFrames;
  Status handoff = app_checkpoints && !write_locked_
                       ? HandOffAndCheckpoint(header, wal)
                       : HandOffRead(header, wal);
  if (!handoff.ok()) {
    spdlog::warn("{}: could not renew the read transaction: {}",
                 options_.db_path, handoff.message());
  }
  return result;
}

Result<SyncResult> Replicator::FinishPending() {
  LK_ASSIGN_OR_RETURN(
      SyncResult result,
      Upload(pending_->header, pending_->tmp_path, pending_->pages,
             /*keep_tmp=*/true));
  LK_RETURN_IF_ERROR(CommitPosition(pending_->next));
  pending_.reset();
  return result;
}

Result<Replicator::PendingFile> Replicator::EncodeIncremental(
    const sqlite::WalHeader& header, const sqlite::WalScan& scan,
    const base::File& wal, bool sync) {
  sqlite::ImagePageReader pages(db_file_, &wal, &header, scan.pages,
                                header.page_size);
  return EncodeL0(header, scan, sync,
                  [&](Pgno pgno, size_t) { return pages.Read(pgno); });
}

Result<Replicator::PendingFile> Replicator::EncodeIncremental(
    const sqlite::WalHeader& header, const sqlite::WalScan& scan,
    std::span<const uint8_t> page_bytes, bool sync) {
  if (page_bytes.size() != scan.pages.size() * header.page_size) {
    return base::InternalError(options_.db_path + ": the copied tail holds " +
                               std::to_string(page_bytes.size()) +
                               " bytes, not " +
                               std::to_string(scan.pages.size()) +
                               " pages of " + std::to_string(header.page_size));
  }
  return EncodeL0(header, scan, sync,
                  [&](Pgno, size_t index) -> Result<std::span<const uint8_t>> {
                    return page_bytes.subspan(index * header.page_size,
                                              header.page_size);
                  });
}

Result<Replicator::PendingFile> Replicator::EncodeL0(
    const sqlite::WalHeader& header, const sqlite::WalScan& scan, bool sync,
    const PageSource& page) {
  const TxId txid = pos_->txid + 1;
  ltx::Header h = ltx::L0Header(txid, header.page_size, scan.commit, NowMs());
  h.node_id = options_.lease ? options_.lease->node_id() : 0;  // the fence
  h.wal_offset = scan.start_offset;
  h.wal_size = scan.end_offset - scan.start_offset;
  h.wal_salt1 = header.salt1;
  h.wal_salt2 = header.salt2;

  std::string tmp =
      options_.meta_dir + "/" + ltx::FormatFileName(txid, txid) + ".tmp";
  {
    LK_ASSIGN_OR_RETURN(base::File out, base::File::CreatePrivate(tmp));
    base::FileWriter writer(&out);
    ltx::L0Builder enc(&writer, options_.page_encoding);
    LK_RETURN_IF_ERROR(enc.Begin(h));
    size_t index = 0;  // of the page in scan.pages
    for (const auto& [pgno, offset] : scan.pages) {
      const size_t at = index++;
      if (pgno == ltx::LockPgno(header.page_size)) continue;
      auto bytes = page(pgno, at);
      if (!bytes.ok()) {
        ::unlink(tmp.c_str());
        return bytes.status();
      }
      LK_RETURN_IF_ERROR(enc.AddPage(pgno, *bytes));
    }
    LK_RETURN_IF_ERROR(enc.Finish());
    if (sync) LK_RETURN_IF_ERROR(out.Sync());
  }
  return PendingFile{h, tmp, scan.pages.size(), NextPosition(header, scan)};
}

Position Replicator::NextPosition(const sqlite::WalHeader& header,
                                  const sqlite::WalScan& scan) const {
  Position next;
  next.txid = pos_->txid + 1;
  next.page_size = header.page_size;
  next.salt1 = header.salt1;
  next.salt2 = header.salt2;
  next.checkpoint_seq = header.checkpoint_seq;
  next.offset = scan.end_offset;
  next.checksum = scan.checksum;
  return next;
}

Result<SyncResult> Replicator::WriteSnapshot(const std::string& reason,
                                             bool have_write_lock) {
  // Under the write lock no frame can be appended: find the end of the
  // committed WAL and restart our read transaction exactly there.
  if (!have_write_lock) LK_RETURN_IF_ERROR(LockWrites());
  struct Unlock {
    Replicator* r;
    bool active;
    ~Unlock() {
      if (active) r->UnlockWrites();
    }
  } unlock{this, !have_write_lock};

  LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
  std::optional<sqlite::WalHeader> header;
  sqlite::WalScan scan;
  if (wal) {
    auto h = sqlite::ReadWalHeader(*wal);
    if (h.ok()) {
      header = *h;
      LK_ASSIGN_OR_RETURN(scan,
                          sqlite::ScanWal(*wal, *header, sqlite::kWalHeaderSize,
                                          header->checksum));
    } else if (h.status().code() != base::Code::kNotFound) {
      return h.status();
    }
  }
  LK_ASSIGN_OR_RETURN(auto db_header, sqlite::ReadDbHeader(db_file_));
  const uint32_t page_size = header ? header->page_size : db_header.page_size;
  uint32_t commit = scan.commit;
  if (commit == 0) {
    LK_ASSIGN_OR_RETURN(int64_t size, db_file_.Size());
    commit = db_header.page_count != 0
                 ? db_header.page_count
                 : static_cast<uint32_t>(size / page_size);
  }
  LK_RETURN_IF_ERROR(EndRead());
  LK_RETURN_IF_ERROR(BeginRead());

  Position next;
  next.txid = std::max(replica_max_, pos_ ? pos_->txid : 0) + 1;
  next.page_size = page_size;
  if (header) {
    next.salt1 = header->salt1;
    next.salt2 = header->salt2;
    next.checkpoint_seq = header->checkpoint_seq;
    next.offset = scan.empty() ? sqlite::kWalHeaderSize : scan.end_offset;
    next.checksum = scan.empty() ? header->checksum : scan.checksum;
  }
  Position began = next;
  unlock.active = false;
  if (!have_write_lock) UnlockWrites();

  // Our read transaction now pins the database image at `next`: pages not in
  // the WAL come from the database file, which no checkpoint may change past
  // our read mark.
  ltx::Header h = ltx::L0Header(next.txid, page_size, commit, NowMs());
  h.node_id = options_.lease ? options_.lease->node_id() : 0;  // the fence
  // A full image is the state at next.txid: it is stored once, as the L9
  // snapshot 1-<txid> (docs/architecture.md, "Levels: one image, changes").
  h.min_txid = 1;
  if (header) {
    h.wal_offset = sqlite::kWalHeaderSize;
    h.wal_size = next.offset - static_cast<int64_t>(sqlite::kWalHeaderSize);
    h.wal_salt1 = header->salt1;
    h.wal_salt2 = header->salt2;
  }
  std::string tmp = options_.meta_dir + "/" +
                    ltx::FormatFileName(next.txid, next.txid) + ".tmp";
  uint64_t pages = 0;
  {
    LK_ASSIGN_OR_RETURN(base::File out, base::File::CreatePrivate(tmp));
    base::FileWriter writer(&out);
    ltx::L0Builder enc(&writer, options_.page_encoding);
    LK_RETURN_IF_ERROR(enc.Begin(h));
    sqlite::ImagePageReader image(db_file_, wal ? &*wal : nullptr,
                                  header ? &*header : nullptr, scan.pages,
                                  page_size);
    const Pgno lock = ltx::LockPgno(page_size);
    for (Pgno pgno = 1; pgno <= commit; ++pgno) {
      if (pgno == lock) continue;
      auto page = image.Read(pgno);
      if (!page.ok()) {
        ::unlink(tmp.c_str());
        return page.status().WithContext("snapshot of " + options_.db_path);
      }
      LK_RETURN_IF_ERROR(enc.AddPage(pgno, *page));
      ++pages;
    }
    LK_RETURN_IF_ERROR(enc.Finish());
    LK_RETURN_IF_ERROR(out.Sync());
  }
  LK_ASSIGN_OR_RETURN(SyncResult result, Upload(h, tmp, pages));
  result.snapshot = true;
  result.reason = reason;
  LK_RETURN_IF_ERROR(CommitPosition(next));
  read_began_at_ = began;
  spdlog::info("{}: snapshot written as TXID {} ({} pages, {} bytes): {}",
               options_.db_path, ltx::FormatTxId(next.txid), pages,
               result.bytes, reason);
  return result;
}

Result<SyncResult> Replicator::Upload(const ltx::Header& header,
                                      const std::string& tmp_path,
                                      uint64_t pages, bool keep_tmp) {
  LK_ASSIGN_OR_RETURN(base::File f, base::File::Open(tmp_path, O_RDONLY));
  LK_ASSIGN_OR_RETURN(int64_t size, f.Size());
  storage::FileInfo info;
  info.level = StoredLevel(header);
  info.min_txid = header.min_txid;
  info.max_txid = header.max_txid;
  info.size = size;
  info.created = TimePoint(std::chrono::milliseconds(header.timestamp_ms));
  Status s;
  if (options_.ship_file) {
    s = options_.ship_file(info, tmp_path);
  } else {
    base::FileReader reader(std::move(f));
    s = replica_->WriteFile(info, reader);
  }
  if (s.ok() || !keep_tmp) ::unlink(tmp_path.c_str());
  if (!s.ok()) {
    return s.WithContext("upload " +
                         ltx::FormatFileName(info.min_txid, info.max_txid) +
                         " to " + replica_->Describe());
  }
  replica_max_ = std::max(replica_max_, header.max_txid);
  SyncResult r;
  r.txid = header.max_txid;
  r.pages = pages;
  r.bytes = static_cast<uint64_t>(size);
  return r;
}

Status Replicator::CommitPosition(const Position& pos) {
  pos_ = pos;
  idle_proof_ = false;  // used up: the position left the idle state
  return SavePosition(options_.meta_dir + "/position.json", pos);
}

bool Replicator::PastTruncateBound() const {
  if (!pos_ || pos_->offset == 0) return false;
  const int64_t frame_size = sqlite::kWalFrameHeaderSize + pos_->page_size;
  const int64_t frames =
      (pos_->offset - static_cast<int64_t>(sqlite::kWalHeaderSize)) /
      frame_size;
  return frames >= options_.truncate_page_n;
}

Status Replicator::MaybeCheckpoint() {
  if (!pos_ || pos_->offset == 0) return Status::Ok();
  const int64_t frame_size = sqlite::kWalFrameHeaderSize + pos_->page_size;
  const int64_t frames =
      (pos_->offset - static_cast<int64_t>(sqlite::kWalHeaderSize)) /
      frame_size;
  // A new WAL generation (or a snapshot) starts counting from its header.
  if (pos_->offset < last_checkpoint_offset_) {
    last_checkpoint_offset_ = sqlite::kWalHeaderSize;
  }
  const int64_t grown = (pos_->offset - last_checkpoint_offset_) / frame_size;
  if (frames >= options_.truncate_page_n) return Checkpoint();
  const auto since = std::chrono::steady_clock::now() - last_checkpoint_;
  // The spacing yields to a fast-growing WAL, so that it is checkpointed
  // (and restarted) long before truncate_page_n (docs/architecture.md,
  // "Checkpoints").
  constexpr int64_t kForcedCheckpointFrames = 32768;
  if (since < options_.min_checkpoint_spacing &&
      grown < kForcedCheckpointFrames) {
    return Status::Ok();
  }
  if (grown >= options_.min_checkpoint_page_count) return Checkpoint();
  if (grown > 0 && since >= options_.checkpoint_interval) {
    return Checkpoint();
  }
  return Status::Ok();
}

Status Replicator::Checkpoint() {
  // Ship what is already committed and copy it back before taking the write
  // lock, so the locked section only handles the last few frames.
  // The pre-checkpoint runs on the locker connection while our read
  // transaction stays held: it can copy back only what that transaction has
  // seen, and the WAL cannot restart.
  // Another pass while the last one shipped more than a small tail: each
  // ships and copies back what the application wrote during the previous
  // one (whose fsyncs of a large WAL take a while), so that the locked
  // section only handles what is written during the last, short pass. At
  // most kMaxPrePasses, in case the application writes faster than a pass
  // can follow.
  constexpr int kMaxPrePasses = 4;
  constexpr uint64_t kSmallTailPages = 256;
  for (int pass = 0; pass < kMaxPrePasses; ++pass) {
    auto synced = Sync();
    if (!synced.ok()) {
      // The same outage a plain sync would report: say so at the same
      // level (the caller only postpones the checkpoint).
      spdlog::error(
          "{}: sync failed before a checkpoint (retrying at the "
          "next sync): {}",
          options_.db_path, synced.status().message());
      return synced.status();
    }
    const SyncResult shipped = *synced;
    LK_RETURN_IF_ERROR(MoveReadIfBehind(/*force=*/true));
    LK_RETURN_IF_ERROR(
        PassiveCheckpoint(locker_, std::chrono::milliseconds(200)).status());
    if (shipped.txid == 0 || (pass > 0 && shipped.pages <= kSmallTailPages)) {
      break;
    }
  }
  // Flush what the application wrote meanwhile, so that the fsyncs of the
  // checkpoint under the lock find little left to write.
  const auto flush_started = std::chrono::steady_clock::now();
  if (auto wal = OpenWal(); wal.ok() && wal->has_value()) {
    ::fdatasync((*wal)->fd());
  }
  ::fdatasync(db_file_.fd());
  const uint64_t flush_us = ElapsedMicros(flush_started);
  // Check the frames written since the last pass now, so that the scan
  // under the lock only covers what is written from here on. R still pins
  // the WAL: these frames cannot be overwritten before the lock is taken.
  std::optional<sqlite::WalScan> prescan;
  std::optional<sqlite::WalHeader> prescan_header;
  if (pos_) {
    if (auto wal = OpenWal(); wal.ok() && wal->has_value()) {
      auto h = sqlite::ReadWalHeader(**wal);
      if (h.ok() && pos_->SameGeneration(*h)) {
        auto scanned = sqlite::ScanWal(**wal, *h, pos_->offset, pos_->checksum);
        if (scanned.ok() && !scanned->empty()) {
          prescan = std::move(scanned).value();
          prescan_header = *h;
        }
      }
    }
  }
  // From here the application cannot start a checkpoint, so the one under
  // the lock never waits for it.
  HoldAppCheckpoints();
  if (options_.before_checkpoint_lock) options_.before_checkpoint_lock();
  Status locked = LockWrites();
  if (!locked.ok()) {
    ReleaseAppCheckpoints();
    return locked;
  }
  const auto locked_at = std::chrono::steady_clock::now();
  // Under the write lock, only local work: read the committed tail into a
  // local L0 file (uploaded once the lock is released), end our read
  // transaction, checkpoint, and begin it again at the end of the WAL.
  // Once the read transaction has ended, the tail exists only in that file;
  // if litekeep stops before uploading it, the position on disk is the old
  // one and the next start writes a snapshot, never a gap.
  std::optional<PendingFile> tail;
  int64_t committed_end = 0;  // in the generation pos_ follows, when known
  uint64_t capture_us = 0;
  uint64_t shrink_us = 0;
  // A tail whose pages take at most kMaxCopiedTailBytes is only copied
  // under the lock (the newest version of each page) and encoded after it
  // is released; a larger one is encoded under the lock.
  constexpr int64_t kMaxCopiedTailBytes = 16 << 20;
  struct CopiedTail {
    sqlite::WalHeader header;
    sqlite::WalScan scan;
    std::vector<uint8_t> bytes;
  };
  std::optional<CopiedTail> copied;
  {
    Status captured = [&]() -> Status {
      LK_ASSIGN_OR_RETURN(auto wal, OpenWal());
      std::optional<sqlite::WalHeader> header;
      if (wal) {
        auto h = sqlite::ReadWalHeader(*wal);
        if (h.ok()) header = *h;
      }
      if (!header || !pos_ || !pos_->SameGeneration(*header)) {
        // Not provably the generation we follow (rare: the pre-sync just
        // ran): let the full sync path decide, under the lock.
        return DoSync(WriteLock::kHeld).status();
      }
      sqlite::WalScan scan;
      if (prescan && prescan_header->salt1 == header->salt1 &&
          prescan_header->salt2 == header->salt2) {
        // Continue the scan made before the lock where it ended.
        LK_ASSIGN_OR_RETURN(auto more,
                            sqlite::ScanWal(*wal, *header, prescan->end_offset,
                                            prescan->checksum));
        scan = std::move(*prescan);
        if (!more.empty()) {
          for (const auto& [pgno, offset] : more.pages) {
            scan.pages[pgno] = offset;
          }
          scan.end_offset = more.end_offset;
          scan.checksum = more.checksum;
          scan.commit = more.commit;
          scan.frames += more.frames;
          scan.commits += more.commits;
        }
      } else {
        LK_ASSIGN_OR_RETURN(
            scan, sqlite::ScanWal(*wal, *header, pos_->offset, pos_->checksum));
      }
      committed_end = scan.empty() ? pos_->offset : scan.end_offset;
      if (scan.empty()) return Status::Ok();
      // Only the newest version of each page is copied.
      const int64_t page_bytes =
          static_cast<int64_t>(scan.pages.size()) * header->page_size;
      if (page_bytes <= kMaxCopiedTailBytes) {
        CopiedTail c{*header, scan, {}};
        c.bytes.resize(static_cast<size_t>(page_bytes));
        size_t index = 0;
        for (const auto& [pgno, offset] : scan.pages) {
          uint8_t* to = c.bytes.data() + index++ * header->page_size;
          LK_ASSIGN_OR_RETURN(
              size_t got, wal->ReadAt(to, header->page_size,
                                      offset + sqlite::kWalFrameHeaderSize));
          if (got != header->page_size) {
            return base::InternalError(
                options_.db_path + "-wal: short read of the committed tail");
          }
        }
        copied = std::move(c);
        return Status::Ok();
      }
      LK_ASSIGN_OR_RETURN(PendingFile f, EncodeIncremental(*header, scan, *wal,
                                                           /*sync=*/false));
      tail = std::move(f);
      return Status::Ok();
    }();
    capture_us = ElapsedMicros(locked_at);
    if (captured.ok() && committed_end > 0) {
      const auto shrink_started = std::chrono::steady_clock::now();
      ShrinkWal(committed_end);
      shrink_us = ElapsedMicros(shrink_started);
    }
    if (!captured.ok()) {
      UnlockWrites();
      return captured;
    }
  }
  const std::optional<Position> at =
      tail ? tail->next
      : copied
          ? std::optional<Position>(NextPosition(copied->header, copied->scan))
          : pos_;
  // The checkpoint under the lock needs the tail's WAL frames durable
  // before it copies them, and the copied pages durable before the next
  // write may restart the WAL. litekeep flushes both itself, each waited
  // for at most kMaxFlushWait: when the disk stalls, the lock is released
  // without letting the WAL restart yet (R stays on a WAL slot until the
  // flush is done), instead of keeping the application waiting for the
  // stall (docs/architecture.md, "Checkpoints"). The restart is put off
  // at most kMaxPutOffsInARow times in a row, and only kMaxPutOffsPastBound
  // once the WAL has reached truncate_page_n (a disk that is always slow
  // to flush would otherwise let the WAL grow without bound).
  constexpr auto kMaxFlushWait = std::chrono::milliseconds(15);
  constexpr int kMaxPutOffsInARow = 8;
  constexpr int kMaxPutOffsPastBound = 2;
  const bool may_put_off =
      put_offs_in_a_row_ <
      (PastTruncateBound() ? kMaxPutOffsPastBound : kMaxPutOffsInARow);
  uint64_t locked_checkpoint_us = 0;
  sqlite::CheckpointResult cp;
  bool restart_put_off = false;
  bool moved_read = false;  // R began again at `at`
  std::optional<base::File> wal_for_flush;
  if (auto w = OpenWal(); w.ok() && w->has_value()) {
    wal_for_flush = std::move(w).value();
  }
  // Declared after the file they use: destroyed first, waiting for it.
  std::future<int> wal_flush, db_flush;
  auto flushed_in_time = [&](std::future<int>& f) {
    return !may_put_off ||
           f.wait_for(kMaxFlushWait) == std::future_status::ready;
  };
  Status s = Status::Ok();
  if (wal_for_flush) {
    const int fd = wal_for_flush->fd();
    wal_flush = std::async(std::launch::async, [fd] { return FlushFile(fd); });
    restart_put_off = !flushed_in_time(wal_flush);
    if (!restart_put_off) {
      if (const int rc = wal_flush.get(); rc != 0) {
        s = base::IoError(options_.db_path + "-wal: fsync before a " +
                          "checkpoint: " + std::strerror(rc));
      }
    }
  }
  if (!s.ok()) {
    // Nothing copied: R stays where it is, on a WAL slot.
  } else if (!restart_put_off) {
    // R moves to the end of the WAL on the other connection first: while
    // a frame is not checkpointed it lands on a WAL slot, so the WAL
    // cannot restart until it moves again.
    s = MoveReadToEnd();
    moved_read = s.ok();
    if (s.ok()) {
      const auto started = std::chrono::steady_clock::now();
      auto r = UnsyncedCheckpoint(readers_[1 - active_]);
      locked_checkpoint_us = ElapsedMicros(started);
      passive_checkpoint_us_ += locked_checkpoint_us;
      if (r.ok()) {
        cp = *r;
      } else {
        ++passive_checkpoint_errors_;
        s = r.status();
      }
    }
    if (s.ok()) {
      const int fd = db_file_.fd();
      db_flush = std::async(std::launch::async, [fd] { return FlushFile(fd); });
      restart_put_off = !flushed_in_time(db_flush);
    }
    if (s.ok() && !restart_put_off) {
      if (const int rc = db_flush.get(); rc != 0) {
        s = base::IoError(options_.db_path +
                          ": fsync after a checkpoint: " + std::strerror(rc));
      }
    }
    // Everything durable: R begins again on slot 0 and the application's
    // next write restarts the WAL.
    if (s.ok() && !restart_put_off) s = EndRead();
  } else {
    // No checkpoint this time; R only moves to the end of the WAL.
    s = MoveReadToEnd();
    moved_read = s.ok();
  }
  const bool began_anew = !in_read_;
  Status begin = BeginRead();
  if (begin.ok() && (moved_read || began_anew)) read_began_at_ = at;
  // Unless the restart was put off, our read transaction is on slot 0 now
  // (all checkpointed): the application's next commit restarts the WAL,
  // and its checkpoints wait until the next sync moves the read
  // transaction to a WAL frame. After
  // that move the application would copy back what it released inside one
  // of its commits: keep it from checkpointing until our next
  // HandOffAndCheckpoint has done that work.
  HoldAppCheckpoints();
  UnlockWrites();
  if (options_.after_checkpoint_unlock) options_.after_checkpoint_unlock();
  const auto held = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - locked_at);
  if (s.ok() && !restart_put_off) put_offs_in_a_row_ = 0;
  if (restart_put_off) {
    // R holds the WAL until the next sync moves it, by which time the
    // flushes below are done.
    ++restarts_put_off_;
    ++put_offs_in_a_row_;
    const auto waited = std::chrono::steady_clock::now();
    const int wal_rc = wal_flush.valid() ? wal_flush.get() : 0;
    const int db_rc = db_flush.valid() ? db_flush.get() : 0;
    spdlog::debug(
        "{}: the disk was slow to flush ({} more ms after the write lock was "
        "released): the WAL restarts at a later checkpoint",
        options_.db_path, ElapsedMicros(waited) / 1000.0);
    if (s.ok() && (wal_rc != 0 || db_rc != 0)) {
      s = base::IoError(options_.db_path + ": fsync during a checkpoint: " +
                        std::strerror(wal_rc != 0 ? wal_rc : db_rc));
    }
  }
  spdlog::debug(
      "{}: held the write lock for {:.2f} ms (flushed before it in {:.2f} "
      "ms; tail of {} pages read in {:.2f} ms, WAL shrink {:.2f} ms, "
      "checkpoint {} of {} frames in {:.2f} ms)",
      options_.db_path, held.count() / 1000.0, flush_us / 1000.0,
      tail     ? tail->pages
      : copied ? copied->scan.pages.size()
               : 0,
      capture_us / 1000.0, shrink_us / 1000.0, cp.checkpointed_frames,
      cp.log_frames, locked_checkpoint_us / 1000.0);
  if (copied) {
    // If this fails, pos_ stays before the tail while R began after it: the
    // WAL's next generation is then not provably lossless and the next sync
    // writes a snapshot (see "When is a new WAL generation lossless?").
    LK_ASSIGN_OR_RETURN(PendingFile f,
                        EncodeIncremental(copied->header, copied->scan,
                                          copied->bytes, /*sync=*/false));
    tail = std::move(f);
    copied.reset();
  }
  if (tail) {
    pending_ = std::move(tail);
    LK_RETURN_IF_ERROR(FinishPending().status());
  }
  LK_RETURN_IF_ERROR(s);
  LK_RETURN_IF_ERROR(begin);
  last_checkpoint_ = std::chrono::steady_clock::now();
  last_checkpoint_offset_ = pos_ ? pos_->offset : 0;
  ++passive_checkpoints_;
  return Status::Ok();
}

void Replicator::ShrinkWal(int64_t committed_end) {
  if (!pos_ || committed_end <= 0) return;
  const int64_t frame_size = sqlite::kWalFrameHeaderSize + pos_->page_size;
  const int64_t bound = static_cast<int64_t>(sqlite::kWalHeaderSize) +
                        options_.truncate_page_n * frame_size;
  struct stat st;
  const std::string path = options_.db_path + "-wal";
  if (::stat(path.c_str(), &st) != 0 || st.st_size <= bound ||
      st.st_size <= committed_end) {
    return;
  }
  // Under the write lock no transaction is being written, and every
  // reader's snapshot ends at or before committed_end: past it the file
  // holds only frames of earlier generations, which SQLite never reads
  // again. SQLite itself shrinks the file the same way under its write
  // lock when journal_size_limit is set.
  // Only down to the bound, and at most 4 MiB per checkpoint: freeing the
  // blocks of a file takes about 3 ms per 10 MB here on a quiet disk (78 ms
  // for 16 MiB on a busy one), and the application waits for the lock
  // meanwhile. A larger excess goes over several checkpoints.
  constexpr int64_t kMaxShrinkBytes = 4 << 20;
  const int64_t size =
      std::max({committed_end, bound,
                static_cast<int64_t>(st.st_size) - kMaxShrinkBytes});
  const auto started = std::chrono::steady_clock::now();
  auto f = base::File::Open(path, O_RDWR);
  if (!f.ok() || ::ftruncate(f->fd(), size) != 0) {
    ++truncate_checkpoint_errors_;
    spdlog::warn("{}: could not shrink the WAL file: {}", options_.db_path,
                 f.ok() ? std::strerror(errno) : f.status().message());
    return;
  }
  truncate_checkpoint_us_ += ElapsedMicros(started);
  ++truncate_checkpoints_;
  spdlog::info(
      "{}: WAL file shrunk from {} to {} bytes (past truncate-page-n, {} "
      "pages)",
      options_.db_path, st.st_size, size, options_.truncate_page_n);
}

}  // namespace litekeep::replicate
