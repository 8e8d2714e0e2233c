// `litekeep ltx`: list the LTX files of a replica (level, TXID range, size,
// creation time).
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "replicate/lineage.h"
#include "replicate/replicator.h"
#include "restore/legacy/catalog.h"

namespace litekeep::cli {

int RunLtx(const std::vector<std::string>& args) {
  CLI::App app{
      "Lists the LTX files in a replica.\n\n"
      "TARGET is a database path from the config file or a replica URL.",
      "litekeep ltx"};
  std::string target_arg, config_path, level_text = "all";
  bool no_expand_env = false, json = false;
  app.add_option("target", target_arg, "database path or replica URL")
      ->required();
  std::string replica_name;
  app.add_option("--replica", replica_name,
                 "which replica of a database with several (its name: "
                 "default the newest)");
  app.add_option("--config", config_path, "config file");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_option("--level", level_text,
                 "level to list: 0-9 or all (default all)");
  app.add_flag("--json", json, "print JSON");
  if (auto code = ParseArgs(app, args)) return *code;

  int first = 0, last = ltx::kMaxLevel;
  if (level_text != "all") {
    char* end = nullptr;
    long l = std::strtol(level_text.c_str(), &end, 10);
    if (end == level_text.c_str() || *end != '\0' || l < 0 ||
        l > ltx::kMaxLevel) {
      std::fprintf(stderr, "error: invalid -level \"%s\": use 0-9 or all\n",
                   level_text.c_str());
      return 2;
    }
    first = last = static_cast<int>(l);
  }
  auto cfg = LoadConfig(config_path, !no_expand_env, false);
  if (!cfg.ok()) return ReportError(cfg.status());
  auto resolved = ResolveTarget(target_arg, *cfg, replica_name);
  if (!resolved.ok()) return ReportError(resolved.status());
  auto replica = OpenReplica(resolved->replica);
  if (!replica.ok()) return ReportError(replica.status());

  // After `replicate -new-history` the replica holds two histories; the
  // database's local state says where the previous one ends
  // (docs/architecture.md, "Lineage guard").
  std::optional<TxId> hold;
  if (resolved->db) {
    const auto& db = *resolved->db;
    hold = replicate::LoadHistoryHold(db.meta_path.empty()
                                          ? replicate::DefaultMetaDir(db.path)
                                          : db.meta_path);
  }
  auto history = [&](const storage::FileInfo& f) {
    return f.max_txid <= *hold ? "previous" : "current";
  };
  size_t listed = 0;
  nlohmann::json out = nlohmann::json::array();
  if (!json) {
    if (hold) {
      std::printf("%-5s  %-16s  %-16s  %12s  %-24s  %s\n", "level", "min_txid",
                  "max_txid", "size", "created", "history");
    } else {
      std::printf("%-5s  %-16s  %-16s  %12s  %s\n", "level", "min_txid",
                  "max_txid", "size", "created");
    }
  }
  for (int level = first; level <= last; ++level) {
    auto files = (*replica)->ListFiles(level);
    if (!files.ok()) return ReportError(files.status());
    for (const auto& f : *files) {
      ++listed;
      if (json) {
        nlohmann::json j = {{"level", f.level},
                            {"min_txid", ltx::FormatTxId(f.min_txid)},
                            {"max_txid", ltx::FormatTxId(f.max_txid)},
                            {"size", f.size},
                            {"created", base::FormatRfc3339(f.created)}};
        if (hold) j["history"] = history(f);
        out.push_back(std::move(j));
      } else {
        std::printf("%-5d  %s  %s  %12" PRId64 "  %s%s%s\n", f.level,
                    ltx::FormatTxId(f.min_txid).c_str(),
                    ltx::FormatTxId(f.max_txid).c_str(), f.size,
                    base::FormatRfc3339(f.created).c_str(), hold ? "  " : "",
                    hold ? history(f) : "");
      }
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  if (hold) {
    std::fprintf(stderr,
                 "note: two histories: the previous one ends at TXID %s "
                 "(restore it with -txid %s; kept from retention while "
                 "history-hold.json exists in the local state), the current "
                 "one starts after it\n",
                 ltx::FormatTxId(*hold).c_str(),
                 ltx::FormatTxId(*hold).c_str());
  }
  // Litestream 0.3 data in the same path is not LTX: say so.
  auto catalog = restore::legacy::ReadCatalog(**replica);
  if (catalog.ok() && !catalog->empty()) {
    std::fprintf(stderr,
                 "%s %s holds Litestream 0.3 data: %zu generation(s) under "
                 "generations/ (not LTX files). List them with 'litekeep "
                 "generations', 'litekeep snapshots' and 'litekeep wal'; "
                 "'litekeep restore' reads them.\n",
                 listed == 0 ? "note: no LTX files;" : "note:",
                 resolved->display.c_str(), catalog->generations.size());
  }
  return 0;
}

}  // namespace litekeep::cli
