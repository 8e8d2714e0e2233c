// Command dispatch: picks the subcommand, normalises Go-style flags, runs it.
#include "cli/app.h"

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"

namespace litekeep::cli {
namespace {

constexpr const char* kUsage =
    "litekeep keeps SQLite databases safe on object storage.\n"
    "\n"
    "Usage: litekeep <command> [arguments]\n"
    "\n"
    "Commands:\n"
    "  replicate   replicate databases to their replicas until stopped\n"
    "  restore     rebuild a database from a replica (newest or point in "
    "time)\n"
    "  ltx         list the LTX files in a replica\n"
    "  databases   list the databases in the config file\n"
    "  generations list Litestream 0.3 generations in a replica\n"
    "  snapshots   list Litestream 0.3 snapshots in a replica\n"
    "  wal         list Litestream 0.3 WAL segments in a replica\n"
    "  version     print the version\n"
    "  verify      check that a replica restores (listing, checksums, full)\n"
    "  status      per database: local and replicated TXID, lag, WAL size\n"
    "  reset       drop a database's local state; the next sync snapshots\n"
    "  sync        keep a directory in step with a bucket prefix (-watch);\n"
    "              with one DB_PATH: sync it now in a running replicate\n"
    "\n"
    "Control socket commands (a running `replicate` with socket.enabled):\n"
    "  start       resume replication of a database\n"
    "  stop        pause replication of a database (after a final sync)\n"
    "  register    add a database (-replica URL) without a restart\n"
    "  unregister  remove a database (after a final sync)\n"
    "  list        list the databases and their state\n"
    "  info        version, PID, uptime, number of databases\n"
    "\n"
    "Flags may be written -flag or --flag. Run 'litekeep <command> -h' for a\n"
    "command's flags. Exit codes: 0 ok, 1 failure, 2 usage error.\n";

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args = NormalizeArgs(argc, argv);
  if (args.size() < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::vector<std::string> sub(args.begin() + 1, args.end());
  const std::string& cmd = sub[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (cmd == "replicate") return RunReplicate(sub);
  if (cmd == "restore") return RunRestore(sub);
  if (cmd == "ltx") return RunLtx(sub);
  if (cmd == "databases") return RunDatabases(sub);
  if (cmd == "generations") return RunGenerations(sub);
  if (cmd == "snapshots") return RunSnapshots(sub);
  if (cmd == "wal") return RunWal(sub);
  if (cmd == "version" || cmd == "--version") return RunVersion(sub);
  // Operations (docs/metrics.md).
  if (cmd == "verify") return RunVerify(sub);
  if (cmd == "status") return RunStatus(sub);
  if (cmd == "reset") return RunReset(sub);
  if (cmd == "sync") {
    return IsControlSync(sub) ? RunControlSync(sub) : RunSync(sub);
  }
  // Control socket clients (docs/cli.md, "Control socket").
  if (cmd == "start") return RunStart(sub);
  if (cmd == "stop") return RunStop(sub);
  if (cmd == "register") return RunRegister(sub);
  if (cmd == "unregister") return RunUnregister(sub);
  if (cmd == "list") return RunList(sub);
  if (cmd == "info") return RunInfo(sub);
  std::fprintf(stderr, "error: unknown command \"%s\"\n\n%s", cmd.c_str(),
               kUsage);
  return kExitUsage;
}

}  // namespace litekeep::cli
