// Restore executor: download ahead, apply in order, check, rename.
#include "restore/executor.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <future>
#include <vector>

#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "restore/page_writer.h"
#include "storage/file_chain.h"

namespace litekeep::restore {
namespace {

std::string ObjectName(const storage::FileInfo& f) {
  return "level " + std::to_string(f.level) + " file " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

// Copies a replica file to a local temporary file (for remote backends, so
// downloads overlap with applying).
Result<std::string> Download(storage::ReplicaClient& replica,
                             const storage::FileInfo& f,
                             const std::string& path) {
  LK_ASSIGN_OR_RETURN(auto in, replica.OpenFile(f.level, f.min_txid,
                                                f.max_txid, 0, -1));
  LK_ASSIGN_OR_RETURN(base::File out,
                      base::File::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t n, in->Read(buf));
    if (n == 0) break;
    LK_RETURN_IF_ERROR(out.WriteAll(buf.data(), n));
  }
  LK_RETURN_IF_ERROR(out.Close());
  return path;
}

Status CheckIntegrity(const std::string& path, IntegrityCheck mode) {
  if (mode == IntegrityCheck::kNone) return Status::Ok();
  sqlite3* db = nullptr;
  std::string uri = "file:" + path + "?immutable=1";
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                           nullptr);
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
    return base::CorruptError(std::string(sql) + " failed on the restored "
                              "database: " + problems);
  }
  return Status::Ok();
}

}  // namespace

Result<IntegrityCheck> ParseIntegrityCheck(const std::string& text) {
  if (text == "none") return IntegrityCheck::kNone;
  if (text == "quick") return IntegrityCheck::kQuick;
  if (text == "full") return IntegrityCheck::kFull;
  return base::InvalidArgumentError("invalid -integrity-check \"" + text +
                                    "\": use none, quick or full");
}

Status FinalizeOutput(const std::string& tmp_path, const std::string& out_path,
                      IntegrityCheck integrity) {
  LK_RETURN_IF_ERROR(CheckIntegrity(tmp_path, integrity));
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

Result<ExecuteResult> Execute(storage::ReplicaClient& replica, const Plan& plan,
                              const ExecuteOptions& options) {
  const std::string& out_path = options.output;
  if (plan.empty()) return base::InvalidArgumentError("empty restore plan");
  if (base::PathExists(out_path) && !options.force) {
    return base::AlreadyExistsError(
        "output " + out_path +
        " already exists; use -force to replace it, or -if-db-not-exists to skip "
        "the restore when it exists");
  }
  const std::string tmp_path = out_path + ".tmp";
  ::unlink(tmp_path.c_str());
  LK_ASSIGN_OR_RETURN(base::File out,
                      base::File::Open(tmp_path, O_RDWR | O_CREAT | O_TRUNC));
  bool keep = false;
  struct Cleanup {
    const std::string& path;
    bool& keep;
    std::vector<std::string> extra;
    ~Cleanup() {
      if (!keep) ::unlink(path.c_str());
      for (const auto& p : extra) ::unlink(p.c_str());
    }
  } cleanup{tmp_path, keep, {}};

  // Remote backends: download up to `parallelism` files ahead into local
  // temporary files. The file backend is read in place.
  const bool prefetch = replica.Type() != "file";
  const size_t window = static_cast<size_t>(std::max(1, options.parallelism));
  std::deque<std::future<Result<std::string>>> pending;
  size_t next_download = 0;
  auto schedule = [&]() {
    while (prefetch && next_download < plan.files.size() &&
           pending.size() < window) {
      const auto& f = plan.files[next_download];
      std::string path = tmp_path + "-dl-" + std::to_string(next_download);
      cleanup.extra.push_back(path);
      pending.push_back(std::async(std::launch::async, [&replica, f, path]() {
        return Download(replica, f, path);
      }));
      ++next_download;
    }
  };

  ExecuteResult result;
  PageWriter writer(&out);
  storage::PageSupply supply;
  int64_t bytes_done = 0;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    const auto& f = plan.files[i];
    const std::string name = ObjectName(f) + " in " + replica.Describe();
    std::unique_ptr<base::Reader> source;
    if (prefetch) {
      schedule();
      auto local = pending.front().get();
      pending.pop_front();
      if (!local.ok()) return local.status().WithContext("download " + name);
      LK_ASSIGN_OR_RETURN(base::File lf, base::File::Open(*local, O_RDONLY));
      ::unlink(local->c_str());
      source.reset(new base::FileReader(std::move(lf)));
    } else {
      auto opened = replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, -1);
      if (!opened.ok()) return opened.status().WithContext("open " + name);
      source = std::move(opened).value();
    }
    // The decoder reads in large chunks itself; no second buffer (and copy)
    // in between.
    ltx::Decoder dec(source.get(), name);
    LK_RETURN_IF_ERROR(dec.DecodeHeader());
    const ltx::Header& h = dec.header();
    if (h.min_txid != f.min_txid || h.max_txid != f.max_txid) {
      return base::CorruptError(name + ": header says TXID " +
                                ltx::FormatTxId(h.min_txid) + "-" +
                                ltx::FormatTxId(h.max_txid) +
                                ", which does not match its name");
    }
    if (result.page_size == 0) {
      result.page_size = h.page_size;
    } else if (h.page_size != result.page_size) {
      // A VACUUM may change the page size only through a full image, which
      // rewrites every page; accept it and let the final check judge.
      result.page_size = h.page_size;
    }
    // Pages are decoded straight into the writer's batch; runs of
    // consecutive pages reach the file as one write each. The chain must
    // supply every page up to commit: checked before a page is written and
    // before the file is sized to commit.
    supply.StartFile(h.IsSnapshot(), h.page_size, h.commit, name);
    Pgno pgno = 0;
    for (;;) {
      LK_ASSIGN_OR_RETURN(std::span<uint8_t> slot, writer.Slot(h.page_size));
      LK_ASSIGN_OR_RETURN(bool more, dec.DecodePage(&pgno, slot));
      if (!more) break;
      LK_RETURN_IF_ERROR(supply.AddPage(pgno));
      LK_RETURN_IF_ERROR(writer.Commit(pgno));
    }
    // A slot asked for but not used is simply dropped: the next Slot or
    // Flush reuses it.
    writer.Abandon();
    LK_RETURN_IF_ERROR(dec.Close());
    LK_RETURN_IF_ERROR(supply.FinishFile());
    LK_RETURN_IF_ERROR(writer.Flush());
    LK_RETURN_IF_ERROR(out.Truncate(static_cast<int64_t>(h.commit) * h.page_size));
    result.pages = h.commit;
    result.txid = h.max_txid;
    bytes_done += f.size;
    if (options.progress) options.progress(i + 1, bytes_done);
  }
  LK_RETURN_IF_ERROR(out.Sync());
  LK_RETURN_IF_ERROR(out.Close());
  LK_RETURN_IF_ERROR(FinalizeOutput(tmp_path, out_path, options.integrity));
  keep = true;
  result.bytes_read = bytes_done;
  return result;
}

}  // namespace litekeep::restore
