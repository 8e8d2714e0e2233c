// Restoring from a Litestream 0.3 replica: choosing between the LTX and the
// 0.3 generations/ layout of one replica path, and running a 0.3 restore
// (docs/migrating.md).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "restore/executor.h"
#include "restore/legacy/catalog.h"
#include "restore/legacy/plan.h"
#include "storage/replica_client.h"

namespace litekeep::cli {

// Which layout `restore` reads when a replica path holds LTX files, 0.3
// generations/, or both (docs/migrating.md, "Both layouts in one path").
enum class RestoreLayout { kLtx, kLegacy };

struct LayoutChoice {
  RestoreLayout layout = RestoreLayout::kLtx;
  std::string why;  // one line for the log
};

// layout_flag: "auto", "ltx" or "generations". In auto mode -generation/
// -index select 0.3, -txid selects LTX; otherwise the layout whose newest
// state at or before the timestamp (newest overall without one) is newer
// wins; equal times go to LTX.
Result<LayoutChoice> ChooseRestoreLayout(
    const std::string& layout_flag, const std::vector<storage::FileInfo>& ltx,
    const restore::legacy::Catalog& catalog,
    const restore::legacy::Options& legacy_options, bool have_txid,
    const std::string& replica_name);

// The exit code of a failed restore (LTX or 0.3), after reporting it. With
// -if-db-not-exists, an output created while the restore ran (the restore
// refused to replace it) is what the flag asks for: the restore is
// discarded, that is said on stderr, and the exit code is 0
// (docs/cli/restore.md).
int RestoreFailed(const Status& status, const std::string& output,
                  bool if_db_not_exists);

// Runs a 0.3 restore (or prints its plan with dry_run). Returns the exit code.
int RunLegacyRestore(storage::ReplicaClient& replica,
                     const restore::legacy::Plan& plan,
                     const std::string& output, bool force,
                     bool if_db_not_exists, restore::IntegrityCheck integrity,
                     const std::string& integrity_name, bool dry_run,
                     bool json);

}  // namespace litekeep::cli
