// Local replication status from position.json, status.json and the WAL.
#include "replicate/local_status.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "sqlite/wal.h"

namespace litekeep::replicate {
namespace {

int64_t ToMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
      .count();
}
TimePoint FromMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

TimePoint MTime(const struct stat& st) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) +
      std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// True when the WAL holds committed frames the position does not cover.
bool HasPending(const std::string& db_path, const Position& pos) {
  auto wal = base::File::Open(db_path + "-wal", O_RDONLY);
  if (!wal.ok()) return pos.offset > static_cast<int64_t>(sqlite::kWalHeaderSize);
  auto header = sqlite::ReadWalHeader(*wal);
  if (!header.ok()) {
    return pos.offset > static_cast<int64_t>(sqlite::kWalHeaderSize);
  }
  if (header->page_size != pos.page_size) return true;
  if (pos.SameGeneration(*header)) {
    auto scan = sqlite::ScanWal(*wal, *header, pos.offset, pos.checksum);
    return !scan.ok() || !scan->empty();
  }
  auto scan = sqlite::ScanWal(*wal, *header, sqlite::kWalHeaderSize,
                              header->checksum);
  return !scan.ok() || !scan->empty();
}

}  // namespace

std::optional<RunRecord> LoadRunRecord(const std::string& meta_dir) {
  auto text = base::ReadFileToString(meta_dir + "/status.json");
  if (!text.ok()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  RunRecord r;
  r.pid = j.value("pid", int64_t{0});
  r.started = FromMs(j.value("started_ms", int64_t{0}));
  r.last_ok = FromMs(j.value("last_ok_ms", int64_t{0}));
  r.last_error_at = FromMs(j.value("last_error_ms", int64_t{0}));
  r.last_error = j.value("last_error", std::string());
  r.stopped = FromMs(j.value("stopped_ms", int64_t{0}));
  return r;
}

Status SaveRunRecord(const std::string& meta_dir, const RunRecord& r) {
  nlohmann::json j = {{"pid", r.pid},
                      {"started_ms", ToMs(r.started)},
                      {"last_ok_ms", ToMs(r.last_ok)},
                      {"last_error_ms", ToMs(r.last_error_at)},
                      {"last_error", r.last_error},
                      {"stopped_ms", ToMs(r.stopped)}};
  return base::WriteFileAtomic(meta_dir + "/status.json", j.dump(2) + "\n");
}

LocalStatus ComputeLocalStatus(const std::string& db_path,
                               const std::optional<Position>& position) {
  LocalStatus s;
  s.db_path = db_path;
  s.position = position;
  struct stat st;
  s.db_exists = ::stat(db_path.c_str(), &st) == 0;
  if (::stat((db_path + "-wal").c_str(), &st) == 0) s.wal_size = st.st_size;
  if (position) {
    s.replicated_txid = position->txid;
    s.pending = s.db_exists && HasPending(db_path, *position);
  } else {
    s.pending = s.db_exists;
  }
  s.local_txid = s.replicated_txid + (s.pending ? 1 : 0);
  return s;
}

LocalStatus ReadLocalStatus(const std::string& db_path,
                            const std::string& meta_dir) {
  const std::string path = meta_dir + "/position.json";
  LocalStatus s = ComputeLocalStatus(db_path, LoadPosition(path));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) s.position_saved = MTime(st);
  return s;
}

}  // namespace litekeep::replicate
