// Restore execution: apply a plan's LTX files in TXID order into a private
// scratch directory beside the output, check every database checksum the
// files carry, fsync, optionally check integrity, and rename into place.
// Memory stays bounded (a few MiB of batches and download buffers) whatever
// the database size. On any error — or SIGINT/SIGTERM once
// InstallSignalCleanup ran — no temporary file is left behind
// (docs/reliability.md).
#pragma once

#include <fcntl.h>

#include <functional>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "restore/planner.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

enum class IntegrityCheck { kNone, kQuick, kFull };

// Parses "none", "quick", "full".
Result<IntegrityCheck> ParseIntegrityCheck(const std::string& text);

// A private directory for temporary files: created by mkdtemp (mode 0700,
// an unpredictable name) so no other user can plant a symlink or file in
// it. The destructor removes it and everything in it, and it is removed
// too when the process gets SIGINT/SIGTERM after InstallSignalCleanup.
class ScratchDir {
 public:
  // Creates "<parent>/.<stem>-XXXXXX". Errors name parent.
  static Result<ScratchDir> Create(const std::string& parent,
                                   const std::string& stem);
  ScratchDir() = default;
  ScratchDir(ScratchDir&& o) noexcept;
  ScratchDir& operator=(ScratchDir&& o) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::string& path() const { return path_; }
  // Creates a new file `name` inside, O_EXCL|O_NOFOLLOW, mode 0600. Safe
  // to call from several threads.
  Result<base::File> CreateFile(const std::string& name, int flags = O_RDWR);
  // An unnamed file inside (created, then unlinked at once): nothing is
  // left behind whatever happens to the process.
  Result<base::File> CreateAnonymous(const std::string& name);

 private:
  void Remove();
  std::string path_;
  int slot_ = -1;  // signal-cleanup slot, -1 if none
};

// The scratch directory for restoring into out_path: refuses an existing
// output unless force (the error names it and the flags to use), then
// creates a private ScratchDir beside it (same file system, so the final
// rename is atomic).
Result<ScratchDir> PrepareOutput(const std::string& out_path, bool force);

// Installs SIGINT/SIGTERM/SIGHUP handlers that remove every live
// ScratchDir's files, then die of the signal (non-zero exit). For the CLI
// only; a library host (the VFS) keeps its own handlers.
void InstallSignalCleanup();

struct ExecuteOptions {
  std::string output;  // final database path
  // Replace an existing output. Without it an output that exists is
  // refused at the start, and one that appears while the restore runs is
  // left as it is (kAlreadyExists, see PlaceWithoutReplacing).
  bool force = false;
  IntegrityCheck integrity = IntegrityCheck::kQuick;
  // Remote replicas: ranged GETs in flight, over the file being applied and
  // up to this many files ahead of it (docs/cli/restore.md).
  int parallelism = 8;
  int64_t range_bytes = 8 << 20;  // bytes per ranged GET
  // Mode of the restored file: 0600 (owner only) unless the caller knows
  // the source database's mode.
  int mode = 0600;
  // Called after each file is applied and every few MiB within a file
  // (files done, bytes of the plan's files taken so far).
  std::function<void(size_t, int64_t)> progress;
};

struct ExecuteResult {
  TxId txid = 0;
  uint32_t page_size = 0;
  uint32_t pages = 0;  // database size in pages
  int64_t bytes_read = 0;
  bool checksum_verified = false;  // the final post-apply checksum matched
};

// Runs SQLite's quick_check or integrity_check (none: nothing) on the
// database at path; kCorrupt listing what SQLite reports.
Status CheckIntegrity(const std::string& path, IntegrityCheck mode);

// Moves the finished database `from` to out_path only if no file is there
// (renameat2 RENAME_NOREPLACE, or link(2) where the file system lacks it),
// after removing a stale out_path-wal/-shm; fsyncs the directory. When a
// database is there (created while the restore ran) it and its WAL are
// left untouched: kAlreadyExists saying the restored copy is discarded.
Status PlaceWithoutReplacing(const std::string& from,
                             const std::string& out_path);

// The last steps of every restore (LTX and Litestream 0.3): checks the
// fsync'd database at tmp_path, then places it at output: replace (-force)
// removes a stale <output>-wal/-shm and renames over whatever is there;
// otherwise PlaceWithoutReplacing. On error tmp_path is left for the
// caller to remove.
Status FinalizeOutput(const std::string& tmp_path, const std::string& output,
                      IntegrityCheck integrity, bool replace);

// Applies the plan. Refuses, naming the file at fault: a download longer or
// shorter than its listed size (or than its LTX header allows), a broken
// pre-apply checksum chain, a final post-apply checksum that the restored
// pages do not have, and a page-size change by a file that is not a full
// image of the database (docs/reliability.md).
Result<ExecuteResult> Execute(storage::ReplicaClient& replica, const Plan& plan,
                              const ExecuteOptions& options);

}  // namespace litekeep::restore
