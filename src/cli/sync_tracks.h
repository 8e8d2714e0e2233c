// The sync tracks of `replicate` (the config's `sync:` list, docs/sync.md):
// each track's first copy runs before the application starts; tracks with
// watch keep following the bucket on their own threads until stop, with
// metrics and a /healthz entry.
#pragma once

#include <list>
#include <memory>
#include <thread>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "metrics/registry.h"
#include "replicate/runner.h"
#include "sync/syncer.h"

namespace litekeep::cli {

// Builds the Syncer of one config entry (store from its URL).
Result<std::unique_ptr<sync::Syncer>> NewSyncer(const config::SyncConfig& s);

// Publishes a syncer's totals as litekeep_dirsync_* series labelled
// dest=... at each scrape. Returns the collector id.
int AddSyncMetrics(metrics::Registry& registry, const sync::Syncer& syncer,
                   bool watching);

// Sets litekeep_last_sync_timestamp_seconds{sync=<dest>} (what /healthz
// reads) from the syncer's last complete pass; called after each pass of a
// watched track.
void PublishSyncHealth(metrics::Registry& registry, const sync::Syncer& syncer);

class SyncTracks {
 public:
  // metrics may be null.
  SyncTracks(replicate::StopSignal& stop, metrics::Registry* metrics)
      : stop_(stop), metrics_(metrics) {}
  ~SyncTracks() { JoinAll(); }

  // Builds every track and runs its first pass, in order. An error (a track
  // that cannot be built, a first pass that fails) names the track.
  Status Start(const std::vector<config::SyncConfig>& syncs);
  // Starts the watch threads (after Start).
  void Watch();
  // Waits for the watch threads (they end at stop).
  void JoinAll();

 private:
  struct Track {
    config::SyncConfig config;
    std::unique_ptr<sync::Syncer> syncer;
    int collector = 0;
    std::thread thread;
  };
  replicate::StopSignal& stop_;
  metrics::Registry* metrics_;
  std::list<Track> tracks_;
};

}  // namespace litekeep::cli
