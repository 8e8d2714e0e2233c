// `litekeep replicate`: replicate one database given on the command line, or
// every database in the config, until SIGINT/SIGTERM (or, with -exec, until
// the child exits); then a final sync.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/compaction_config.h"
#include "cli/parse.h"
#include "replicate/runner.h"

namespace litekeep::cli {
namespace {

replicate::StopSignal* g_stop = nullptr;
volatile sig_atomic_t g_child_pid = 0;
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  // Async-signal-safe: forward to the child and wake the signal thread.
  if (g_child_pid > 0) ::kill(g_child_pid, sig);
  unsigned char c = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

struct Job {
  config::DbConfig db;
  std::shared_ptr<storage::ReplicaClient> replica;
  std::unique_ptr<replicate::Replicator> replicator;
  std::unique_ptr<replicate::Compactor> compactor;  // levels, snapshots, retention
  config::Duration sync_interval;
};

}  // namespace

int RunReplicate(const std::vector<std::string>& args) {
  CLI::App app{
      "Replicates databases to their replicas until stopped.\n\n"
      "  litekeep replicate [-config FILE]         every database in the config\n"
      "  litekeep replicate DB_PATH REPLICA_URL    one database, no config\n\n"
      "Each committed transaction is shipped as an LTX file within the sync\n"
      "interval (default 1s). SIGINT/SIGTERM make a final sync and exit 0.",
      "litekeep replicate"};
  std::vector<std::string> positional;
  std::string config_path, exec_cmd;
  bool no_expand_env = false, once = false;
  app.add_option("args", positional, "DB_PATH REPLICA_URL");
  app.add_option("--config", config_path, "config file (default $LITEKEEP_CONFIG, "
                                          "/etc/litekeep.yml, /etc/litestream.yml)");
  app.add_flag("--no-expand-env", no_expand_env, "do not expand $VAR in the config");
  app.add_option("--exec", exec_cmd,
                 "run this command as a child; stop replicating when it exits "
                 "and exit with its code");
  app.add_flag("--once", once, "sync once and exit");
  if (auto code = ParseArgs(app, args)) return *code;

  replicate::StopSignal stop;
  g_stop = &stop;
  if (::pipe(g_signal_pipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // Turns a signal (or the zero byte written at exit) into stop.Stop().
  struct SignalThread {
    std::thread thread;
    ~SignalThread() {
      unsigned char zero = 0;
      [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &zero, 1);
      thread.join();
    }
  } signal_thread{std::thread([&stop]() {
    unsigned char c = 0;
    while (::read(g_signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
    }
    if (c != 0) spdlog::info("signal {} received, stopping", int{c});
    stop.Stop();
  })};

  config::Config cfg;
  if (!positional.empty()) {
    if (positional.size() != 2) {
      std::fprintf(stderr,
                   "error: expected DB_PATH REPLICA_URL (got %zu arguments)\n",
                   positional.size());
      return 2;
    }
    if (!config_path.empty()) {
      std::fprintf(stderr,
                   "error: give either -config or DB_PATH REPLICA_URL, not both\n");
      return 2;
    }
    config::DbConfig db;
    db.path = AbsolutePath(positional[0]);
    auto replica = config::ParseReplicaUrl(positional[1]);
    if (!replica.ok()) return ReportError(replica.status());
    db.replicas.push_back(*replica);
    cfg.dbs.push_back(db);
    InitLogging(cfg.logging);
  } else {
    auto loaded = LoadConfig(config_path, !no_expand_env, true);
    if (!loaded.ok()) return ReportError(loaded.status());
    cfg = std::move(**loaded);
    InitLogging(cfg.logging);
    if (exec_cmd.empty()) exec_cmd = cfg.exec;
  }

  std::vector<Job> jobs;
  for (const auto& db : cfg.dbs) {
    if (db.path.empty()) {
      std::fprintf(stderr,
                   "error: directory entries (dir: %s) are not supported yet\n",
                   db.dir.c_str());
      return 1;
    }
    if (db.replicas.size() != 1) {
      std::fprintf(stderr,
                   "error: database %s has %zu replicas; litekeep replicates "
                   "each database to exactly one replica (as Litestream 0.5)\n",
                   db.path.c_str(), db.replicas.size());
      return 2;
    }
    Job job;
    job.db = db;
    auto replica = OpenReplica(db.replicas.front());
    if (!replica.ok()) return ReportError(replica.status());
    job.replica = *replica;
    replicate::ReplicatorOptions opts;
    opts.db_path = db.path;
    opts.meta_dir = db.meta_path;
    opts.busy_timeout = db.busy_timeout;
    opts.min_checkpoint_page_count = db.min_checkpoint_page_count;
    opts.truncate_page_n = db.truncate_page_n;
    opts.checkpoint_interval = db.checkpoint_interval;
    job.replicator = std::make_unique<replicate::Replicator>(opts, job.replica);
    job.sync_interval = db.replicas.front().sync_interval;
    Status s = job.replicator->Open();
    if (!s.ok()) return ReportError(s);
    job.compactor = std::make_unique<replicate::Compactor>(
        job.replica, CompactionOptionsFor(cfg, db, db.replicas.front(),
                                          job.replicator->meta_dir()));
    spdlog::info("replicating {} to {}", db.path,
                 config::Redacted(db.replicas.front()));
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) {
    std::fprintf(stderr, "error: no databases to replicate\n");
    return 2;
  }

  // Initial sync for every database before the child starts, so a restore
  // right after start finds a snapshot.
  std::vector<std::thread> threads;
  std::vector<Status> results(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i]() {
      replicate::RunnerOptions ro;
      ro.sync_interval = jobs[i].sync_interval;
      ro.once = once;
      ro.compactor = jobs[i].compactor.get();
      results[i] = replicate::RunReplicator(*jobs[i].replicator, ro, stop);
    });
  }

  int exit_code = 0;
  if (!exec_cmd.empty() && !once) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", exec_cmd.c_str(), static_cast<char*>(nullptr));
      std::perror("exec");
      ::_exit(127);
    }
    g_child_pid = pid;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child_pid = 0;
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    spdlog::info("child exited with code {}", exit_code);
    stop.Stop();
  }
  for (auto& t : threads) t.join();
  for (auto& job : jobs) job.replicator->Close();
  for (const auto& r : results) {
    if (!r.ok() && exit_code == 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace litekeep::cli
