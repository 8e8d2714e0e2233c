// Compaction schedule and retention over a ReplicaClient.
#include "replicate/compaction_scheduler.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <tuple>

#include "base/io.h"
#include "ltx/compactor.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "replicate/replica_index.h"
#include "storage/file_chain.h"

namespace litekeep::replicate {
namespace {

using storage::FileInfo;
using Ms = std::chrono::milliseconds;

// A level number for "the local file built by the previous merge pass".
constexpr int kLocalLevel = -1;
// Names of the local files merges are built in: <prefix><pid>-<n><suffix>.
constexpr std::string_view kTempPrefix = "compact-";
constexpr std::string_view kTempSuffix = ".ltx.tmp";
// How soon a failed step is tried again (at most its interval).
constexpr Ms kRetryDelay = std::chrono::minutes(1);

// Start of the interval window holding t, aligned to the Unix epoch.
TimePoint WindowStart(TimePoint t, Ms interval) {
  const int64_t ms =
      std::chrono::duration_cast<Ms>(t.time_since_epoch()).count();
  const int64_t n = interval.count();
  const int64_t floor = ms >= 0 ? ms / n * n : -((-ms + n - 1) / n) * n;
  return TimePoint(Ms(floor));
}

std::string Describe(const FileInfo& f) {
  return "L" + std::to_string(f.level) + " " +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

auto Key(const FileInfo& f) {
  return std::make_tuple(f.level, f.min_txid, f.max_txid);
}

// The file with the highest max TXID (nullptr for none).
const FileInfo* Newest(const std::vector<FileInfo>& files) {
  const FileInfo* best = nullptr;
  for (const auto& f : files) {
    if (best == nullptr || f.max_txid > best->max_txid) best = &f;
  }
  return best;
}

// Merge files left behind by a process that was killed mid-compaction.
void RemoveStaleTempFiles(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(kTempPrefix) && name.ends_with(kTempSuffix)) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

}  // namespace

CompactionScheduler::CompactionScheduler(
    std::shared_ptr<storage::ReplicaClient> replica, CompactionOptions options)
    : replica_(std::move(replica)), options_(std::move(options)) {
  if (options_.level_intervals.size() > ltx::kSnapshotLevel - 1) {
    spdlog::warn(
        "{}: only {} compaction levels are supported; ignoring the rest",
        replica_->Describe(), ltx::kSnapshotLevel - 1);
    options_.level_intervals.resize(ltx::kSnapshotLevel - 1);
  }
  if (options_.temp_dir.empty()) options_.temp_dir = "/tmp";
  RemoveStaleTempFiles(options_.temp_dir);
  for (Ms interval : options_.level_intervals) {
    levels_.push_back(Schedule{interval, std::nullopt});
  }
  snapshot_.interval = options_.snapshot_interval;
  retention_.interval = options_.retention_check_interval;
  l0_retention_.interval = options_.l0_retention_check_interval;
}

Result<bool> CompactionScheduler::Due(Schedule& s, int level, TimePoint now) {
  if (s.interval <= Ms(0)) return false;
  if (s.next) return now >= *s.next;
  if (level < 0) return true;
  // First call: due unless this level already got a file in this window.
  LK_ASSIGN_OR_RETURN(auto files, replica_->ListFiles(level));
  const TimePoint start = WindowStart(now, s.interval);
  const FileInfo* newest = Newest(files);
  if (newest != nullptr && newest->created >= start) {
    s.next = start + s.interval;
    return false;
  }
  return true;
}

TimePoint CompactionScheduler::NextDue(TimePoint now) const {
  TimePoint next = TimePoint::max();
  auto consider = [&](const Schedule& s) {
    if (s.interval <= Ms(0)) return;
    next = std::min(next, s.next ? *s.next : now);
  };
  for (const auto& s : levels_) consider(s);
  consider(snapshot_);
  consider(retention_);
  consider(l0_retention_);
  return next;
}

TimePoint CompactionScheduler::NextUsefulDue(TimePoint now) {
  TimePoint next = TimePoint::max();
  auto consider = [&](const Schedule& s) {
    if (s.interval <= Ms(0)) return;
    next = std::min(next, s.next ? *s.next : now);
  };
  // Newest max TXID of each level's change files and of all its files;
  // unknown (a failed listing) counts as useful work.
  std::vector<TxId> newest_change(ltx::kSnapshotLevel + 1, 0);
  std::vector<TxId> newest_any(ltx::kSnapshotLevel + 1, 0);
  size_t l0_files = 0;
  for (int level = 0; level <= ltx::kSnapshotLevel; ++level) {
    auto files = replica_->ListFiles(level);
    if (!files.ok()) return std::min(NextDue(now), now + Ms(1000));
    if (level == 0) l0_files = files->size();
    for (const auto& f : *files) {
      newest_any[level] = std::max(newest_any[level], f.max_txid);
      if (f.min_txid != 1) {
        newest_change[level] = std::max(newest_change[level], f.max_txid);
      }
    }
  }
  TxId newest = 0;
  for (int level = 0; level < ltx::kSnapshotLevel; ++level) {
    newest = std::max(newest, newest_any[level]);
  }
  for (size_t i = 0; i < levels_.size(); ++i) {
    if (newest_change[i] > newest_any[i + 1]) consider(levels_[i]);
  }
  if (newest > newest_any[ltx::kSnapshotLevel]) consider(snapshot_);
  if (l0_files > 1) consider(l0_retention_);
  consider(retention_);
  return next;
}

Result<CompactionReport> CompactionScheduler::RunDue(TimePoint now) {
  CompactionReport report;
  // After a step ran (or failed), when it is next due.
  auto reschedule = [now](Schedule& s, bool ok) {
    s.next = ok ? WindowStart(now, s.interval) + s.interval
                : now + std::min(s.interval, kRetryDelay);
  };
  for (size_t i = 0; i < levels_.size(); ++i) {
    const int level = static_cast<int>(i) + 1;
    LK_ASSIGN_OR_RETURN(bool due, Due(levels_[i], level, now));
    if (!due) continue;
    auto written = CompactLevel(level);
    reschedule(levels_[i], written.ok());
    if (!written.ok()) {
      return written.status().WithContext("compact level " +
                                          std::to_string(level));
    }
    report.written.insert(report.written.end(), written->begin(),
                          written->end());
  }
  bool snapshot_ran = false;
  LK_ASSIGN_OR_RETURN(bool snapshot_due,
                      Due(snapshot_, ltx::kSnapshotLevel, now));
  if (snapshot_due) {
    auto written = Snapshot();
    reschedule(snapshot_, written.ok());
    if (!written.ok()) return written.status().WithContext("snapshot");
    if (written->has_value()) {
      report.written.push_back(**written);
      snapshot_ran = true;  // a new anchor may let retention delete more
    }
  }
  LK_ASSIGN_OR_RETURN(bool retention_due, Due(retention_, -1, now));
  if (snapshot_ran || retention_due) {
    auto deleted = EnforceRetention(now);
    if (retention_.interval > Ms(0)) reschedule(retention_, deleted.ok());
    if (!deleted.ok()) return deleted.status().WithContext("retention");
    report.deleted.insert(report.deleted.end(), deleted->begin(),
                          deleted->end());
  }
  LK_ASSIGN_OR_RETURN(bool l0_due, Due(l0_retention_, -1, now));
  if (l0_due) {
    auto deleted = EnforceL0Retention(now);
    reschedule(l0_retention_, deleted.ok());
    if (!deleted.ok()) return deleted.status().WithContext("L0 retention");
    report.deleted.insert(report.deleted.end(), deleted->begin(),
                          deleted->end());
  }
  return report;
}

Result<std::vector<FileInfo>> CompactionScheduler::CompactLevel(int level) {
  if (level < 1 || level >= ltx::kSnapshotLevel) {
    return base::InvalidArgumentError(
        "compaction level " + std::to_string(level) + " is not in 1..8");
  }
  LK_ASSIGN_OR_RETURN(auto dst, replica_->ListFiles(level));
  LK_ASSIGN_OR_RETURN(auto src_all, replica_->ListFiles(level - 1));
  LK_ASSIGN_OR_RETURN(auto l9, replica_->ListFiles(ltx::kSnapshotLevel));
  // Full images (min TXID 1) belong to the snapshot level: a change level
  // never copies one, it starts after it (docs/architecture.md, "Levels:
  // one image, changes"). Their ends are where a change level may resume.
  std::vector<FileInfo> src;
  std::vector<TxId> image_ends;
  for (const auto& f : src_all) {
    if (f.min_txid == 1) {
      image_ends.push_back(f.max_txid);
    } else {
      src.push_back(f);
    }
  }
  for (const auto& f : l9) image_ends.push_back(f.max_txid);
  const FileInfo* newest_dst = Newest(dst);
  TxId cur = newest_dst ? newest_dst->max_txid : 0;
  const FileInfo* newest_src = Newest(src);
  std::vector<FileInfo> written;
  if (newest_src == nullptr || newest_src->max_txid <= cur) return written;
  const TxId limit = newest_src->max_txid;
  while (cur < limit) {
    // Normally the source continues right after the destination. Where it
    // does not, it resumes after a full image (written after lost
    // continuity or a page-size change: the chain runs through that
    // snapshot), or the level is new, or retention removed source files
    // before this level took them (that range is older than every retained
    // snapshot and no restore needs it).
    const bool continues = std::any_of(
        src.begin(), src.end(),
        [cur](const FileInfo& f) { return storage::Continues(f, cur); });
    if (!continues) {
      TxId first = std::numeric_limits<TxId>::max();
      for (const auto& f : src) {
        if (f.max_txid > cur) first = std::min(first, f.min_txid);
      }
      const bool after_image = std::find(image_ends.begin(), image_ends.end(),
                                         first - 1) != image_ends.end();
      if (!after_image && (newest_dst != nullptr || !written.empty())) {
        spdlog::warn("{}: level {} has a gap after TXID {}; resuming at {}",
                     replica_->Describe(), level - 1, ltx::FormatTxId(cur),
                     ltx::FormatTxId(first));
      }
      cur = first - 1;
    }
    TxId reached = cur;
    auto chain = storage::GreedyChain(src, cur, limit, &reached);
    if (chain.empty()) break;
    LK_ASSIGN_OR_RETURN(FileInfo out, MergeAndUpload(chain, level));
    spdlog::debug("{}: compacted {} file(s) of level {} into {} ({} bytes)",
                  replica_->Describe(), chain.size(), level - 1, Describe(out),
                  out.size);
    written.push_back(out);
    cur = reached;
  }
  return written;
}

Result<std::optional<FileInfo>> CompactionScheduler::Snapshot() {
  LK_ASSIGN_OR_RETURN(auto all,
                      storage::ListLevels(*replica_, 0, ltx::kMaxLevel));
  const FileInfo* newest = Newest(all);
  if (newest == nullptr) return std::optional<FileInfo>();
  const TxId max = newest->max_txid;
  const FileInfo* base = storage::NewestSnapshot(all, max);
  if (base == nullptr) {
    return base::FailedPreconditionError(
        "replica " + replica_->Describe() +
        " holds no snapshot (no file starts at TXID 1) to build one from");
  }
  if (base->level == ltx::kSnapshotLevel && base->max_txid == max) {
    return std::optional<FileInfo>();
  }
  TxId reached = 0;
  auto chain = storage::GreedyChain(all, base->max_txid, max, &reached);
  if (reached < max) {
    return base::CorruptError("replica " + replica_->Describe() +
                              " has a gap: no LTX file starts at TXID " +
                              ltx::FormatTxId(reached + 1) +
                              "; snapshot not written");
  }
  std::vector<FileInfo> inputs{*base};
  inputs.insert(inputs.end(), chain.begin(), chain.end());
  LK_ASSIGN_OR_RETURN(FileInfo written,
                      MergeAndUpload(inputs, ltx::kSnapshotLevel));
  spdlog::info("{}: snapshot {} written from {} file(s) ({} bytes)",
               replica_->Describe(), Describe(written), inputs.size(),
               written.size);
  return std::optional<FileInfo>(written);
}

Result<std::string> CompactionScheduler::MergeToLocal(
    const std::vector<FileInfo>& inputs, const std::string& local_first,
    const std::string& path) {
  std::vector<std::unique_ptr<base::Reader>> readers;
  std::vector<ltx::CompactInput> compact_inputs;
  for (const auto& f : inputs) {
    std::string name = ltx::FormatFileName(f.min_txid, f.max_txid);
    if (f.level == kLocalLevel) {
      LK_ASSIGN_OR_RETURN(base::File file,
                          base::File::Open(local_first, O_RDONLY));
      readers.push_back(std::make_unique<base::FileReader>(std::move(file)));
      name = local_first;
    } else {
      LK_ASSIGN_OR_RETURN(auto reader,
                          replica_->OpenFile(f.level, f.min_txid, f.max_txid));
      readers.push_back(std::move(reader));
      name = "L" + std::to_string(f.level) + "/" + name;
    }
    compact_inputs.push_back({readers.back().get(), name});
  }
  // The name is predictable: never open an existing file or symlink.
  LK_ASSIGN_OR_RETURN(
      base::File out,
      base::File::Open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
  base::FileWriter writer(&out);
  ltx::CompactOptions compact_options;
  compact_options.encoding = options_.page_encoding;
  compact_options.node_id = options_.node_id;
  auto merged = ltx::Compact(compact_inputs, &writer, compact_options);
  Status closed = out.Close();
  if (!merged.ok() || !closed.ok()) {
    ::unlink(path.c_str());
    return merged.ok() ? closed : merged.status();
  }
  return path;
}

Result<FileInfo> CompactionScheduler::MergeAndUpload(
    const std::vector<FileInfo>& inputs, int level) {
  LK_RETURN_IF_ERROR(base::MakeDirs(options_.temp_dir)
                         .WithContext("create compaction directory"));
  const std::string prefix = options_.temp_dir + "/" +
                             std::string(kTempPrefix) +
                             std::to_string(::getpid()) + "-";
  // More inputs than kMaxInputs are merged in passes: each pass folds the
  // previous pass's local file with the next inputs.
  std::vector<FileInfo> rest = inputs;
  std::string local;
  auto remove_local = [&local]() {
    if (!local.empty()) ::unlink(local.c_str());
  };
  for (;;) {
    const size_t n = std::min(rest.size(), kMaxInputs);
    std::vector<FileInfo> batch(rest.begin(), rest.begin() + n);
    rest.erase(rest.begin(), rest.begin() + n);
    const std::string path =
        prefix + std::to_string(++temp_seq_) + std::string(kTempSuffix);
    auto merged = MergeToLocal(batch, local, path);
    remove_local();
    if (!merged.ok()) return merged.status();
    local = *merged;
    if (rest.empty()) break;
    FileInfo placeholder = batch.front();
    placeholder.level = kLocalLevel;
    placeholder.max_txid = batch.back().max_txid;
    rest.insert(rest.begin(), placeholder);
  }

  auto upload = [&]() -> Result<FileInfo> {
    LK_ASSIGN_OR_RETURN(base::File file, base::File::Open(local, O_RDONLY));
    uint8_t raw[ltx::kHeaderSize];
    LK_RETURN_IF_ERROR(file.ReadFullAt(raw, sizeof(raw), 0));
    LK_ASSIGN_OR_RETURN(ltx::Header h, ltx::Header::Decode(raw));
    LK_ASSIGN_OR_RETURN(int64_t size, file.Size());
    FileInfo info;
    info.level = level;
    info.min_txid = h.min_txid;
    info.max_txid = h.max_txid;
    info.size = size;
    info.created = TimePoint(Ms(h.timestamp_ms));
    base::FileReader reader(std::move(file));
    LK_RETURN_IF_ERROR(replica_->WriteFile(info, reader)
                           .WithContext("upload " + Describe(info) + " to " +
                                        replica_->Describe()));
    return info;
  };
  auto info = upload();
  remove_local();
  return info;
}

Status CompactionScheduler::DeleteChecked(const std::vector<FileInfo>& all,
                                          const std::vector<FileInfo>& doomed,
                                          const std::string& what) {
  if (doomed.empty()) return Status::Ok();
  std::vector<decltype(Key(doomed.front()))> doomed_keys;
  for (const auto& f : doomed) doomed_keys.push_back(Key(f));
  std::sort(doomed_keys.begin(), doomed_keys.end());
  std::vector<FileInfo> kept;
  for (const auto& f : all) {
    if (!std::binary_search(doomed_keys.begin(), doomed_keys.end(), Key(f))) {
      kept.push_back(f);
    }
  }
  // The invariant: every file we keep that a restore could reach before is
  // still reachable after (so every restorable TXID at or after the oldest
  // kept snapshot still is, through the same or a coarser file).
  if (const FileInfo* f = storage::FirstStranded(all, kept)) {
    return base::InternalError(
        what + " would leave " + Describe(*f) + " of " + replica_->Describe() +
        " without a chain from a snapshot; nothing deleted");
  }
  LK_RETURN_IF_ERROR(replica_->DeleteFiles(doomed).WithContext(
      what + ": delete files of " + replica_->Describe()));
  spdlog::info("{}: {} deleted {} file(s), {} .. {}", replica_->Describe(),
               what, doomed.size(), Describe(doomed.front()),
               Describe(doomed.back()));
  return Status::Ok();
}

Result<std::vector<FileInfo>> CompactionScheduler::EnforceRetention(
    TimePoint now) {
  if (!options_.retention_enabled || options_.retention <= Ms(0))
    return std::vector<FileInfo>();
  // The one place the replica is listed again: files written or deleted by
  // someone else since the last check enter the index here.
  if (auto* index = dynamic_cast<IndexedReplica*>(replica_.get())) {
    LK_RETURN_IF_ERROR(index->Reconcile().WithContext("list the replica"));
  }
  LK_ASSIGN_OR_RETURN(auto all,
                      storage::ListLevels(*replica_, 0, ltx::kMaxLevel));
  const TimePoint cutoff = now - options_.retention;
  const FileInfo* anchor = nullptr;  // newest snapshot created by cutoff
  const FileInfo* oldest = nullptr;  // else the oldest snapshot
  for (const auto& f : all) {
    if (f.min_txid != 1) continue;
    if (oldest == nullptr || f.max_txid < oldest->max_txid) oldest = &f;
    if (f.created <= cutoff &&
        (anchor == nullptr || f.max_txid > anchor->max_txid)) {
      anchor = &f;
    }
  }
  if (anchor == nullptr) anchor = oldest;
  if (anchor == nullptr) return std::vector<FileInfo>();
  std::map<int, TxId> newest;  // level -> newest max TXID
  for (const auto& f : all) {
    newest[f.level] = std::max(newest[f.level], f.max_txid);
  }
  const bool has_l1 = !options_.level_intervals.empty();
  const TxId l1_max = newest.count(1) ? newest[1] : 0;
  std::vector<FileInfo> doomed;
  for (const auto& f : all) {
    if (f.max_txid >= anchor->max_txid) continue;
    if (f.max_txid == newest[f.level]) continue;  // compaction resumes there
    if (f.level == 0 && has_l1 && f.max_txid > l1_max) continue;  // not in L1
    doomed.push_back(f);
  }
  LK_RETURN_IF_ERROR(DeleteChecked(all, doomed, "retention"));
  return doomed;
}

Result<std::vector<FileInfo>> CompactionScheduler::EnforceL0Retention(
    TimePoint now) {
  if (options_.l0_retention <= Ms(0) || options_.level_intervals.empty()) {
    return std::vector<FileInfo>();
  }
  LK_ASSIGN_OR_RETURN(auto all,
                      storage::ListLevels(*replica_, 0, ltx::kMaxLevel));
  const TimePoint cutoff = now - options_.l0_retention;
  // The end of the run of L1 files, in TXID order, that were all created
  // by the cutoff: L0 files up to there are in L1 and old enough.
  std::vector<FileInfo> l1;
  std::vector<FileInfo> l0;
  for (const auto& f : all) {
    if (f.level == 1) l1.push_back(f);
    if (f.level == 0) l0.push_back(f);
  }
  std::sort(l1.begin(), l1.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.max_txid < b.max_txid;
  });
  TxId upto = 0;
  for (const auto& f : l1) {
    if (f.created > cutoff) break;
    upto = f.max_txid;
  }
  const FileInfo* newest_l0 = Newest(l0);
  std::vector<FileInfo> doomed;
  for (const auto& f : l0) {
    // A full image in L0 (written by an older release) goes with snapshot
    // retention: no L1 file holds it.
    if (f.min_txid == 1) continue;
    if (f.max_txid <= upto && &f != newest_l0) doomed.push_back(f);
  }
  // Deletes are batched: one request once the oldest doomed file has been in
  // L1 for two l0-retention periods, not one per L1 window (the files kept
  // meanwhile only make restores finer).
  if (!doomed.empty()) {
    const TimePoint batch_cutoff = now - 2 * options_.l0_retention;
    const TxId oldest = doomed.front().max_txid;
    bool old_enough = false;
    for (const auto& f : l1) {
      if (f.max_txid >= oldest) {
        old_enough = f.created <= batch_cutoff;
        break;
      }
    }
    if (!old_enough) doomed.clear();
  }
  LK_RETURN_IF_ERROR(DeleteChecked(all, doomed, "L0 retention"));
  return doomed;
}

}  // namespace litekeep::replicate
