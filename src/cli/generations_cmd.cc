// `litekeep generations`: list the Litestream 0.3 generations of a replica
// with 0.3's columns (name, generation, lag, start, end).
#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/rfc3339.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/legacy_util.h"
#include "cli/parse.h"
#include "restore/legacy/catalog.h"

namespace litekeep::cli {
namespace {

// When the database (or its WAL) last changed; now when unknown, as 0.3.
TimePoint DbUpdatedAt(const std::optional<std::string>& db) {
  TimePoint t{};
  if (db) {
    for (const std::string& p : {*db, *db + "-wal"}) {
      struct stat st;
      if (::stat(p.c_str(), &st) != 0) continue;
      TimePoint m(std::chrono::duration_cast<TimePoint::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) +
          std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
      if (m > t) t = m;
    }
  }
  return t == TimePoint{} ? Clock::now() : t;
}

// 0.3's lag rounding: coarser the larger it is.
std::chrono::nanoseconds TruncateLag(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  auto trunc = [&](nanoseconds unit) { return (d / unit) * unit; };
  nanoseconds a = d < nanoseconds(0) ? -d : d;
  if (a > seconds(10)) return trunc(seconds(1));
  if (a > seconds(1)) return trunc(milliseconds(100));
  if (a > milliseconds(1)) return trunc(milliseconds(1));
  if (a > microseconds(1)) return trunc(microseconds(1));
  return d;
}

}  // namespace

int RunGenerations(const std::vector<std::string>& args) {
  CLI::App app{
      "Lists the Litestream 0.3 generations of a database's replicas or of a\n"
      "replica URL: lag behind the database, first and last write.",
      "litekeep generations"};
  LegacyListFlags flags;
  AddLegacyListFlags(app, &flags);
  if (auto code = ParseArgs(app, args)) return *code;

  auto targets = ResolveLegacyTargets(flags);
  if (!targets.ok()) return ReportError(targets.status());
  const TimePoint db_updated = DbUpdatedAt(targets->db_path);
  std::vector<std::vector<std::string>> rows = {
      {"name", "generation", "lag", "start", "end"}};
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : targets->replicas) {
    auto cat = restore::legacy::ReadCatalog(*r.client);
    if (!cat.ok()) return ReportError(cat.status());
    for (const auto& g : cat->generations) {
      auto lag =
          TruncateLag(std::chrono::duration_cast<std::chrono::nanoseconds>(
              db_updated - g.updated));
      rows.push_back({r.name, g.name, base::FormatDuration(lag),
                      base::FormatRfc3339Seconds(g.created),
                      base::FormatRfc3339Seconds(g.updated)});
      out.push_back({{"name", r.name},
                     {"generation", g.name},
                     {"lag", base::FormatDuration(lag)},
                     {"start", base::FormatRfc3339(g.created)},
                     {"end", base::FormatRfc3339(g.updated)},
                     {"snapshots", g.snapshots.size()},
                     {"wal_segments", g.wal.size()}});
    }
  }
  PrintListing(flags, rows, out);
  return 0;
}

}  // namespace litekeep::cli
