// `litekeep reset DB [-dry-run]`: drops the database's local state
// directory (.<db>-litekeep/, or the config's meta-path) so that the next
// sync starts over and writes a snapshot (Litestream 0.5's `reset`). Refused
// while a replicator holds the directory's lock file.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/io.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/parse.h"
#include "config/directory.h"
#include "replicate/replicator.h"

namespace litekeep::cli {
namespace {

// The state directory of db_path: the config entry's meta-path when the
// config lists the database, else the default beside the database.
std::string MetaDirFor(const std::string& db_path,
                       const std::optional<config::Config>& cfg) {
  if (cfg) {
    for (const auto& db : cfg->dbs) {
      if (db.path == db_path && !db.meta_path.empty()) return db.meta_path;
      if (config::UnderDirectory(db, db_path)) {
        std::string state = config::StateDirForDatabase(db, db_path);
        if (!state.empty()) return state;
      }
    }
  }
  return replicate::DefaultMetaDir(db_path);
}

// Holds a flock on <meta>/lock while the state is removed; refuses when a
// replicator holds it. No lock file: nothing holds the state.
class ResetLock {
 public:
  ~ResetLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Take(const std::string& meta, const std::string& db_path) {
    const std::string path = meta + "/lock";
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd_ < 0) {
      if (errno == ENOENT) return Status::Ok();
      return base::ErrnoError("open " + path, errno);
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
    int err = errno;
    if (err != EWOULDBLOCK) return base::ErrnoError("lock " + path, err);
    std::string holder;
    auto text = base::ReadFileToString(path);
    if (text.ok()) {
      holder = *text;
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
        holder.pop_back();
    }
    return base::FailedPreconditionError(
        "a replicator" + (holder.empty() ? "" : " (pid " + holder + ")") +
        " is running for " + db_path + " (it holds " + path +
        "); stop it before `reset`");
  }

 private:
  int fd_ = -1;
};

}  // namespace

int RunReset(const std::vector<std::string>& args) {
  CLI::App app{
      "Drops a database's local state (.<db>-litekeep/) so that the next\n"
      "sync starts over and writes a snapshot. The database and the replica\n"
      "are not touched. Refused while a replicator runs for the database.",
      "litekeep reset"};
  std::string db_arg, config_path;
  bool dry_run = false, no_expand_env = false;
  app.add_option("db", db_arg, "database path")->required();
  app.add_option("--config", config_path,
                 "config file (its meta-path for the database, if any)");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_flag("--dry-run", dry_run, "print what would be removed");
  if (auto code = ParseArgs(app, args)) return *code;

  auto cfg = LoadConfig(config_path, !no_expand_env, !config_path.empty());
  if (!cfg.ok()) return ReportError(cfg.status());
  const std::string db_path = AbsolutePath(db_arg);
  auto done = ResetLocalState(db_path, MetaDirFor(db_path, *cfg), dry_run);
  if (!done.ok()) return ReportError(done.status());
  std::fputs(done->c_str(), stdout);
  return 0;
}

Result<std::string> ResetLocalState(const std::string& db_path,
                                    const std::string& meta, bool dry_run) {
  std::error_code ec;
  if (!std::filesystem::exists(meta, ec)) {
    return db_path + ": no local state (" + meta +
           " does not exist); nothing to reset\n";
  }
  ResetLock lock;
  LK_RETURN_IF_ERROR(lock.Take(meta, db_path));
  if (dry_run) {
    std::string out = "would remove " + meta + ":\n";
    for (const auto& entry : std::filesystem::directory_iterator(meta, ec)) {
      out += "  " + entry.path().filename().string() + "\n";
    }
    return out;
  }
  std::filesystem::remove_all(meta, ec);
  if (ec) return base::IoError("remove " + meta + ": " + ec.message());
  return db_path + ": local state " + meta +
         " removed; the next sync writes a snapshot\n";
}

}  // namespace litekeep::cli
