// `litekeep status`: per database, the local TXID, the replicated TXID, the
// lag, the WAL size and the last error. Read from the local state directory
// (.<db>-litekeep/) and the WAL only, so it works whether or not replicate
// is running and needs no network; docs/metrics.md explains the figures.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/io.h"
#include "base/rfc3339.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"
#include "cli/progress.h"
#include "ltx/file_name.h"
#include "replicate/lineage.h"
#include "replicate/local_status.h"
#include "replicate/replicator.h"

namespace litekeep::cli {
namespace {

struct ReplicaRow {
  std::string name;
  std::string replica;
  TxId txid = 0;
  bool healthy = false;
  bool needs_image = false;
  uint64_t behind_files = 0;
  std::string last_error;
};

// Reads <meta>/replicas.json; a replica that keeps up is at `replicated`.
std::vector<ReplicaRow> LoadReplicaRows(const std::string& meta,
                                        TxId replicated) {
  std::vector<ReplicaRow> out;
  auto text = base::ReadFileToString(meta + "/replicas.json");
  if (!text.ok()) return out;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    ReplicaRow r;
    r.name = e.value("name", "");
    r.replica = e.value("replica", "");
    r.txid = e.contains("txid") ? e.value("txid", uint64_t{0}) : replicated;
    r.healthy = e.value("healthy", false);
    r.needs_image = e.value("needs_image", false);
    r.behind_files = e.value("behind_files", uint64_t{0});
    r.last_error = e.value("last_error", "");
    out.push_back(std::move(r));
  }
  return out;
}

struct Row {
  std::string db;
  std::string replica;
  replicate::LocalStatus local;
  std::optional<replicate::RunRecord> record;
  bool running = false;
  double lag_seconds = 0;
  // Where the previous history ends after `replicate -new-history`
  // (docs/architecture.md, "Lineage guard").
  std::optional<TxId> previous_history;
  // Several replicas (docs/architecture.md, "Several replicas"): each one's
  // state as replicate last wrote it (<meta>/replicas.json).
  std::vector<ReplicaRow> replicas;
};

Row MakeRow(const config::DbConfig& db, TimePoint now) {
  Row r;
  r.db = db.path;
  r.replica = db.replicas.empty() ? "-" : config::Redacted(db.replicas.front());
  const std::string meta =
      db.meta_path.empty() ? replicate::DefaultMetaDir(db.path) : db.meta_path;
  r.local = replicate::ReadLocalStatus(db.path, meta);
  r.record = replicate::LoadRunRecord(meta);
  r.previous_history = replicate::LoadHistoryHold(meta);
  if (db.replicas.size() > 1) {
    r.replica.clear();
    for (const auto& rc : db.replicas) {
      r.replica += (r.replica.empty() ? "" : ", ") + config::ReplicaName(rc);
    }
    r.replicas = LoadReplicaRows(meta, r.local.replicated_txid);
  }
  if (r.record && r.record->stopped == TimePoint{} && r.record->pid > 0) {
    r.running =
        ::kill(static_cast<pid_t>(r.record->pid), 0) == 0 || errno == EPERM;
  }
  if (r.local.pending) {
    // The replica last matched the database at the newer of: the last
    // upload (position.json) and the last success replicate recorded.
    TimePoint matched = r.local.position_saved;
    if (r.record) matched = std::max(matched, r.record->last_ok);
    if (matched != TimePoint{}) {
      r.lag_seconds =
          std::max(0.0, std::chrono::duration<double>(now - matched).count());
    }
  }
  return r;
}

}  // namespace

int RunStatus(const std::vector<std::string>& args) {
  CLI::App app{
      "Shows, per database in the config: local TXID, replicated TXID, lag,\n"
      "WAL size and the last error, from the local state directory.",
      "litekeep status"};
  std::string config_path;
  std::vector<std::string> only;
  bool no_expand_env = false, json = false;
  app.add_option("databases", only, "limit to these database paths");
  app.add_option("--config", config_path, "config file");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_flag("--json", json, "print one JSON object");
  if (auto code = ParseArgs(app, args)) return *code;
  auto cfg = LoadConfig(config_path, !no_expand_env, true);
  if (!cfg.ok()) return ReportError(cfg.status());

  const TimePoint now = Clock::now();
  std::vector<Row> rows;
  for (const auto& db : (*cfg)->dbs) {
    if (db.path.empty()) continue;
    if (!only.empty() &&
        std::none_of(only.begin(), only.end(), [&](const std::string& p) {
          return AbsolutePath(p) == AbsolutePath(db.path);
        })) {
      continue;
    }
    rows.push_back(MakeRow(db, now));
  }
  if (json) {
    nlohmann::json out = {{"databases", nlohmann::json::array()}};
    for (const auto& r : rows) {
      nlohmann::json j = {
          {"path", r.db},
          {"replica", r.replica},
          {"exists", r.local.db_exists},
          {"local_txid", ltx::FormatTxId(r.local.local_txid)},
          {"replicated_txid", ltx::FormatTxId(r.local.replicated_txid)},
          {"pending", r.local.pending},
          {"lag_seconds", r.lag_seconds},
          {"wal_bytes", r.local.wal_size},
          {"replicating", r.running},
          {"last_error", r.record ? r.record->last_error : std::string()}};
      if (!r.replicas.empty()) {
        j["replicas"] = nlohmann::json::array();
        for (const auto& rr : r.replicas) {
          j["replicas"].push_back({{"name", rr.name},
                                   {"replica", rr.replica},
                                   {"txid", ltx::FormatTxId(rr.txid)},
                                   {"healthy", rr.healthy},
                                   {"needs_snapshot", rr.needs_image},
                                   {"behind_files", rr.behind_files},
                                   {"last_error", rr.last_error}});
        }
      }
      if (r.previous_history) {
        j["previous_history_txid"] = ltx::FormatTxId(*r.previous_history);
      }
      if (r.record && r.record->last_ok != TimePoint{}) {
        j["last_sync"] = base::FormatRfc3339(r.record->last_ok);
      }
      if (r.record && r.record->last_error_at != TimePoint{}) {
        j["last_error_at"] = base::FormatRfc3339(r.record->last_error_at);
      }
      out["databases"].push_back(j);
    }
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("%-32s  %-16s  %-16s  %8s  %10s  %-11s  %s\n", "database",
              "local_txid", "replicated_txid", "lag", "wal", "replicating",
              "last_error");
  for (const auto& r : rows) {
    char lag[32];
    std::snprintf(lag, sizeof(lag), "%.1fs", r.lag_seconds);
    std::string err =
        r.record && !r.record->last_error.empty() ? r.record->last_error : "-";
    std::printf("%-32s  %-16s  %-16s  %8s  %10s  %-11s  %s\n", r.db.c_str(),
                ltx::FormatTxId(r.local.local_txid).c_str(),
                ltx::FormatTxId(r.local.replicated_txid).c_str(), lag,
                FormatBytes(static_cast<double>(r.local.wal_size)).c_str(),
                r.running ? "yes" : "no", err.c_str());
    for (const auto& rr : r.replicas) {
      std::printf(
          "  replica %-16s  txid %-16s  %s%s%s\n", rr.name.c_str(),
          ltx::FormatTxId(rr.txid).c_str(), rr.healthy ? "healthy" : "failing",
          rr.behind_files > 0
              ? (", " + std::to_string(rr.behind_files) + " files behind")
                    .c_str()
              : "",
          rr.last_error.empty() ? "" : (": " + rr.last_error).c_str());
    }
    if (r.previous_history) {
      const std::string t = ltx::FormatTxId(*r.previous_history);
      std::printf(
          "  two histories: the previous one ends at TXID %s (restore -txid "
          "%s; kept, retention off while history-hold.json exists), the "
          "current one starts after it\n",
          t.c_str(), t.c_str());
    }
  }
  return kExitOk;
}

}  // namespace litekeep::cli
