// Fencing that readers check (docs/architecture.md, "Fencing").
#include "storage/fence.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/parallel.h"
#include "ltx/file_name.h"
#include "ltx/format.h"

namespace litekeep::storage {

TxId Fences::oldest_since() const {
  TxId oldest = 0;
  for (const FenceEntry& e : entries) {
    if (oldest == 0 || e.since_txid < oldest) oldest = e.since_txid;
  }
  return oldest;
}

std::optional<FenceEntry> Fences::StaleBy(uint64_t node_id,
                                          TxId max_txid) const {
  if (node_id == 0) return std::nullopt;
  std::optional<FenceEntry> by;
  for (const FenceEntry& e : entries) {
    if (e.generation > 0 && static_cast<uint64_t>(e.generation) > node_id &&
        e.since_txid != 0 && e.since_txid <= max_txid &&
        (!by || e.generation < by->generation)) {
      by = e;
    }
  }
  return by;
}

Result<Fences> ParseFences(const std::string& lock_json) {
  nlohmann::json j = nlohmann::json::parse(lock_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::CorruptError("not a JSON object");
  }
  Fences f;
  if (!j.contains("fences") || !j["fences"].is_array()) return f;
  for (const auto& e : j["fences"]) {
    if (!e.is_object() || !e.contains("generation") ||
        !e["generation"].is_number_integer() || !e.contains("since_txid") ||
        !e["since_txid"].is_string()) {
      return base::CorruptError(
          "\"fences\" entries need an integer \"generation\" and a hex "
          "\"since_txid\"");
    }
    FenceEntry entry;
    entry.generation = e["generation"].get<int64_t>();
    LK_ASSIGN_OR_RETURN(entry.since_txid,
                        ltx::ParseTxId(e["since_txid"].get<std::string>()));
    f.entries.push_back(entry);
  }
  return f;
}

Result<Fences> ReadFences(ReplicaClient& replica) {
  // A store that rewrites an object in place (s3rver, some WebDAV and SFTP
  // servers) can show a reader a short copy while the holder replaces it:
  // a copy that does not parse is read again before it is called damaged.
  constexpr int kReads = 3;
  constexpr auto kPause = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    auto obj = replica.ReadVersioned(kLeaseObjectKey);
    if (!obj.ok()) {
      // No lease was ever taken here (or the backend keeps none), or the
      // credentials may read the levels only: nothing to check against.
      if (obj.status().code() == base::Code::kNotFound ||
          obj.status().code() == base::Code::kUnimplemented ||
          obj.status().code() == base::Code::kPermissionDenied) {
        return Fences{};
      }
      return obj.status().WithContext("read the replica lease " +
                                      replica.Describe() + "/" +
                                      kLeaseObjectKey);
    }
    auto fences = ParseFences(obj->data);
    if (fences.ok()) return fences;
    if (attempt == kReads) {
      return base::CorruptError(
          "the replica lease " + replica.Describe() + "/" + kLeaseObjectKey +
          " is not a lease object (" + fences.status().message() + "; read " +
          std::to_string(kReads) +
          " times); if no replicator writes this replica, delete it");
    }
    std::this_thread::sleep_for(kPause);
  }
}

std::string StaleFile::Describe(const ReplicaClient& replica) const {
  return replica.Describe() + " level " + std::to_string(file.level) + " " +
         ltx::FormatFileName(file.min_txid, file.max_txid) +
         ": written by a replicator that had lost its lease (generation " +
         std::to_string(node_id) + "; generation " +
         std::to_string(by.generation) + " took the replica over at TXID " +
         ltx::FormatTxId(by.since_txid) + ")";
}

Result<std::vector<StaleFile>> FindStaleFiles(
    ReplicaClient& replica, const std::vector<FileInfo>& files,
    const Fences& fences, TxId after, int concurrency) {
  std::vector<StaleFile> stale;
  if (fences.empty()) return stale;
  const TxId from = fences.oldest_since();
  std::vector<const FileInfo*> candidates;
  for (const FileInfo& f : files) {
    if (f.max_txid >= from && f.max_txid > after) candidates.push_back(&f);
  }
  std::mutex mu;
  Status first_error;
  base::ParallelFor(candidates.size(), concurrency, [&](size_t i) {
    const FileInfo& f = *candidates[i];
    uint8_t head[ltx::kHeaderSize];
    Status s = [&]() -> Status {
      LK_ASSIGN_OR_RETURN(
          auto r,
          replica.OpenFile(f.level, f.min_txid, f.max_txid, 0, sizeof(head)));
      return r->ReadFull({head, sizeof(head)});
    }();
    if (s.code() == base::Code::kNotFound) return;  // gone since the listing
    std::lock_guard<std::mutex> lock(mu);
    if (!s.ok()) {
      if (first_error.ok()) {
        first_error = s.WithContext(
            "read the LTX header of " + replica.Describe() + " level " +
            std::to_string(f.level) + " " +
            ltx::FormatFileName(f.min_txid, f.max_txid) +
            " (to tell a stale writer's file, docs/architecture.md "
            "\"Fencing\")");
      }
      return;
    }
    auto h = ltx::Header::Decode({head, sizeof(head)});
    if (!h.ok()) return;  // not an LTX header: the reader reports it
    if (auto by = fences.StaleBy(h->node_id, f.max_txid)) {
      stale.push_back(StaleFile{f, h->node_id, *by});
    }
  });
  LK_RETURN_IF_ERROR(first_error);
  std::sort(stale.begin(), stale.end(),
            [](const StaleFile& a, const StaleFile& b) {
              return std::tie(a.file.level, a.file.min_txid, a.file.max_txid) <
                     std::tie(b.file.level, b.file.min_txid, b.file.max_txid);
            });
  return stale;
}

Result<std::vector<StaleFile>> DropStaleFiles(ReplicaClient& replica,
                                              std::vector<FileInfo>* files,
                                              TxId after) {
  LK_ASSIGN_OR_RETURN(Fences fences, ReadFences(replica));
  LK_ASSIGN_OR_RETURN(auto stale,
                      FindStaleFiles(replica, *files, fences, after));
  if (stale.empty()) return stale;
  auto is_stale = [&](const FileInfo& f) {
    for (const StaleFile& s : stale) {
      if (s.file.level == f.level && s.file.min_txid == f.min_txid &&
          s.file.max_txid == f.max_txid) {
        return true;
      }
    }
    return false;
  };
  files->erase(std::remove_if(files->begin(), files->end(), is_stale),
               files->end());
  return stale;
}

}  // namespace litekeep::storage
