// Backup verification: listing checks, strict decode of every file, and a
// full restore compared with the live database.
#include "restore/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <map>
#include <thread>

#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "restore/executor.h"
#include "restore/planner.h"
#include "sqlite/connection.h"
#include "sqlite/db_header.h"
#include "sqlite/db_image.h"
#include "sqlite/wal.h"
#include "storage/file_chain.h"

namespace litekeep::restore {
namespace {

using std::chrono::duration_cast;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Age(milliseconds d) {
  auto s = duration_cast<seconds>(d).count();
  if (s >= 3600)
    return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60)
    return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

std::string Hex(uint64_t v) { return ltx::FormatTxId(v); }

bool ByRange(const storage::FileInfo& a, const storage::FileInfo& b) {
  if (a.min_txid != b.min_txid) return a.min_txid < b.min_txid;
  if (a.max_txid != b.max_txid) return a.max_txid < b.max_txid;
  return a.level < b.level;
}

// Files of one level must not overlap, except the snapshots of level 9,
// which all start at TXID 1 (storage::LevelHoldsSnapshots).
void CheckOverlaps(const std::vector<storage::FileInfo>& files,
                   std::vector<VerifyProblem>* out) {
  std::map<int, std::vector<storage::FileInfo>> by_level;
  for (const auto& f : files) by_level[f.level].push_back(f);
  for (auto& [level, list] : by_level) {
    std::sort(list.begin(), list.end(), ByRange);
    const bool snapshots = storage::LevelHoldsSnapshots(level);
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& f = list[i];
      if (f.min_txid == 0 || f.min_txid > f.max_txid) {
        out->push_back({"listing", VerifyObjectName(f),
                        VerifyObjectName(f) + ": invalid TXID range"});
        continue;
      }
      if (i == 0 || snapshots) continue;
      const auto& prev = list[i - 1];
      if (f.min_txid <= prev.max_txid) {
        out->push_back({"overlap", VerifyObjectName(f),
                        VerifyObjectName(f) + " overlaps " +
                            VerifyObjectName(prev) + " (both hold TXID " +
                            ltx::FormatTxId(f.min_txid) +
                            "); files of one level must not overlap"});
      }
    }
  }
}

// Holes in the union of all files' TXID ranges (storage::FindHoles); files
// past the first hole cannot be reached by any restore.
void CheckGaps(const std::vector<storage::FileInfo>& files,
               std::vector<VerifyProblem>* out) {
  const std::vector<storage::Hole> holes = storage::FindHoles(files);
  if (holes.empty()) return;
  for (const auto& h : holes) {
    storage::FileInfo missing;
    missing.level = h.after.level;
    missing.min_txid = h.first;
    missing.max_txid = h.last;
    out->push_back({"gap", VerifyObjectName(missing),
                    "gap: no file holds TXID " + ltx::FormatTxId(h.first) +
                        (h.last > h.first ? "-" + ltx::FormatTxId(h.last)
                                          : std::string()) +
                        " (missing " + VerifyObjectName(missing) +
                        ", between " + VerifyObjectName(h.before) + " and " +
                        VerifyObjectName(h.after) + "); restores past TXID " +
                        ltx::FormatTxId(h.first - 1) + " fail"});
  }
  const TxId first_hole = holes.front().first;
  std::vector<storage::FileInfo> orphans;
  for (const auto& f : files) {
    if (f.min_txid > first_hole) orphans.push_back(f);
  }
  std::sort(orphans.begin(), orphans.end(), ByRange);
  std::string msg = std::to_string(orphans.size()) +
                    " file(s) after the gap at TXID " +
                    ltx::FormatTxId(first_hole) +
                    " cannot be reached by any restore (no snapshot follows "
                    "the gap): " +
                    VerifyObjectName(orphans.front());
  if (orphans.size() > 1) msg += " ... " + VerifyObjectName(orphans.back());
  out->push_back({"orphan", VerifyObjectName(orphans.front()), msg});
}

void CheckSnapshots(const std::vector<storage::FileInfo>& files,
                    const ListingPolicy& policy,
                    std::vector<VerifyProblem>* out) {
  const storage::FileInfo* newest =
      storage::NewestSnapshot(files, std::numeric_limits<TxId>::max());
  const storage::FileInfo* oldest_file = nullptr;
  for (const auto& f : files) {
    if (oldest_file == nullptr || ByRange(f, *oldest_file)) oldest_file = &f;
  }
  if (newest == nullptr) {
    out->push_back({"snapshot", VerifyObjectName(*oldest_file),
                    "no snapshot (a file starting at TXID 1): the oldest file "
                    "is " +
                        VerifyObjectName(*oldest_file) +
                        ", so no restore can start"});
    return;
  }
  if (!policy.retention || newest->created == TimePoint{}) return;
  const milliseconds bound =
      std::max(*policy.retention, policy.snapshot_interval);
  const auto age = duration_cast<milliseconds>(policy.now - newest->created);
  if (age > bound) {
    out->push_back(
        {"snapshot", VerifyObjectName(*newest),
         "the newest snapshot " + VerifyObjectName(*newest) + " is " +
             Age(age) + " old, older than the retention window needs (" +
             Age(bound) +
             "): restoring a point in the window replays files from before "
             "it, which retention deletes; is compaction writing snapshots?"});
  }
}

// A file fully decoded: what the chain check needs.
struct Decoded {
  storage::FileInfo info;
  ltx::Header header;
  ltx::Trailer trailer;
  uint64_t pages = 0;  // pages the file holds
};

Result<Decoded> DecodeFile(storage::ReplicaClient& replica,
                           const storage::FileInfo& f) {
  const std::string name = VerifyObjectName(f) + " in " + replica.Describe();
  auto opened = replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, -1);
  if (!opened.ok()) return opened.status().WithContext("open " + name);
  base::BufferedReader buffered(opened->get());
  ltx::Decoder dec(&buffered, name);
  dec.set_keep_page_index(false);  // memory flat at any file size
  LK_RETURN_IF_ERROR(dec.DecodeHeader());
  const ltx::Header& h = dec.header();
  LK_RETURN_IF_ERROR(ltx::CheckHeaderRange({h.min_txid, h.max_txid},
                                           {f.min_txid, f.max_txid}, name));
  LK_RETURN_IF_ERROR(dec.Close());
  return Decoded{f, dec.header(), dec.trailer(), dec.page_index_entries()};
}

void CheckFiles(storage::ReplicaClient& replica,
                const std::vector<storage::FileInfo>& files,
                const VerifyOptions& options, VerifyReport* report) {
  int64_t total = 0, done_bytes = 0;
  for (const auto& f : files) total += f.size;
  std::map<std::pair<int, TxId>, Decoded> by_end;  // (level, max) -> file
  size_t done = 0;
  for (const auto& f : files) {
    auto d = DecodeFile(replica, f);
    if (!d.ok()) {
      report->problems.push_back(
          {"checksum", VerifyObjectName(f), d.status().message()});
    } else {
      ++report->files_decoded;
      by_end[{f.level, f.max_txid}] = *d;
    }
    done_bytes += f.size;
    if (options.progress)
      options.progress(++done, files.size(), done_bytes, total);
  }
  // TXID chain: consecutive files of a level that both carry checksums
  // must chain post-apply -> pre-apply checksum.
  for (const auto& [key, d] : by_end) {
    if (d.header.NoChecksum() || d.info.min_txid == 1) continue;
    auto prev = by_end.find({d.info.level, d.info.min_txid - 1});
    if (prev == by_end.end() || prev->second.header.NoChecksum()) continue;
    if (prev->second.trailer.post_apply_checksum !=
        d.header.pre_apply_checksum) {
      report->problems.push_back(
          {"chain", VerifyObjectName(d.info),
           VerifyObjectName(d.info) + ": pre-apply checksum mismatch: " +
               Hex(d.header.pre_apply_checksum) + " <> " +
               Hex(prev->second.trailer.post_apply_checksum) +
               " (the post-apply checksum of " +
               VerifyObjectName(prev->second.info) +
               "); the chain of database states is broken"});
    }
  }
  // Page size: a file may change it only as a full image of the database
  // (a VACUUM rewrites every page); any file it follows, at any level,
  // shows the page size it applies to.
  std::map<TxId, const Decoded*> ending_at;
  for (const auto& [key, d] : by_end) ending_at.emplace(key.second, &d);
  for (const auto& [key, d] : by_end) {
    if (d.info.min_txid == 1) continue;
    auto prev = ending_at.find(d.info.min_txid - 1);
    if (prev == ending_at.end() ||
        prev->second->header.page_size == d.header.page_size) {
      continue;
    }
    const Pgno lock = ltx::LockPgno(d.header.page_size);
    const uint64_t full = d.header.commit - (lock <= d.header.commit ? 1 : 0);
    if (d.pages == full) continue;
    report->problems.push_back(
        {"chain", VerifyObjectName(d.info),
         VerifyObjectName(d.info) + ": page size " +
             std::to_string(d.header.page_size) +
             " differs from the page size " +
             std::to_string(prev->second->header.page_size) + " of " +
             VerifyObjectName(prev->second->info) +
             ", and it is not a full image of the database (" +
             std::to_string(d.pages) + " of " + std::to_string(full) +
             " pages); a restore through it would mix page sizes"});
  }
}

// -checksums: when the newest restorable chain ends in a file that carries
// a post-apply checksum, apply the chain into a private scratch directory
// and check that the restored pages have it (Execute checks the pre-apply
// chain and the final checksum).
void CheckFinalChecksum(storage::ReplicaClient& replica,
                        const std::vector<storage::FileInfo>& files,
                        const VerifyOptions& options, VerifyReport* report) {
  auto plan = MakePlan(files, Target{}, replica.Describe());
  if (!plan.ok() || plan->files.size() < 2) return;  // listing checks report
  const storage::FileInfo& last = plan->files.back();
  auto opened = replica.OpenFile(last.level, last.min_txid, last.max_txid, 0,
                                 ltx::kHeaderSize);
  if (!opened.ok()) return;  // CheckFiles reported it
  std::vector<uint8_t> head(ltx::kHeaderSize);
  if (!(*opened)->ReadFull(head).ok()) return;
  auto h = ltx::Header::Decode(head);
  if (!h.ok() || h->NoChecksum()) return;
  auto scratch = ScratchDir::Create(options.temp_dir, "litekeep-verify");
  if (!scratch.ok()) {
    report->problems.push_back({"checksum", "", scratch.status().message()});
    return;
  }
  ExecuteOptions exec;
  exec.output = scratch->path() + "/restored.db";
  exec.integrity = IntegrityCheck::kNone;
  exec.parallelism = options.parallelism;
  auto result = Execute(replica, *plan, exec);
  if (!result.ok()) {
    report->problems.push_back(
        {"checksum", VerifyObjectName(last), result.status().message()});
    return;
  }
  report->notes.push_back("restored the chain up to " + VerifyObjectName(last) +
                          ": its post-apply checksum matches the pages");
}

// The live database pinned by a read transaction at a known TXID.
struct LivePin {
  sqlite::Connection conn;
  LivePosition pos;
  uint32_t page_size = 0;
  uint32_t commit = 0;
  std::map<Pgno, int64_t> wal_pages;  // newest frame per page
  std::optional<base::File> wal;
  sqlite::WalHeader wal_header;  // when wal is set
  base::File db;
};

// One attempt: the live database's committed WAL end must equal the
// replicated position (nothing committed beyond it).
Result<std::optional<LivePin>> TryPin(const std::string& path,
                                      const LivePosition& pos) {
  LivePin pin;
  pin.pos = pos;
  LK_ASSIGN_OR_RETURN(pin.conn, sqlite::Connection::Open(path, seconds(5)));
  LK_RETURN_IF_ERROR(sqlite::BeginPinnedRead(pin.conn));
  LK_ASSIGN_OR_RETURN(pin.db, base::File::Open(path, O_RDONLY));
  LK_ASSIGN_OR_RETURN(auto db_header, sqlite::ReadDbHeader(pin.db));
  pin.page_size = db_header.page_size;
  pin.commit = db_header.page_count;
  auto wal = base::File::Open(path + "-wal", O_RDONLY);
  if (wal.ok()) {
    auto h = sqlite::ReadWalHeader(*wal);
    if (h.ok()) {
      LK_ASSIGN_OR_RETURN(
          auto scan,
          sqlite::ScanWal(*wal, *h, sqlite::kWalHeaderSize, h->checksum));
      const int64_t end =
          scan.empty() ? int64_t{sqlite::kWalHeaderSize} : scan.end_offset;
      if (pos.offset == 0) {
        if (!scan.empty()) return std::optional<LivePin>();
      } else if (h->salt1 != pos.salt1 || h->salt2 != pos.salt2 ||
                 end != pos.offset) {
        return std::optional<LivePin>();
      }
      pin.page_size = h->page_size;
      if (scan.commit != 0) pin.commit = scan.commit;
      pin.wal_pages = std::move(scan.pages);
      pin.wal = std::move(*wal);
      pin.wal_header = *h;
    } else if (pos.offset > static_cast<int64_t>(sqlite::kWalHeaderSize)) {
      return std::optional<LivePin>();
    }
  } else if (pos.offset > static_cast<int64_t>(sqlite::kWalHeaderSize)) {
    return std::optional<LivePin>();
  }
  return std::optional<LivePin>(std::move(pin));
}

void ComparePages(const LivePin& pin, const std::string& restored_path,
                  TxId txid, VerifyReport* report) {
  auto restored = base::File::Open(restored_path, O_RDONLY);
  if (!restored.ok()) {
    report->problems.push_back({"compare", "", restored.status().message()});
    return;
  }
  auto size = restored->Size();
  const int64_t restored_pages = size.ok() ? *size / pin.page_size : 0;
  if (restored_pages != pin.commit) {
    report->problems.push_back(
        {"compare", pin.conn.path(),
         "the restored database (TXID " + ltx::FormatTxId(txid) + ") has " +
             std::to_string(restored_pages) + " pages, the live database " +
             pin.conn.path() + " has " + std::to_string(pin.commit) +
             " at the same TXID"});
    return;
  }
  sqlite::ImagePageReader live_pages(pin.db, pin.wal ? &*pin.wal : nullptr,
                                     pin.wal ? &pin.wal_header : nullptr,
                                     pin.wal_pages, pin.page_size);
  std::vector<uint8_t> mine(pin.page_size);
  const Pgno lock = ltx::LockPgno(pin.page_size);
  for (Pgno pgno = 1; pgno <= pin.commit; ++pgno) {
    if (pgno == lock) continue;
    auto live = live_pages.Read(pgno);
    Status s = live.status();
    if (s.ok()) {
      s = restored->ReadFullAt(mine.data(), mine.size(),
                               static_cast<int64_t>(pgno - 1) * pin.page_size);
    }
    if (!s.ok()) {
      report->problems.push_back({"compare", pin.conn.path(), s.message()});
      return;
    }
    if (!std::equal(live->begin(), live->end(), mine.begin(), mine.end())) {
      report->problems.push_back(
          {"compare", "page " + std::to_string(pgno),
           "page " + std::to_string(pgno) +
               " of the restored database differs from the live database " +
               pin.conn.path() + " at the same TXID " + ltx::FormatTxId(txid)});
      return;
    }
  }
  report->compared_live = true;
}

void RunFull(storage::ReplicaClient& replica,
             const std::vector<storage::FileInfo>& files,
             const VerifyOptions& options, VerifyReport* report) {
  std::optional<LivePin> pin;
  if (!options.live_db.empty()) {
    // Pin the live database at the replicated TXID: retry while it settles
    // (unreplicated commits are shipped within the sync interval).
    std::string why =
        "no local state (is `litekeep replicate` running for it?)";
    for (int attempt = 0; attempt < 50 && !pin; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(milliseconds(100));
      auto pos = options.load_position ? options.load_position() : std::nullopt;
      if (!pos) continue;
      why = "it has commits not yet in the replica (replicated TXID " +
            ltx::FormatTxId(pos->txid) + ")";
      auto tried = TryPin(options.live_db, *pos);
      if (!tried.ok()) {
        why = tried.status().message();
        continue;
      }
      if (*tried && options.load_position() == std::optional(*pos)) {
        pin = std::move(*tried);
      }
    }
    if (!pin) {
      report->notes.push_back("live comparison skipped: the live database " +
                              options.live_db +
                              " did not settle at a "
                              "replicated TXID within 5s: " +
                              why);
    }
  }
  Target target;
  std::vector<storage::FileInfo> listed = files;
  if (pin) {
    // The replica may have grown while the live database settled.
    target.txid = pin->pos.txid;
    auto relisted = ListAllFiles(replica);
    if (!relisted.ok()) {
      report->problems.push_back({"restore", "", relisted.status().message()});
      return;
    }
    listed = std::move(*relisted);
  }
  auto plan = MakePlan(listed, target, replica.Describe());
  if (!plan.ok()) {
    report->problems.push_back({"restore", "", plan.status().message()});
    return;
  }
  // A private directory (mkdtemp, 0700): never a predictable name in a
  // shared directory such as /tmp.
  auto scratch = ScratchDir::Create(options.temp_dir, "litekeep-verify");
  if (!scratch.ok()) {
    report->problems.push_back({"restore", "", scratch.status().message()});
    return;
  }
  ExecuteOptions exec;
  exec.output = scratch->path() + "/restored.db";
  // The integrity check runs below, as its own step, so that its failure is
  // reported as an "integrity" problem and every other one as "restore".
  exec.integrity = IntegrityCheck::kNone;
  exec.parallelism = options.parallelism;
  if (options.progress) {
    exec.progress = [&](size_t done, int64_t bytes) {
      options.progress(done, plan->files.size(), bytes, plan->total_bytes);
    };
  }
  auto result = Execute(replica, *plan, exec);
  if (!result.ok()) {
    report->problems.push_back({"restore", "", result.status().message()});
    return;
  }
  if (Status s = CheckIntegrity(exec.output, IntegrityCheck::kFull); !s.ok()) {
    report->problems.push_back({"integrity", "", s.message()});
    return;
  }
  report->restored_txid = result->txid;
  if (pin) ComparePages(*pin, exec.output, result->txid, report);
}

}  // namespace

std::string VerifyObjectName(const storage::FileInfo& f) {
  return "level " + std::to_string(f.level) + " file " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

std::vector<VerifyProblem> CheckListing(
    const std::vector<storage::FileInfo>& files, const ListingPolicy& policy) {
  std::vector<VerifyProblem> out;
  if (files.empty()) {
    out.push_back({"listing", "", "the replica holds no LTX files"});
    return out;
  }
  CheckOverlaps(files, &out);
  CheckSnapshots(files, policy, &out);
  CheckGaps(files, &out);
  return out;
}

Result<VerifyReport> Verify(storage::ReplicaClient& replica,
                            const VerifyOptions& options) {
  std::vector<storage::StaleFile> stale;
  LK_ASSIGN_OR_RETURN(auto files, ListAllFiles(replica, &stale));
  VerifyReport report;
  // Not damage: every reader skips them and the lease holder removes them
  // (docs/architecture.md, "Fencing").
  for (const auto& f : stale) {
    report.notes.push_back("skipped " + f.Describe(replica));
  }
  report.files = files.size();
  for (const auto& f : files) {
    report.bytes += f.size;
    report.max_txid = std::max(report.max_txid, f.max_txid);
  }
  report.problems = CheckListing(files, options.policy);
  if (!options.policy.retention) {
    report.notes.push_back("snapshot age not checked (no retention given)");
  }
  if (options.depth == VerifyDepth::kListing || files.empty()) return report;
  CheckFiles(replica, files, options, &report);
  if (options.depth != VerifyDepth::kFull) {
    if (report.ok()) CheckFinalChecksum(replica, files, options, &report);
    return report;
  }
  if (!report.ok()) {
    report.notes.push_back("full restore skipped: earlier checks failed");
    return report;
  }
  RunFull(replica, files, options, &report);
  return report;
}

}  // namespace litekeep::restore
