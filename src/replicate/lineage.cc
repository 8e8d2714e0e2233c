// Lineage records, file identity, the replica's newest state and the local
// database image's checksum.
#include "replicate/lineage.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "ltx/format.h"
#include "sqlite/db_header.h"
#include "sqlite/wal.h"

namespace litekeep::replicate {
namespace {

FileIdentity FromStatx(const struct statx& st) {
  FileIdentity id;
  id.dev = (uint64_t{st.stx_dev_major} << 32) | st.stx_dev_minor;
  id.ino = st.stx_ino;
  if (st.stx_mask & STATX_BTIME) {
    id.btime_ns =
        int64_t{st.stx_btime.tv_sec} * 1000000000 + st.stx_btime.tv_nsec;
  }
  return id;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json IdentityJson(const FileIdentity& id) {
  return {{"dev", id.dev}, {"ino", id.ino}, {"btime_ns", id.btime_ns}};
}

}  // namespace

Result<FileIdentity> IdentifyPath(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_INO | STATX_BTIME, &st) != 0) {
    return base::ErrnoError("stat " + path, errno);
  }
  return FromStatx(st);
}

Result<FileIdentity> IdentifyFd(int fd) {
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &st) != 0) {
    return base::ErrnoError("stat open database", errno);
  }
  return FromStatx(st);
}

std::optional<LineageRecord> LoadLineage(const std::string& meta_dir) {
  auto text = base::ReadFileToString(meta_dir + "/lineage.json");
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    LineageRecord r;
    r.replica = j.at("replica").get<std::string>();
    r.txid = j.at("txid").get<uint64_t>();
    r.source = j.at("source").get<std::string>();
    r.recorded_ms = j.value("recorded_ms", int64_t{0});
    const auto& f = j.at("file");
    r.file.dev = f.at("dev").get<uint64_t>();
    r.file.ino = f.at("ino").get<uint64_t>();
    r.file.btime_ns = f.at("btime_ns").get<int64_t>();
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status SaveLineage(const std::string& meta_dir, const LineageRecord& r) {
  nlohmann::json j = {{"replica", r.replica},
                      {"txid", r.txid},
                      {"source", r.source},
                      {"recorded_ms", r.recorded_ms ? r.recorded_ms : NowMs()},
                      {"file", IdentityJson(r.file)}};
  return base::WriteFileAtomic(meta_dir + "/lineage.json", j.dump(2) + "\n");
}

Status RecordRestoredLineage(const std::string& db_path,
                             const std::string& meta_dir,
                             const std::string& replica, TxId txid) {
  LK_ASSIGN_OR_RETURN(FileIdentity id, IdentifyPath(db_path));
  LK_RETURN_IF_ERROR(base::MakeDirs(meta_dir, 0700));
  LineageRecord r;
  r.replica = replica;
  r.txid = txid;
  r.file = id;
  r.source = "restore";
  return SaveLineage(meta_dir, r);
}

Result<ReplicaTip> ReadReplicaTip(storage::ReplicaClient& replica) {
  ReplicaTip tip;
  for (int level = 0; level <= ltx::kMaxLevel; ++level) {
    LK_ASSIGN_OR_RETURN(auto files, replica.ListFiles(level));
    for (const auto& f : files) {
      if (f.max_txid > tip.txid) {
        tip.txid = f.max_txid;
        tip.file = f;
      }
    }
  }
  if (tip.txid == 0) return tip;
  const storage::FileInfo& f = tip.file;
  std::vector<uint8_t> buf(ltx::kHeaderSize);
  {
    LK_ASSIGN_OR_RETURN(
        auto r,
        replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, ltx::kHeaderSize));
    Status read = r->ReadFull(buf);
    // A damaged newest file only leaves its size unknown here (restore and
    // verify report it); an unreachable store is an error to retry.
    if (read.code() == base::Code::kCorrupt) return tip;
    LK_RETURN_IF_ERROR(read);
  }
  auto decoded = ltx::Header::Decode(buf);
  if (!decoded.ok()) return tip;
  const ltx::Header& h = *decoded;
  tip.page_size = h.page_size;
  tip.commit = h.commit;
  if (!h.NoChecksum() &&
      f.size >= static_cast<int64_t>(ltx::kHeaderSize + ltx::kTrailerSize)) {
    std::vector<uint8_t> trailer(ltx::kTrailerSize);
    LK_ASSIGN_OR_RETURN(
        auto r,
        replica.OpenFile(f.level, f.min_txid, f.max_txid,
                         f.size - static_cast<int64_t>(ltx::kTrailerSize),
                         ltx::kTrailerSize));
    LK_RETURN_IF_ERROR(r->ReadFull(trailer));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | trailer[i];
    tip.checksum = v;
  }
  return tip;
}

Result<uint64_t> LocalImageChecksum(const base::File& db,
                                    const std::string& db_path,
                                    int64_t* size_out) {
  LK_ASSIGN_OR_RETURN(auto db_header, sqlite::ReadDbHeader(db));
  uint32_t page_size = db_header.page_size;
  std::optional<base::File> wal;
  std::optional<sqlite::WalHeader> wal_header;
  sqlite::WalScan scan;
  auto w = base::File::Open(db_path + "-wal", O_RDONLY);
  if (w.ok()) {
    auto h = sqlite::ReadWalHeader(*w);
    if (h.ok()) {
      LK_ASSIGN_OR_RETURN(
          scan, sqlite::ScanWal(*w, *h, sqlite::kWalHeaderSize, h->checksum));
      if (!scan.empty()) {
        wal_header = *h;
        page_size = h->page_size;
        wal = std::move(w).value();
      }
    }
  }
  uint32_t commit = scan.commit;
  if (!wal_header || commit == 0) {
    LK_ASSIGN_OR_RETURN(int64_t size, db.Size());
    commit = db_header.page_count != 0
                 ? db_header.page_count
                 : static_cast<uint32_t>(size / page_size);
  }
  ltx::DatabaseChecksum sum(page_size);
  std::vector<uint8_t> frame(sqlite::kWalFrameHeaderSize + page_size);
  uint8_t* page = frame.data() + sqlite::kWalFrameHeaderSize;
  const Pgno lock = ltx::LockPgno(page_size);
  for (Pgno pgno = 1; pgno <= commit; ++pgno) {
    if (pgno == lock) continue;
    auto it = wal_header ? scan.pages.find(pgno) : scan.pages.end();
    if (wal_header && it != scan.pages.end()) {
      LK_RETURN_IF_ERROR(
          wal->ReadFullAt(frame.data(), frame.size(), it->second));
    } else {
      LK_RETURN_IF_ERROR(db.ReadFullAt(
          page, page_size, static_cast<int64_t>(pgno - 1) * page_size));
    }
    sum.AddPage(pgno, {page, page_size});
  }
  if (size_out != nullptr) *size_out = int64_t{page_size} * commit;
  return sum.Value();
}

std::optional<TxId> LoadHistoryHold(const std::string& meta_dir) {
  auto text = base::ReadFileToString(meta_dir + "/history-hold.json");
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("txid")) {
    return std::nullopt;
  }
  try {
    return j.at("txid").get<uint64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

Status SaveHistoryHold(const std::string& meta_dir, TxId txid,
                       const std::string& replica) {
  nlohmann::json j = {{"txid", txid},
                      {"replica", replica},
                      {"recorded_ms", NowMs()},
                      {"note",
                       "retention is off for this database while this file "
                       "exists; see docs/architecture.md (Lineage guard)"}};
  return base::WriteFileAtomic(meta_dir + "/history-hold.json",
                               j.dump(2) + "\n");
}

}  // namespace litekeep::replicate
