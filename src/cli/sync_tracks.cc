// Sync tracks for `replicate`, and the sync metrics shared with `sync`.
#include "cli/sync_tracks.h"

#include <spdlog/spdlog.h>

#include "storage/object_store.h"

namespace litekeep::cli {

Result<std::unique_ptr<sync::Syncer>> NewSyncer(const config::SyncConfig& s) {
  LK_ASSIGN_OR_RETURN(auto store, storage::NewObjectStore(s.source));
  sync::SyncOptions o;
  o.dest = s.dest;
  o.state_path = s.state;
  o.include = s.include;
  o.exclude = s.exclude;
  o.delete_extra = s.delete_extra;
  o.max_size = s.max_size;
  o.max_total_size = s.max_total_size;
  o.parallelism = static_cast<int>(s.parallelism);
  o.interval = s.interval;
  o.max_interval = s.max_interval;
  return sync::Syncer::Create(std::move(store), std::move(o));
}

int AddSyncMetrics(metrics::Registry& registry, const sync::Syncer& syncer,
                   bool watching) {
  using metrics::Type;
  registry.Describe("litekeep_dirsync_objects", Type::kGauge,
                    "Objects in the synced tree (after filters).");
  registry.Describe("litekeep_dirsync_bytes", Type::kGauge,
                    "Bytes in the synced tree (after filters).");
  registry.Describe("litekeep_dirsync_downloads_total", Type::kCounter,
                    "Objects downloaded by sync.");
  registry.Describe("litekeep_dirsync_download_bytes_total", Type::kCounter,
                    "Bytes downloaded by sync.");
  registry.Describe("litekeep_dirsync_deletes_total", Type::kCounter,
                    "Local files removed by sync -delete.");
  registry.Describe("litekeep_dirsync_errors_total", Type::kCounter,
                    "Failed sync passes and objects.");
  registry.Describe("litekeep_dirsync_passes_total", Type::kCounter,
                    "Sync passes (one listing each).");
  registry.Describe("litekeep_dirsync_requests_total", Type::kCounter,
                    "Store requests made by sync, by kind.");
  registry.Describe("litekeep_dirsync_last_success_timestamp_seconds",
                    Type::kGauge,
                    "Unix time of the last sync pass without errors.");
  if (watching) {
    registry.Describe(
        "litekeep_last_sync_timestamp_seconds", Type::kGauge,
        "Start time of the last successful sync (Unix seconds; 0: none yet).");
  }
  const std::string dest = syncer.options().dest;
  return registry.AddCollector([&syncer, dest](metrics::Registry& r) {
    const sync::SyncTotals t = syncer.totals();
    const metrics::Labels l = {{"dest", dest}};
    r.Set("litekeep_dirsync_objects", l, static_cast<double>(t.objects));
    r.Set("litekeep_dirsync_bytes", l, static_cast<double>(t.bytes));
    r.Set("litekeep_dirsync_downloads_total", l,
          static_cast<double>(t.downloads));
    r.Set("litekeep_dirsync_download_bytes_total", l,
          static_cast<double>(t.download_bytes));
    r.Set("litekeep_dirsync_deletes_total", l, static_cast<double>(t.deletes));
    r.Set("litekeep_dirsync_errors_total", l, static_cast<double>(t.errors));
    r.Set("litekeep_dirsync_passes_total", l, static_cast<double>(t.passes));
    r.Set("litekeep_dirsync_requests_total", {{"dest", dest}, {"kind", "list"}},
          static_cast<double>(t.requests.list));
    r.Set("litekeep_dirsync_requests_total", {{"dest", dest}, {"kind", "get"}},
          static_cast<double>(t.requests.get));
    r.Set("litekeep_dirsync_last_success_timestamp_seconds", l, t.last_success);
  });
}

void PublishSyncHealth(metrics::Registry& registry,
                       const sync::Syncer& syncer) {
  registry.Set("litekeep_last_sync_timestamp_seconds",
               {{"sync", syncer.options().dest}}, syncer.totals().last_success);
}

Status SyncTracks::Start(const std::vector<config::SyncConfig>& syncs) {
  for (const auto& s : syncs) {
    const std::string name =
        "sync " + config::Redacted(s.source) + " -> " + s.dest;
    auto syncer = NewSyncer(s);
    if (!syncer.ok()) {
      return Status(syncer.status().code(),
                    name + ": " + syncer.status().message());
    }
    Track& t = tracks_.emplace_back();
    t.config = s;
    t.syncer = std::move(*syncer);
    if (metrics_ != nullptr) {
      t.collector = AddSyncMetrics(*metrics_, *t.syncer, s.watch);
    }
    auto first = t.syncer->Pass();
    if (metrics_ != nullptr && s.watch) PublishSyncHealth(*metrics_, *t.syncer);
    if (!first.ok()) {
      return Status(first.status().code(),
                    name + ": " + first.status().message());
    }
    spdlog::info("{}: {} objects ({} bytes), {} downloaded, {} removed", name,
                 first->objects, first->bytes, first->downloaded,
                 first->deleted);
    if (!first->failed.empty()) {
      return base::UnavailableError(
          name + ": " + std::to_string(first->failed.size()) +
          " object(s) failed, first: " + first->failed.front());
    }
  }
  return Status::Ok();
}

void SyncTracks::Watch() {
  for (Track& t : tracks_) {
    if (!t.config.watch || t.thread.joinable()) continue;
    t.thread = std::thread([this, &t] {
      const std::string dest = t.config.dest;
      t.syncer->Watch(
          [this](std::chrono::milliseconds d) { return stop_.WaitFor(d); },
          [this, &t, dest](const Result<sync::PassStats>& r) {
            if (metrics_ != nullptr) PublishSyncHealth(*metrics_, *t.syncer);
            if (!r.ok()) {
              spdlog::error("sync -> {}: {}", dest, r.status().message());
            } else if (r->changed()) {
              spdlog::info("sync -> {}: {} downloaded, {} removed", dest,
                           r->downloaded, r->deleted);
            }
          });
    });
  }
}

void SyncTracks::JoinAll() {
  for (Track& t : tracks_) {
    if (t.thread.joinable()) t.thread.join();
  }
  if (metrics_ != nullptr) {
    for (Track& t : tracks_) {
      if (t.collector != 0) metrics_->RemoveCollector(t.collector);
      t.collector = 0;
    }
  }
}

}  // namespace litekeep::cli
