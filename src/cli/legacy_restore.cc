// `restore` on Litestream 0.3 replicas: choosing between the LTX and the 0.3
// layout, printing a 0.3 plan, and running the 0.3 restore.
#include "cli/legacy_restore.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "cli/common.h"
#include "cli/legacy_util.h"
#include "restore/legacy/restorer.h"

namespace litekeep::cli {

Result<LayoutChoice> ChooseRestoreLayout(
    const std::string& layout_flag, const std::vector<storage::FileInfo>& ltx,
    const restore::legacy::Catalog& catalog,
    const restore::legacy::Options& legacy_options, bool have_txid,
    const std::string& replica_name) {
  const bool legacy_flags =
      !legacy_options.generation.empty() || legacy_options.index.has_value();
  if (layout_flag == "ltx")
    return LayoutChoice{RestoreLayout::kLtx, "-layout ltx"};
  if (layout_flag == "generations") {
    return LayoutChoice{RestoreLayout::kLegacy, "-layout generations"};
  }
  if (layout_flag != "auto") {
    return base::InvalidArgumentError("invalid -layout \"" + layout_flag +
                                      "\": use auto, ltx or generations");
  }
  if (legacy_flags && have_txid) {
    return base::InvalidArgumentError(
        "-txid reads LTX files while -generation/-index read Litestream 0.3 "
        "generations; use one or the other");
  }
  if (legacy_flags)
    return LayoutChoice{RestoreLayout::kLegacy, "-generation/-index given"};
  if (have_txid || catalog.empty())
    return LayoutChoice{RestoreLayout::kLtx, "LTX files"};
  if (ltx.empty()) {
    return LayoutChoice{RestoreLayout::kLegacy,
                        "only Litestream 0.3 generations"};
  }
  // Both: the newer state at (or before) the target wins.
  TimePoint ltx_time{};
  for (const auto& f : ltx) {
    if (legacy_options.timestamp && f.created > *legacy_options.timestamp)
      continue;
    ltx_time = std::max(ltx_time, f.created);
  }
  auto plan = restore::legacy::MakePlan(catalog, legacy_options, replica_name);
  if (!plan.ok() || plan->as_of <= ltx_time) {
    return LayoutChoice{
        RestoreLayout::kLtx,
        "both layouts present; the LTX files hold the newer state"};
  }
  return LayoutChoice{RestoreLayout::kLegacy,
                      "both layouts present; generation " + plan->generation +
                          " holds the newer state"};
}

int RestoreFailed(const Status& status, const std::string& output,
                  bool if_db_not_exists) {
  if (if_db_not_exists && status.code() == base::Code::kAlreadyExists &&
      base::PathExists(output)) {
    // Created while the restore ran (an application started beside it).
    std::fprintf(stderr,
                 "database %s was created while it was being restored; it is "
                 "left as it is and the restored copy is discarded (skipping "
                 "restore)\n",
                 output.c_str());
    return 0;
  }
  return ReportError(status);
}

int RunLegacyRestore(storage::ReplicaClient& replica,
                     const restore::legacy::Plan& plan,
                     const std::string& output, bool force,
                     bool if_db_not_exists, restore::IntegrityCheck integrity,
                     const std::string& integrity_name, bool dry_run,
                     bool json) {
  using restore::legacy::Hex8;
  if (dry_run) {
    if (json) {
      nlohmann::json j;
      j["layout"] = "generations";
      j["generation"] = plan.generation;
      j["index"] = Hex8(plan.last_index());
      j["output"] = output;
      j["total_bytes"] = plan.total_bytes();
      j["objects"].push_back(
          {{"key", plan.snapshot.key},
           {"size", plan.snapshot.size},
           {"created", base::FormatRfc3339(plan.snapshot.created)}});
      for (const auto& s : plan.segments) {
        j["objects"].push_back({{"key", s.key},
                                {"size", s.size},
                                {"created", base::FormatRfc3339(s.created)}});
      }
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("%12s  %-24s  %s\n", "size", "created", "object");
      std::printf("%12" PRId64 "  %-24s  %s\n", plan.snapshot.size,
                  base::FormatRfc3339(plan.snapshot.created).c_str(),
                  plan.snapshot.key.c_str());
      for (const auto& s : plan.segments) {
        std::printf("%12" PRId64 "  %-24s  %s\n", s.size,
                    base::FormatRfc3339(s.created).c_str(), s.key.c_str());
      }
      std::printf(
          "restore would write Litestream 0.3 generation %s up to WAL "
          "index %s to %s: %zu objects, %" PRId64 " bytes\n",
          plan.generation.c_str(), Hex8(plan.last_index()).c_str(),
          output.c_str(), plan.segments.size() + 1, plan.total_bytes());
    }
    return 0;
  }
  restore::legacy::RestoreOptions opts;
  opts.output = output;
  opts.force = force;
  opts.integrity = integrity;
  auto result = restore::legacy::Restore(replica, plan, opts);
  if (!result.ok()) {
    return RestoreFailed(result.status(), output, if_db_not_exists);
  }
  if (json) {
    nlohmann::json j = {{"output", output},
                        {"layout", "generations"},
                        {"generation", result->generation},
                        {"index", Hex8(result->index)},
                        {"offset", result->offset},
                        {"transactions", result->transactions},
                        {"pages", result->pages},
                        {"page_size", result->page_size},
                        {"objects", result->objects},
                        {"bytes_read", result->bytes_read},
                        {"integrity_check", integrity_name}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::fprintf(
        stderr,
        "restored %s from Litestream 0.3 generation %s to position "
        "%s:%" PRId64 " (%u pages, %zu objects, integrity check: %s)\n",
        output.c_str(), result->generation.c_str(), Hex8(result->index).c_str(),
        result->offset, result->pages, result->objects, integrity_name.c_str());
  }
  return 0;
}

}  // namespace litekeep::cli
