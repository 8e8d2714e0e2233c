// `litekeep wal`: list the Litestream 0.3 WAL segments of a replica with
// 0.3's columns (replica, generation, index, offset, size, created).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/legacy_util.h"
#include "cli/parse.h"
#include "restore/legacy/catalog.h"

namespace litekeep::cli {

int RunWal(const std::vector<std::string>& args) {
  CLI::App app{
      "Lists the Litestream 0.3 WAL segments of a database's replicas or of a\n"
      "replica URL.",
      "litekeep wal"};
  std::string generation;
  LegacyListFlags flags;
  AddLegacyListFlags(app, &flags);
  app.add_option("--generation", generation, "only this generation");
  if (auto code = ParseArgs(app, args)) return *code;

  auto targets = ResolveLegacyTargets(flags);
  if (!targets.ok()) return ReportError(targets.status());
  std::vector<std::vector<std::string>> rows = {
      {"replica", "generation", "index", "offset", "size", "created"}};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : targets->replicas) {
    auto cat = restore::legacy::ReadCatalog(*r.client);
    if (!cat.ok()) return ReportError(cat.status());
    for (const auto& g : cat->generations) {
      if (!generation.empty() && g.name != generation) continue;
      for (const auto& w : g.wal) {
        rows.push_back({r.name, g.name, std::to_string(w.index),
                        std::to_string(w.offset), std::to_string(w.size),
                        base::FormatRfc3339Seconds(w.created)});
        out.push_back({{"replica", r.name},
                       {"generation", g.name},
                       {"index", w.index},
                       {"offset", w.offset},
                       {"size", w.size},
                       {"created", base::FormatRfc3339(w.created)}});
      }
    }
  }
  PrintListing(flags, rows, out);
  return 0;
}

}  // namespace litekeep::cli
