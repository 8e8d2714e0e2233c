// `litekeep restore`: rebuild a database from a replica (newest state, or a
// TXID / timestamp), with -dry-run to print the plan.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/follow_cmd.h"
#include "cli/legacy_restore.h"
#include "cli/parse.h"
#include "cli/progress.h"
#include "config/config.h"
#include "ltx/file_name.h"
#include "replicate/lineage.h"
#include "replicate/replicator.h"
#include "restore/executor.h"
#include "restore/planner.h"

namespace litekeep::cli {
namespace {

// Checks the follow-mode flags against the others; the error is a usage
// message.
Result<restore::FollowOptions> FollowFlags(bool follow,
                                           const std::string& interval,
                                           const std::string& exec_cmd,
                                           const restore::Target& target,
                                           bool dry_run, bool if_db_not_exists,
                                           const std::string& layout) {
  restore::FollowOptions o;
  if (!follow) {
    if (!exec_cmd.empty()) {
      return base::InvalidArgumentError("-exec needs follow mode (-f)");
    }
    return o;
  }
  if (target.txid || target.timestamp || dry_run || if_db_not_exists ||
      layout == "generations") {
    return base::InvalidArgumentError(
        "follow mode (-f) follows the newest state of an LTX replica: it "
        "cannot be combined with -txid, -timestamp, -dry-run, "
        "-if-db-not-exists or -layout generations (to overwrite, use -force)");
  }
  auto d = config::ParseDuration(interval);
  if (!d.ok() || *d <= std::chrono::milliseconds(0)) {
    return base::InvalidArgumentError("invalid -follow-interval \"" + interval +
                                      "\": use a positive duration such as 1s");
  }
  o.interval = *d;
  o.max_interval = std::max(*d, std::chrono::milliseconds(10000));
  return o;
}

}  // namespace

int RunRestore(const std::vector<std::string>& args) {
  CLI::App app{
      "Restores a database from a replica into a new file.\n\n"
      "TARGET is a database path from the config file (its replica is used\n"
      "and the database path is the default output) or a replica URL\n"
      "(file:///dir, /dir, s3://bucket/path, ...). The database is rebuilt in\n"
      "a private directory beside OUTPUT, checked, and renamed to OUTPUT only\n"
      "when complete (mode 0600); nothing is left behind on an error or on\n"
      "SIGINT/SIGTERM.",
      "litekeep restore"};
  std::string target_arg, output, config_path, txid_text, timestamp_text;
  std::string integrity = "quick";
  bool no_expand_env = false, if_db_not_exists = false,
       if_replica_exists = false, dry_run = false, json = false, force = false;
  int parallelism = 8;
  app.add_option("target", target_arg, "database path or replica URL")
      ->required();
  app.add_option(
      "-o,--o,--output", output,
      "output database path (default: the database path from the config)");
  std::string replica_name;
  app.add_option("--replica", replica_name,
                 "which replica of a database with several (its name: "
                 "default the newest)");
  app.add_option("--config", config_path,
                 "config file (default $LITEKEEP_CONFIG, "
                 "/etc/litekeep.yml, /etc/litestream.yml)");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_option("--txid", txid_text, "restore up to this TXID (hex)");
  app.add_option(
      "--timestamp", timestamp_text,
      "restore the newest state created at or before this RFC 3339 time");
  app.add_option("--parallelism", parallelism,
                 "ranged downloads in flight from a remote replica (default 8)")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--if-db-not-exists", if_db_not_exists,
               "do nothing (exit 0) when the output database already exists");
  app.add_flag("--if-replica-exists", if_replica_exists,
               "do nothing (exit 0) when the replica holds no backup");
  app.add_option(
         "--integrity-check", integrity,
         "check the result before renaming it: none, quick (default), full")
      ->check(CLI::IsMember({"none", "quick", "full"}));
  app.add_flag("--dry-run", dry_run, "print the restore plan and exit");
  app.add_flag("--json", json, "print the result as one JSON object");
  app.add_flag("--force", force, "replace an existing output database");
  // Follow mode (docs/follow.md): -f is follow, as in Litestream 0.5.
  bool follow = false;
  std::string follow_interval = "1s", exec_cmd;
  app.add_flag(
      "-f,--follow", follow,
      "follow mode: keep OUTPUT current with the replica (read replica)");
  app.add_option("--follow-interval", follow_interval,
                 "follow mode: poll interval (default 1s)");
  app.add_option("--exec", exec_cmd,
                 "follow mode: run this command and stop when it exits");
  // Litestream 0.3 replicas (generations/): docs/migrating.md.
  std::string generation, index_text, layout = "auto";
  app.add_option("--generation", generation,
                 "Litestream 0.3: restore from this generation");
  app.add_option(
      "--index", index_text,
      "Litestream 0.3: restore up to this WAL index (hex, inclusive)");
  app.add_option("--layout", layout,
                 "replica layout to read: auto (default), ltx, generations")
      ->check(CLI::IsMember({"auto", "ltx", "generations"}));
  if (auto code = ParseArgs(app, args)) return *code;

  if (!txid_text.empty() && !timestamp_text.empty()) {
    std::fprintf(stderr,
                 "error: -txid and -timestamp cannot be used together\n");
    return 2;
  }
  restore::Target target;
  if (!txid_text.empty()) {
    auto t = ltx::ParseTxId(txid_text);
    if (!t.ok()) return ReportError(t.status());
    target.txid = *t;
  }
  if (!timestamp_text.empty()) {
    auto t = base::ParseRfc3339(timestamp_text);
    if (!t.ok()) return ReportError(t.status());
    target.timestamp = *t;
  }
  restore::legacy::Options legacy_options;
  legacy_options.generation = generation;
  legacy_options.timestamp = target.timestamp;
  if (!index_text.empty()) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(index_text.c_str(), &end, 16);
    if (end == index_text.c_str() || *end != '\0' || v > 0xffffffffULL) {
      std::fprintf(stderr,
                   "error: invalid -index \"%s\": use a hex WAL index\n",
                   index_text.c_str());
      return 2;
    }
    if (target.timestamp) {
      std::fprintf(stderr,
                   "error: -index and -timestamp cannot be used together\n");
      return 2;
    }
    legacy_options.index = static_cast<uint32_t>(v);
  }
  auto integrity_mode = restore::ParseIntegrityCheck(integrity);
  if (!integrity_mode.ok()) return ReportError(integrity_mode.status());
  auto follow_options = FollowFlags(follow, follow_interval, exec_cmd, target,
                                    dry_run, if_db_not_exists, layout);
  if (!follow_options.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 follow_options.status().message().c_str());
    return 2;
  }

  auto cfg = LoadConfig(config_path, !no_expand_env, false);
  if (!cfg.ok()) return ReportError(cfg.status());
  if (cfg->has_value()) InitLogging((*cfg)->logging);
  auto resolved = ResolveTarget(target_arg, *cfg, replica_name);
  if (!resolved.ok()) return ReportError(resolved.status());
  if (output.empty()) {
    if (!resolved->db) {
      std::fprintf(stderr,
                   "error: restoring from a replica URL needs -o OUTPUT\n");
      return 2;
    }
    output = resolved->db->path;
  }
  output = AbsolutePath(output);
  if (if_db_not_exists && base::PathExists(output)) {
    std::fprintf(stderr, "database %s already exists, skipping restore\n",
                 output.c_str());
    return 0;
  }
  auto replica = OpenReplica(resolved->replica);
  if (!replica.ok()) return ReportError(replica.status());
  // Only a -timestamp plan compares creation times: the listing's own
  // times will do, and the few that decide the target are made exact below
  // (docs/cli/restore.md, "Requests"). Follow mode's lag is the time since
  // the newest file reached the replica, which the listing gives (S3:
  // LastModified) without a HEAD per new file (docs/follow.md).
  (*replica)->SetCreatedTimes(storage::CreatedTimes::kListed);
  if (follow) {
    // Log lines go to stderr; stdout carries the -json lines.
    if (!cfg->has_value()) InitLogging(config::LoggingConfig{});
    follow_options->output = output;
    follow_options->force = force;
    follow_options->integrity = *integrity_mode;
    follow_options->parallelism = parallelism;
    return RunFollowMode(**replica, *follow_options, json, exec_cmd);
  }
  std::vector<storage::StaleFile> stale;
  auto files = restore::ListAllFiles(**replica, &stale);
  if (!files.ok()) return ReportError(files.status());
  for (const auto& f : stale) {  // docs/architecture.md, "Fencing"
    std::fprintf(stderr, "skipping %s\n", f.Describe(**replica).c_str());
  }
  auto catalog = restore::legacy::ReadCatalog(**replica);
  if (!catalog.ok()) return ReportError(catalog.status());
  if (files->empty() && catalog->empty() && if_replica_exists) {
    std::fprintf(stderr, "no backups found in %s, skipping restore\n",
                 resolved->display.c_str());
    return 0;
  }
  // SIGINT/SIGTERM remove the temporary files (LTX and Litestream 0.3
  // restores) before the process dies.
  restore::InstallSignalCleanup();
  auto layout_choice =
      ChooseRestoreLayout(layout, *files, *catalog, legacy_options,
                          target.txid.has_value(), resolved->display);
  if (!layout_choice.ok()) return ReportError(layout_choice.status());
  if (layout_choice->layout == RestoreLayout::kLegacy) {
    spdlog::info("restoring from Litestream 0.3 generations ({})",
                 layout_choice->why);
    auto legacy_plan =
        restore::legacy::MakePlan(*catalog, legacy_options, resolved->display);
    if (!legacy_plan.ok()) return ReportError(legacy_plan.status());
    return RunLegacyRestore(**replica, *legacy_plan, output, force,
                            if_db_not_exists, *integrity_mode, integrity,
                            dry_run, json);
  }
  if (target.txid && !files->empty()) {
    TxId newest = 0;
    for (const auto& f : *files) newest = std::max(newest, f.max_txid);
    if (*target.txid > newest) {
      return ReportError(base::NotFoundError(
          "-txid " + ltx::FormatTxId(*target.txid) + " is past the end of " +
          resolved->display + ": the replica's newest TXID is " +
          ltx::FormatTxId(newest)));
    }
  }
  constexpr int kTimeLookups = 16;  // creation-time requests in flight
  if (target.timestamp) {
    auto asked = restore::ResolveTimestampTimes(
        **replica, &*files, *target.timestamp, kTimeLookups);
    if (!asked.ok()) return ReportError(asked.status());
    spdlog::debug("-timestamp: exact creation times of {} of {} files", *asked,
                  files->size());
  }
  auto plan = restore::MakePlan(*files, target, resolved->display);
  if (!plan.ok()) return ReportError(plan.status());
  if (!plan->note.empty())
    std::fprintf(stderr, "note: %s\n", plan->note.c_str());

  if (dry_run) {
    // The plan prints creation times: exact ones.
    Status exact =
        restore::MakeCreatedTimesExact(**replica, &plan->files, kTimeLookups);
    if (!exact.ok()) return ReportError(exact);
    if (json) {
      nlohmann::json j;
      j["txid"] = ltx::FormatTxId(plan->txid);
      j["total_bytes"] = plan->total_bytes;
      j["output"] = output;
      for (const auto& f : plan->files) {
        j["files"].push_back({{"level", f.level},
                              {"min_txid", ltx::FormatTxId(f.min_txid)},
                              {"max_txid", ltx::FormatTxId(f.max_txid)},
                              {"size", f.size},
                              {"created", base::FormatRfc3339(f.created)}});
      }
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("%-5s  %-16s  %-16s  %12s  %s\n", "level", "min_txid",
                  "max_txid", "size", "created");
      for (const auto& f : plan->files) {
        std::printf("%-5d  %s  %s  %12" PRId64 "  %s\n", f.level,
                    ltx::FormatTxId(f.min_txid).c_str(),
                    ltx::FormatTxId(f.max_txid).c_str(), f.size,
                    base::FormatRfc3339(f.created).c_str());
      }
      std::printf("restore would write TXID %s to %s: %zu files, %" PRId64
                  " bytes\n",
                  ltx::FormatTxId(plan->txid).c_str(), output.c_str(),
                  plan->files.size(), plan->total_bytes);
    }
    return 0;
  }

  restore::ExecuteOptions opts;
  opts.output = output;
  opts.force = force;
  opts.integrity = *integrity_mode;
  opts.parallelism = parallelism;
  {  // Progress bar on a terminal only (docs/cli/restore.md).
    auto bar = std::make_shared<ProgressBar>("restore", !json);
    if (bar->active()) {
      opts.progress = [bar, n = plan->files.size(), total = plan->total_bytes](
                          size_t done, int64_t bytes) {
        bar->Update(done, n, bytes, total);
      };
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto result = restore::Execute(**replica, *plan, opts);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  opts.progress = nullptr;  // ends the progress line before the summary
  if (!result.ok()) {
    return RestoreFailed(result.status(), output, if_db_not_exists);
  }
  {
    // Lineage guard: a replicate started on this file continues the
    // replica's history (docs/architecture.md).
    const std::string meta = resolved->db && !resolved->db->meta_path.empty() &&
                                     AbsolutePath(resolved->db->path) == output
                                 ? resolved->db->meta_path
                                 : replicate::DefaultMetaDir(output);
    Status rec = replicate::RecordRestoredLineage(
        output, meta, (*replica)->Describe(), result->txid);
    if (!rec.ok()) {
      spdlog::warn(
          "could not record the restored state for the lineage "
          "guard: {}",
          rec.message());
    }
  }
  if (json) {
    nlohmann::json j = {
        {"output", output},
        {"txid", ltx::FormatTxId(result->txid)},
        {"pages", result->pages},
        {"page_size", result->page_size},
        {"files", plan->files.size()},
        {"bytes_read", result->bytes_read},
        {"bytes_written", int64_t{result->pages} * result->page_size},
        {"seconds", seconds},
        {"bytes_per_second",
         seconds > 0 ? static_cast<double>(result->bytes_read) / seconds : 0.0},
        {"integrity_check", integrity}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::fprintf(stderr,
                 "restored %s to TXID %s (%u pages, %zu files, %s in %.1f "
                 "s, integrity check: %s)\n",
                 output.c_str(), ltx::FormatTxId(result->txid).c_str(),
                 result->pages, plan->files.size(),
                 FormatBytes(static_cast<double>(result->bytes_read)).c_str(),
                 seconds, integrity.c_str());
  }
  return 0;
}

}  // namespace litekeep::cli
