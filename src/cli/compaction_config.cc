// Config -> replicate::CompactionOptions.
#include "cli/compaction_config.h"

namespace litekeep::cli {

replicate::CompactionOptions CompactionOptionsFor(
    const config::Config& cfg, const config::DbConfig& db,
    const config::ReplicaConfig& replica, const std::string& temp_dir) {
  replicate::CompactionOptions o;
  if (cfg.levels) {  // else the compactor's default levels
    o.level_intervals.clear();
    for (const auto& level : *cfg.levels)
      o.level_intervals.push_back(level.interval);
  }
  o.snapshot_interval = replica.snapshot_interval.value_or(
      db.snapshot_interval.value_or(cfg.snapshot_interval));
  o.retention =
      replica.retention.value_or(db.snapshot_retention.value_or(cfg.retention));
  o.retention_check_interval =
      replica.retention_check_interval.value_or(cfg.retention_check_interval);
  o.retention_enabled = cfg.retention_enabled;
  o.l0_retention = cfg.l0_retention;
  o.l0_retention_check_interval = cfg.l0_retention_check_interval;
  o.temp_dir = temp_dir;
  o.page_encoding = replica.page_encoding.value_or(ltx::PageEncoding::kBlock);
  return o;
}

}  // namespace litekeep::cli
