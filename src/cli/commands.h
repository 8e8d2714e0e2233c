// One entry point per subcommand; each parses its own flags from args
// (args[0] is the subcommand name) and returns the exit code.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace litekeep::cli {

int RunReplicate(const std::vector<std::string>& args);
int RunRestore(const std::vector<std::string>& args);
int RunLtx(const std::vector<std::string>& args);
int RunDatabases(const std::vector<std::string>& args);
int RunVersion(const std::vector<std::string>& args);
// Litestream 0.3 listings.
int RunGenerations(const std::vector<std::string>& args);
int RunSnapshots(const std::vector<std::string>& args);
int RunWal(const std::vector<std::string>& args);

// Operations (docs/metrics.md).
int RunVerify(const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
// Drop a database's local state (docs/migrating.md, "Refused keys").
int RunReset(const std::vector<std::string>& args);
// What `reset` does for db_path whose state directory is meta: the text it
// prints, or why it was refused (a replicator holds the state's lock).
Result<std::string> ResetLocalState(const std::string& db_path,
                                    const std::string& meta, bool dry_run);

// Keep a directory in step with a bucket prefix (docs/sync.md).
int RunSync(const std::vector<std::string>& args);

// Control socket clients (docs/cli.md, "Control socket").
int RunStart(const std::vector<std::string>& args);
int RunStop(const std::vector<std::string>& args);
int RunControlSync(const std::vector<std::string>& args);  // sync DB_PATH
int RunRegister(const std::vector<std::string>& args);
int RunUnregister(const std::vector<std::string>& args);
int RunList(const std::vector<std::string>& args);
int RunInfo(const std::vector<std::string>& args);
// Whether `sync` args are the control form (one DB_PATH, or -wait/-socket/
// -timeout) rather than SRC_URL DEST_DIR.
bool IsControlSync(const std::vector<std::string>& args);

}  // namespace litekeep::cli
