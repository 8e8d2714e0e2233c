// `litekeep databases`: list the databases in the config and their replicas.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"

namespace litekeep::cli {

int RunDatabases(const std::vector<std::string>& args) {
  CLI::App app{"Lists the databases in the config file and their replicas.",
               "litekeep databases"};
  std::string config_path;
  bool no_expand_env = false;
  app.add_option("--config", config_path, "config file");
  app.add_flag("--no-expand-env", no_expand_env, "do not expand $VAR in the config");
  if (auto code = ParseArgs(app, args)) return *code;
  auto cfg = LoadConfig(config_path, !no_expand_env, true);
  if (!cfg.ok()) return ReportError(cfg.status());
  std::printf("%-40s  %s\n", "path", "replica");
  for (const auto& db : (*cfg)->dbs) {
    std::string where = db.path.empty() ? db.dir + "/" + db.pattern : db.path;
    std::string replica =
        db.replicas.empty() ? "-" : config::Redacted(db.replicas.front());
    std::printf("%-40s  %s\n", where.c_str(), replica.c_str());
  }
  return 0;
}

}  // namespace litekeep::cli
