// `litekeep verify`: prove that a replica restores, without trusting it.
// -listing checks the file listing, -checksums also decodes every file,
// -full also restores into a temporary file, runs integrity_check and
// compares it page by page with the live database at the same TXID.
// Exit 0 when every check passed, 1 when one failed.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"
#include "cli/progress.h"
#include "ltx/file_name.h"
#include "ltx/timings.h"
#include "replicate/position.h"
#include "replicate/replicator.h"
#include "restore/executor.h"
#include "restore/verify.h"

namespace litekeep::cli {
namespace {

const char* DepthName(restore::VerifyDepth d) {
  switch (d) {
    case restore::VerifyDepth::kListing:
      return "listing";
    case restore::VerifyDepth::kChecksums:
      return "checksums";
    case restore::VerifyDepth::kFull:
      return "full";
  }
  return "listing";
}

void PrintJson(const restore::VerifyReport& r, const std::string& replica,
               restore::VerifyDepth depth) {
  nlohmann::json j = {{"ok", r.ok()},
                      {"replica", replica},
                      {"depth", DepthName(depth)},
                      {"files", r.files},
                      {"bytes", r.bytes},
                      {"max_txid", ltx::FormatTxId(r.max_txid)},
                      {"files_decoded", r.files_decoded},
                      {"compared_live", r.compared_live},
                      {"problems", nlohmann::json::array()},
                      {"notes", r.notes}};
  if (r.restored_txid != 0)
    j["restored_txid"] = ltx::FormatTxId(r.restored_txid);
  for (const auto& p : r.problems) {
    j["problems"].push_back(
        {{"check", p.check}, {"object", p.object}, {"message", p.message}});
  }
  std::printf("%s\n", j.dump().c_str());
}

void PrintText(const restore::VerifyReport& r, const std::string& replica,
               restore::VerifyDepth depth) {
  std::printf("verify %s (%s): %zu files, %s, up to TXID %s\n", replica.c_str(),
              DepthName(depth), r.files,
              FormatBytes(static_cast<double>(r.bytes)).c_str(),
              ltx::FormatTxId(r.max_txid).c_str());
  if (depth != restore::VerifyDepth::kListing) {
    std::printf("  decoded and checksummed %zu of %zu files\n", r.files_decoded,
                r.files);
  }
  if (r.restored_txid != 0) {
    std::printf("  restored TXID %s, integrity_check ok%s\n",
                ltx::FormatTxId(r.restored_txid).c_str(),
                r.compared_live ? ", identical to the live database" : "");
  }
  for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
  for (const auto& p : r.problems) {
    std::printf("  FAIL %s: %s\n", p.check.c_str(), p.message.c_str());
  }
  std::printf("%s\n", r.ok() ? "PASS" : "FAIL");
}

}  // namespace

int RunVerify(const std::vector<std::string>& args) {
  CLI::App app{
      "Verifies a replica without trusting it.\n\n"
      "  -listing    (default) the listing: overlaps, gaps, orphans, snapshot\n"
      "              age against the retention window\n"
      "  -checksums  also downloads and strictly decodes every file\n"
      "              (LTX checksums, TXID chain)\n"
      "  -full       also restores into a temporary file, runs "
      "integrity_check,\n"
      "              and for a local database from the config compares it "
      "page\n"
      "              by page with the live database at the same TXID\n\n"
      "Exit code 0 when every check passed, 1 when one failed.",
      "litekeep verify"};
  std::string target_arg, config_path, retention_text, snapshot_text;
  std::string temp_dir;
  bool no_expand_env = false, listing = false, checksums = false, full = false,
       json = false;
  int parallelism = 8;
  app.add_option("target", target_arg,
                 "database path (from the config) or replica URL")
      ->required();
  std::string replica_name;
  app.add_option("--replica", replica_name,
                 "which replica of a database with several (its name: "
                 "default the newest)");
  app.add_option("--config", config_path, "config file");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_flag("--listing", listing, "check the listing only (default)");
  app.add_flag("--checksums", checksums, "also decode every file");
  app.add_flag("--full", full, "also restore, integrity_check and compare");
  app.add_flag("--json", json, "print the result as one JSON object");
  app.add_option("--retention", retention_text,
                 "retention window for the snapshot-age check (default: the "
                 "replica's retention, else 24h; 0 disables)");
  app.add_option("--snapshot-interval", snapshot_text,
                 "snapshot interval (default: the replica's, else 24h)");
  app.add_option("--temp-dir", temp_dir,
                 "where -full restores (default $TMPDIR or /tmp)");
  app.add_option("--parallelism", parallelism, "files downloaded ahead (-full)")
      ->check(CLI::Range(1, 1024));
  if (auto code = ParseArgs(app, args)) return *code;

  restore::VerifyDepth depth = full        ? restore::VerifyDepth::kFull
                               : checksums ? restore::VerifyDepth::kChecksums
                                           : restore::VerifyDepth::kListing;
  auto cfg = LoadConfig(config_path, !no_expand_env, false);
  if (!cfg.ok()) return ReportError(cfg.status());
  if (cfg->has_value()) InitLogging((*cfg)->logging);
  auto resolved = ResolveTarget(target_arg, *cfg, replica_name);
  if (!resolved.ok()) return ReportError(resolved.status());

  restore::VerifyOptions opts;
  opts.depth = depth;
  opts.parallelism = parallelism;
  opts.policy.now = Clock::now();
  config::Duration retention = ltx::kDefaultRetention;
  config::Duration snapshot_interval = ltx::kDefaultSnapshotInterval;
  if (cfg->has_value()) {
    retention = (*cfg)->retention;
    snapshot_interval = (*cfg)->snapshot_interval;
  }
  if (resolved->replica.retention) retention = *resolved->replica.retention;
  if (resolved->replica.snapshot_interval) {
    snapshot_interval = *resolved->replica.snapshot_interval;
  }
  for (auto [text, out] : {std::pair{&retention_text, &retention},
                           std::pair{&snapshot_text, &snapshot_interval}}) {
    if (text->empty()) continue;
    auto d = config::ParseDuration(*text);
    if (!d.ok()) return ReportError(d.status());
    *out = *d;
  }
  if (retention.count() > 0) opts.policy.retention = retention;
  opts.policy.snapshot_interval = snapshot_interval;

  if (temp_dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    temp_dir = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  opts.temp_dir = temp_dir;
  if (resolved->db && base::PathExists(resolved->db->path)) {
    opts.live_db = resolved->db->path;
    std::string meta = resolved->db->meta_path.empty()
                           ? replicate::DefaultMetaDir(resolved->db->path)
                           : resolved->db->meta_path;
    opts.load_position = [meta]() -> std::optional<restore::LivePosition> {
      auto p = replicate::LoadPosition(meta + "/position.json");
      if (!p) return std::nullopt;
      return restore::LivePosition{p->txid, p->salt1, p->salt2, p->offset};
    };
  }
  ProgressBar bar("verify", !json && depth != restore::VerifyDepth::kListing);
  if (bar.active()) {
    opts.progress = [&bar](size_t f, size_t ft, int64_t b, int64_t bt) {
      bar.Update(f, ft, b, bt);
    };
  }

  auto replica = OpenReplica(resolved->replica);
  if (!replica.ok()) return ReportError(replica.status());
  // SIGINT/SIGTERM remove -full's temporary restore before the process dies.
  restore::InstallSignalCleanup();
  auto report = restore::Verify(**replica, opts);
  if (!report.ok()) return ReportError(report.status());
  if (json) {
    PrintJson(*report, resolved->display, depth);
  } else {
    PrintText(*report, resolved->display, depth);
  }
  return report->ok() ? kExitOk : kExitFailure;
}

}  // namespace litekeep::cli
