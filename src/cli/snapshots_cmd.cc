// `litekeep snapshots`: list the Litestream 0.3 snapshots of a replica with
// 0.3's columns (replica, generation, index, size, created).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/legacy_util.h"
#include "cli/parse.h"
#include "restore/legacy/catalog.h"

namespace litekeep::cli {

int RunSnapshots(const std::vector<std::string>& args) {
  CLI::App app{
      "Lists the Litestream 0.3 snapshots of a database's replicas or of a\n"
      "replica URL.",
      "litekeep snapshots"};
  LegacyListFlags flags;
  AddLegacyListFlags(app, &flags);
  if (auto code = ParseArgs(app, args)) return *code;

  auto targets = ResolveLegacyTargets(flags);
  if (!targets.ok()) return ReportError(targets.status());
  std::vector<std::vector<std::string>> rows = {
      {"replica", "generation", "index", "size", "created"}};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : targets->replicas) {
    auto cat = restore::legacy::ReadCatalog(*r.client);
    if (!cat.ok()) return ReportError(cat.status());
    for (const auto& g : cat->generations) {
      for (const auto& s : g.snapshots) {
        rows.push_back({r.name, g.name, std::to_string(s.index),
                        std::to_string(s.size), base::FormatRfc3339Seconds(s.created)});
        out.push_back({{"replica", r.name},
                       {"generation", g.name},
                       {"index", s.index},
                       {"size", s.size},
                       {"created", base::FormatRfc3339(s.created)}});
      }
    }
  }
  PrintListing(flags, rows, out);
  return 0;
}

}  // namespace litekeep::cli
