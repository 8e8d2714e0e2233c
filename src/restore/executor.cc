// Restore executor: download ahead (bounded by the listed size) into a
// private scratch directory, apply in order checking the checksums the files
// carry, check, rename.
#include "restore/executor.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "restore/fetcher.h"
#include "restore/page_writer.h"
#include "storage/age_replica.h"
#include "storage/file_chain.h"

namespace litekeep::restore {
namespace {

// Bytes of a file taken between progress reports within it.
constexpr int64_t kProgressEvery = 4 << 20;

// ---- signal cleanup --------------------------------------------------------
//
// Live scratch directories, in fixed storage the signal handler can read
// without allocating: the directory and its named files.

constexpr int kSlots = 16;
constexpr int kFilesPerSlot = 4;
constexpr size_t kPathMax = 4096;

struct CleanupSlot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
  std::atomic<int> files{0};  // named files recorded
  char dir[kPathMax];
  char file[kFilesPerSlot][kPathMax];
};

CleanupSlot g_slots[kSlots];

int ClaimSlot(const std::string& dir) {
  if (dir.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(g_slots[i].dir, dir.c_str(), dir.size() + 1);
    g_slots[i].files.store(0);
    g_slots[i].state.store(2);
    return i;
  }
  return -1;  // more live directories than slots: not signal-cleaned
}

void RecordFile(int slot, const std::string& path) {
  if (slot < 0 || path.size() >= kPathMax) return;
  CleanupSlot& s = g_slots[slot];
  const int n = s.files.load();
  if (n >= kFilesPerSlot) return;
  std::memcpy(s.file[n], path.c_str(), path.size() + 1);
  s.files.store(n + 1);
}

void ReleaseSlot(int slot) {
  if (slot < 0) return;
  g_slots[slot].files.store(0);
  g_slots[slot].state.store(0);
}

// Async-signal-safe: unlink, rmdir, signal and raise only.
void CleanupAndDie(int sig) {
  for (CleanupSlot& s : g_slots) {
    if (s.state.load() != 2) continue;
    const int n = s.files.load();
    for (int i = 0; i < n && i < kFilesPerSlot; ++i) ::unlink(s.file[i]);
    ::rmdir(s.dir);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// ---- downloads -------------------------------------------------------------

std::string ObjectName(const storage::FileInfo& f) {
  return "level " + std::to_string(f.level) + " file " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

// Counts the bytes a decoder has taken, for progress within a file.
class CountingReader : public base::Reader {
 public:
  explicit CountingReader(base::Reader* in) : in_(in) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    LK_ASSIGN_OR_RETURN(size_t n, in_->Read(buf));
    count_ += static_cast<int64_t>(n);
    return n;
  }
  int64_t count() const { return count_; }

 private:
  base::Reader* in_;
  int64_t count_ = 0;
};

// Database checksum (docs/format.md §6) of pages 1..commit of a file.
Result<uint64_t> FileDatabaseChecksum(const base::File& f, uint32_t page_size,
                                      uint32_t commit) {
  ltx::DatabaseChecksum sum(page_size);
  const size_t per_read = std::max<size_t>(1, (size_t{1} << 20) / page_size);
  std::vector<uint8_t> buf(per_read * page_size);
  for (Pgno p = 1; p <= commit;) {
    const size_t n = std::min<size_t>(per_read, commit - p + 1);
    LK_RETURN_IF_ERROR(f.ReadFullAt(buf.data(), n * page_size,
                                    static_cast<int64_t>(p - 1) * page_size));
    for (size_t i = 0; i < n; ++i, ++p) {
      sum.AddPage(p, {buf.data() + i * page_size, page_size});
    }
  }
  return sum.Value();
}

std::string Hex(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof(b), "%016" PRIx64, v);
  return b;
}

}  // namespace

Status CheckIntegrity(const std::string& path, IntegrityCheck mode) {
  if (mode == IntegrityCheck::kNone) return Status::Ok();
  sqlite3* db = nullptr;
  std::string uri = "file:" + path + "?immutable=1";
  int rc = sqlite3_open_v2(uri.c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    std::string e = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return base::CorruptError("restored database cannot be opened: " + e);
  }
  const char* sql = mode == IntegrityCheck::kQuick ? "PRAGMA quick_check"
                                                   : "PRAGMA integrity_check";
  sqlite3_stmt* stmt = nullptr;
  std::string problems;
  rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  while (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    std::string line = t ? reinterpret_cast<const char*>(t) : "";
    if (line == "ok") continue;
    if (!problems.empty()) problems += "; ";
    problems += line;
    if (problems.size() > 2000) break;
  }
  if (rc != SQLITE_OK) problems = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (!problems.empty()) {
    return base::CorruptError(std::string(sql) +
                              " failed on the restored "
                              "database: " +
                              problems);
  }
  return Status::Ok();
}

// ---- ScratchDir ------------------------------------------------------------

Result<ScratchDir> ScratchDir::Create(const std::string& parent,
                                      const std::string& stem) {
  std::string templ = parent + "/." + stem + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return base::ErrnoError("create a private temporary directory in " + parent,
                            errno);
  }
  ScratchDir d;
  d.path_ = buf.data();
  d.slot_ = ClaimSlot(d.path_);
  return d;
}

ScratchDir::ScratchDir(ScratchDir&& o) noexcept
    : path_(std::move(o.path_)), slot_(o.slot_) {
  o.path_.clear();
  o.slot_ = -1;
}

ScratchDir& ScratchDir::operator=(ScratchDir&& o) noexcept {
  if (this != &o) {
    Remove();
    path_ = std::move(o.path_);
    slot_ = o.slot_;
    o.path_.clear();
    o.slot_ = -1;
  }
  return *this;
}

ScratchDir::~ScratchDir() { Remove(); }

void ScratchDir::Remove() {
  if (path_.empty()) return;
  // Only this process writes here (mode 0700): every entry is ours.
  if (DIR* d = ::opendir(path_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
        continue;
      ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
  }
  ::rmdir(path_.c_str());
  ReleaseSlot(slot_);
  slot_ = -1;
  path_.clear();
}

Result<base::File> ScratchDir::CreateFile(const std::string& name, int flags) {
  const std::string p = path_ + "/" + name;
  RecordFile(slot_, p);
  return base::File::Open(p, flags | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
}

Result<base::File> ScratchDir::CreateAnonymous(const std::string& name) {
  int fd = ::open(path_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return base::File(fd, path_ + "/" + name);
  // No O_TMPFILE on this file system: create, then unlink at once.
  const std::string p = path_ + "/" + name;
  LK_ASSIGN_OR_RETURN(
      base::File f,
      base::File::Open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
  ::unlink(p.c_str());
  return f;
}

void InstallSignalCleanup() {
  struct sigaction sa {};
  sa.sa_handler = CleanupAndDie;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

Result<IntegrityCheck> ParseIntegrityCheck(const std::string& text) {
  if (text == "none") return IntegrityCheck::kNone;
  if (text == "quick") return IntegrityCheck::kQuick;
  if (text == "full") return IntegrityCheck::kFull;
  return base::InvalidArgumentError("invalid -integrity-check \"" + text +
                                    "\": use none, quick or full");
}

Status PlaceWithoutReplacing(const std::string& from,
                             const std::string& out_path) {
  const auto appeared = [&] {
    return base::AlreadyExistsError(
        out_path +
        " appeared while it was being restored (an application created "
        "it?); it is left as it is and the restored copy is discarded");
  };
  if (base::PathExists(out_path)) return appeared();
  // A WAL or shared-memory file without its database is stale: SQLite
  // would replay it onto the restored one.
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string p = out_path + suffix;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      return base::ErrnoError("remove stale " + p, errno);
    }
  }
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, out_path.c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return appeared();
    if (errno != EINVAL && errno != ENOSYS) {
      return base::ErrnoError("rename " + from + " to " + out_path, errno);
    }
    // No RENAME_NOREPLACE on this file system: a hard link does not
    // replace either (the scratch name goes with its directory).
    if (::link(from.c_str(), out_path.c_str()) != 0) {
      if (errno == EEXIST) return appeared();
      return base::ErrnoError("link " + from + " to " + out_path, errno);
    }
  }
  return base::SyncDir(base::DirName(out_path));
}

Status FinalizeOutput(const std::string& tmp_path, const std::string& out_path,
                      IntegrityCheck integrity, bool replace) {
  LK_RETURN_IF_ERROR(CheckIntegrity(tmp_path, integrity));
  if (!replace) return PlaceWithoutReplacing(tmp_path, out_path);
  // A stale WAL or shared-memory file beside the output would be replayed
  // on top of the restored database by SQLite: remove them.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string p = out_path + suffix;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      return base::ErrnoError("remove stale " + p, errno);
    }
  }
  if (::rename(tmp_path.c_str(), out_path.c_str()) != 0) {
    return base::ErrnoError("rename " + tmp_path + " to " + out_path, errno);
  }
  return base::SyncDir(base::DirName(out_path));
}

Result<ScratchDir> PrepareOutput(const std::string& out_path, bool force) {
  if (base::PathExists(out_path) && !force) {
    return base::AlreadyExistsError(
        "output " + out_path +
        " already exists; use -force to replace it, or -if-db-not-exists to "
        "skip the restore when it exists");
  }
  return ScratchDir::Create(base::DirName(out_path), base::BaseName(out_path));
}

Result<ExecuteResult> Execute(storage::ReplicaClient& replica, const Plan& plan,
                              const ExecuteOptions& options) {
  const std::string& out_path = options.output;
  if (plan.empty()) return base::InvalidArgumentError("empty restore plan");
  // Every temporary lives in the scratch directory; it goes away with
  // `scratch` on every path out of this function.
  LK_ASSIGN_OR_RETURN(ScratchDir scratch,
                      PrepareOutput(out_path, options.force));
  const std::string tmp_path = scratch.path() + "/db";
  LK_ASSIGN_OR_RETURN(base::File out, scratch.CreateFile("db", O_RDWR));
  if (options.mode != 0600 &&
      ::fchmod(out.fd(), static_cast<mode_t>(options.mode)) != 0) {
    return base::ErrnoError("chmod " + tmp_path, errno);
  }

  // Remote backends: ranged GETs in flight across the next files, into
  // unnamed scratch files read back as they land (docs/cli/restore.md). The
  // file backend is read in place.
  std::optional<Fetcher> fetcher;
  if (replica.Type() != "file") {
    FetchOptions fo;
    fo.parallelism = options.parallelism;
    fo.range_bytes = options.range_bytes;
    // An encrypted file is decrypted from its first byte whatever the
    // range (docs/encryption.md): one range per file.
    if (dynamic_cast<storage::AgeReplica*>(&replica) != nullptr) {
      fo.range_bytes = std::numeric_limits<int64_t>::max();
    }
    fo.files_ahead = static_cast<size_t>(std::max(1, options.parallelism));
    fetcher.emplace(replica, plan.files, &scratch, fo);
  }

  ExecuteResult result;
  PageWriter writer(&out);
  storage::PageSupply supply;
  int64_t bytes_done = 0;
  // The post-apply checksum of the previous file, when it carries one.
  std::optional<uint64_t> prev_post;
  std::string prev_name;
  bool last_has_checksum = false;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    const auto& f = plan.files[i];
    const std::string name = ObjectName(f) + " in " + replica.Describe();
    std::unique_ptr<base::Reader> source;
    if (fetcher) {
      source = fetcher->Open(i);
    } else {
      auto opened = replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, -1);
      if (!opened.ok()) return opened.status().WithContext("open " + name);
      source = std::move(opened).value();
    }
    // A download error is reported as such, not as what the decoder made
    // of the bytes that stopped.
    auto failed = [&](Status s) {
      if (fetcher) {
        if (Status d = fetcher->Error(i); !d.ok()) {
          return d.WithContext("download " + name);
        }
      }
      return s;
    };
    CountingReader counted(source.get());
    int64_t next_report = kProgressEvery;
    // The decoder reads in large chunks itself; no second buffer (and copy)
    // in between.
    ltx::Decoder dec(&counted, name);
    dec.set_keep_page_index(false);  // memory flat at any database size
    if (Status s = dec.DecodeHeader(); !s.ok()) return failed(s);
    const ltx::Header& h = dec.header();
    LK_RETURN_IF_ERROR(ltx::CheckHeaderRange({h.min_txid, h.max_txid},
                                             {f.min_txid, f.max_txid}, name));
    // The chain of database states: this file must start where the
    // previous one ended (both carry checksums; docs/format.md §6).
    if (i > 0 && !h.NoChecksum() && prev_post &&
        h.pre_apply_checksum != *prev_post) {
      return base::CorruptError(
          name + ": pre-apply checksum mismatch: " + Hex(h.pre_apply_checksum) +
          " <> " + Hex(*prev_post) + " (the post-apply checksum of " +
          prev_name + "); the chain of database states is broken");
    }
    // A page-size change (VACUUM) is only possible through a full image
    // that rewrites every page; checked once the pages are counted.
    const bool page_size_changed =
        result.page_size != 0 && h.page_size != result.page_size;
    const uint32_t old_page_size = result.page_size;
    result.page_size = h.page_size;
    // Pages are decoded straight into the writer's batch; runs of
    // consecutive pages reach the file as one write each. The chain must
    // supply every page up to commit: checked before a page is written and
    // before the file is sized to commit.
    supply.StartFile(h.IsSnapshot(), h.page_size, h.commit, name);
    const Pgno lock = ltx::LockPgno(h.page_size);
    const uint64_t full = h.commit - (lock <= h.commit ? 1 : 0);
    Pgno pgno = 0;
    uint64_t pages_in_file = 0;
    auto mixed_page_sizes = [&] {
      return base::CorruptError(
          name + ": page size " + std::to_string(h.page_size) +
          " differs from the page size " + std::to_string(old_page_size) +
          " of the database it applies to (" + prev_name +
          "), and it is not a full image of the database (" +
          std::to_string(pages_in_file) + " of " + std::to_string(full) +
          " pages); refusing to mix page sizes");
    };
    for (;;) {
      LK_ASSIGN_OR_RETURN(std::span<uint8_t> slot, writer.Slot(h.page_size));
      auto more = dec.DecodePage(&pgno, slot);
      if (!more.ok()) return failed(more.status());
      if (!*more) break;
      if (options.progress && counted.count() >= next_report) {
        options.progress(i, bytes_done + counted.count());
        next_report = counted.count() + kProgressEvery;
      }
      // After a page-size change only a full image (pages 1, 2, ... in
      // order) may follow: say so rather than which page is missing.
      if (Status added = supply.AddPage(pgno); !added.ok()) {
        return page_size_changed ? mixed_page_sizes() : added;
      }
      LK_RETURN_IF_ERROR(writer.Commit(pgno));
      ++pages_in_file;
    }
    // A slot asked for but not used is simply dropped: the next Slot or
    // Flush reuses it.
    writer.Abandon();
    if (Status s = dec.Close(); !s.ok()) return failed(s);
    source.reset();
    if (fetcher) fetcher->Release(i);
    if (page_size_changed && pages_in_file != full) return mixed_page_sizes();
    LK_RETURN_IF_ERROR(supply.FinishFile());
    LK_RETURN_IF_ERROR(writer.Flush());
    LK_RETURN_IF_ERROR(
        out.Truncate(static_cast<int64_t>(h.commit) * h.page_size));
    result.pages = h.commit;
    result.txid = h.max_txid;
    last_has_checksum = !h.NoChecksum();
    prev_post = last_has_checksum
                    ? std::optional<uint64_t>(dec.trailer().post_apply_checksum)
                    : std::nullopt;
    prev_name = name;
    bytes_done += f.size;
    if (options.progress) options.progress(i + 1, bytes_done);
  }
  // The final state must be the one the last file says it produces. A lone
  // snapshot's was checked by its decoder.
  if (last_has_checksum && plan.files.size() > 1) {
    LK_ASSIGN_OR_RETURN(
        uint64_t actual,
        FileDatabaseChecksum(out, result.page_size, result.pages));
    if (actual != *prev_post) {
      return base::CorruptError(
          prev_name + ": post-apply checksum mismatch: " + Hex(*prev_post) +
          " <> " + Hex(actual) +
          " (the checksum of the restored database); the restored pages are "
          "not the state this file describes");
    }
  }
  result.checksum_verified = last_has_checksum;
  LK_RETURN_IF_ERROR(out.Sync());
  LK_RETURN_IF_ERROR(out.Close());
  LK_RETURN_IF_ERROR(
      FinalizeOutput(tmp_path, out_path, options.integrity, options.force));
  result.bytes_read = bytes_done;
  return result;
}

}  // namespace litekeep::restore
