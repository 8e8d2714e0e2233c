// `litekeep version`: the litekeep version and the SQLite library it runs
// (the amalgamation compiled into the binary; docs/architecture.md "SQLite").
#include <sqlite3.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/parse.h"

namespace litekeep::cli {

int RunVersion(const std::vector<std::string>& args) {
  CLI::App app{"Prints the litekeep version and the SQLite version it runs.",
               "litekeep version"};
  if (auto code = ParseArgs(app, args)) return *code;
  std::printf("litekeep v%s\n", LITEKEEP_VERSION);
  std::printf("SQLite %s (%s)\n", sqlite3_libversion(), sqlite3_sourceid());
  return 0;
}

}  // namespace litekeep::cli
