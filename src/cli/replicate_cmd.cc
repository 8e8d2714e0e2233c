// `litekeep replicate`: replicate one database given on the command line, or
// every database in the config, until SIGINT/SIGTERM (or, with -exec, until
// the child exits); then a final sync.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/compaction_config.h"
#include "cli/control_server.h"
#include "cli/heartbeat.h"
#include "cli/mcp_server.h"
#include "cli/metrics_endpoint.h"
#include "cli/parse.h"
#include "cli/replicate_jobs.h"
#include "cli/sync_tracks.h"
#include "config/directory.h"
#include "replicate/discovery.h"
#include "replicate/runner.h"

namespace litekeep::cli {
namespace {

// The -exec child while it runs (0 otherwise); read by the signal thread.
std::atomic<pid_t> g_child_pid{0};

// File descriptors a database costs: its state lock always, and while it is
// open (not idle) its SQLite connections, WAL, WAL index and database file.
constexpr size_t kFdsPerDatabase = 1;
constexpr size_t kFdsPerOpenDatabase = 12;
constexpr size_t kFdsReserved = 64;  // logs, sockets, the replicas' clients

// Raises the soft open-file limit to the hard one and sizes the pool's
// open databases to it; an error naming the limit and the number needed when
// even one database per worker cannot be open.
Status FitFileLimit(size_t databases, replicate::PoolOptions* pool) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return base::IoError(std::string("getrlimit: ") + std::strerror(errno));
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  const size_t limit = rl.rlim_cur == RLIM_INFINITY
                           ? size_t{1} << 30
                           : static_cast<size_t>(rl.rlim_cur);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const size_t workers = static_cast<size_t>(std::clamp(2 * cores, 2, 8));
  const size_t needed = databases * kFdsPerDatabase +
                        std::min(databases, workers) * kFdsPerOpenDatabase +
                        kFdsReserved;
  if (needed > limit) {
    return base::FailedPreconditionError(
        "replicating " + std::to_string(databases) +
        " databases needs at "
        "least " +
        std::to_string(needed) + " open files (" +
        std::to_string(kFdsPerDatabase) + " per database, " +
        std::to_string(kFdsPerOpenDatabase) +
        " per database being synced), "
        "but the open-file limit (RLIMIT_NOFILE) is " +
        std::to_string(limit) +
        "; raise it (ulimit -n, or LimitNOFILE= in the systemd unit)");
  }
  pool->max_open = (limit - databases * kFdsPerDatabase - kFdsReserved) /
                   kFdsPerOpenDatabase;
  spdlog::debug("open-file limit {}: at most {} of {} databases open at once",
                limit, pool->max_open, databases);
  return Status::Ok();
}

}  // namespace

int RunReplicate(const std::vector<std::string>& args) {
  CLI::App app{
      "Replicates databases to their replicas until stopped.\n\n"
      "  litekeep replicate [-config FILE]         every database in the "
      "config\n"
      "  litekeep replicate DB_PATH REPLICA_URL    one database, no config\n\n"
      "Each committed transaction is shipped as an LTX file within the sync\n"
      "interval (default 1s). SIGINT/SIGTERM make a final sync and exit 0.",
      "litekeep replicate"};
  std::vector<std::string> positional;
  std::string config_path, exec_cmd;
  bool no_expand_env = false, once = false, restore_if_missing = false;
  app.add_option("args", positional, "DB_PATH REPLICA_URL");
  app.add_option("--config", config_path,
                 "config file (default $LITEKEEP_CONFIG, "
                 "/etc/litekeep.yml, /etc/litestream.yml)");
  app.add_flag("--no-expand-env", no_expand_env,
               "do not expand $VAR in the config");
  app.add_option("--exec", exec_cmd,
                 "run this command as a child; stop replicating when it exits "
                 "and exit with its code");
  app.add_flag("--once", once, "sync once and exit");
  app.add_flag("--restore-if-db-not-exists", restore_if_missing,
               "restore a missing database from its replica before "
               "replicating (the serverless start-up pattern)");
  bool new_history = false;
  app.add_flag("--new-history", new_history,
               "lineage guard: start a new history in the replica for a "
               "database that does not descend from its newest state, instead "
               "of refusing it (docs/architecture.md)");
  bool wait_lease = false;  // docs/architecture.md, "Replica lease"
  app.add_flag("--wait-lease", wait_lease,
               "wait for a replica lease held by another replicator (e.g. "
               "the old process of a blue/green deploy) instead of failing");
  std::string addr_flag;  // docs/metrics.md, "The endpoint"
  app.add_option(
      "--addr", addr_flag,
      "serve /metrics and /healthz here (overrides the config's addr)");
  std::string sync_src, sync_dest;  // a code track (docs/sync.md)
  app.add_option("--sync-src", sync_src,
                 "also keep --sync-dest in step with this bucket URL "
                 "(a watched `sync:` entry; see 'litekeep sync -h')");
  app.add_option("--sync-dest", sync_dest, "local directory for --sync-src");
  if (auto code = ParseArgs(app, args)) return *code;
  if (sync_src.empty() != sync_dest.empty()) {
    std::fprintf(stderr, "error: give --sync-src and --sync-dest together\n");
    return 2;
  }

  replicate::StopSignal stop;
  // Signals are taken by one thread (sigwait): every other thread, and the
  // -exec child until it execs, has them blocked. (With a handler, the
  // kernel may pick any thread; a sanitizer runtime defers the handler
  // until that thread next calls into it, which a worker parked on a
  // condition variable may not do for a long time.)
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR2);  // internal: the command is returning
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  config::Config cfg;
  if (!positional.empty()) {
    if (positional.size() != 2) {
      std::fprintf(stderr,
                   "error: expected DB_PATH REPLICA_URL (got %zu arguments)\n",
                   positional.size());
      return 2;
    }
    if (!config_path.empty()) {
      std::fprintf(
          stderr,
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

  // Turns a signal into stop.Stop(); with -exec, forwards it to the child
  // first. Started after InitLogging: the thread logs, and replacing the
  // default logger while another thread logs is a data race.
  struct SignalThread {
    std::thread thread;
    ~SignalThread() {
      ::pthread_kill(thread.native_handle(), SIGUSR2);
      thread.join();
    }
  } signal_thread{std::thread([&stop, signals]() {
    int sig = 0;
    for (;;) {
      if (sigwait(&signals, &sig) != 0 || sig == SIGUSR2) {
        sig = 0;
        break;
      }
      // With -exec, the signal goes to the child: keep replicating until it
      // has exited (its last commits must make the final sync).
      if (const pid_t child = g_child_pid.load(); child > 0) {
        ::kill(child, sig);
        spdlog::info("signal {} forwarded to the child; stopping when it exits",
                     sig);
        continue;
      }
      spdlog::info("signal {} received, stopping", sig);
      break;
    }
    stop.Stop();
    // A second signal stops the final sync's retries
    // (docs/config.md, `shutdown-sync-timeout`).
    while (sig != 0) {
      int again = 0;
      if (sigwait(&signals, &again) != 0 || again == SIGUSR2) break;
      spdlog::warn("signal {} received again: stopping without retrying",
                   again);
      stop.Force();
    }
  })};

  if (!sync_src.empty()) {
    config::SyncConfig track;
    track.src = sync_src;
    auto source = config::ParseReplicaUrl(sync_src);
    if (!source.ok()) return ReportError(source.status());
    track.source = std::move(*source);
    config::ApplyReplicaDefaults(cfg, &track.source);
    track.dest = AbsolutePath(sync_dest);
    track.watch = true;
    cfg.syncs.push_back(std::move(track));
  }

  auto specs = SpecsFromConfig(cfg);
  if (!specs.ok()) return ReportError(specs.status());
  bool watching = false;
  for (const auto& db : cfg.dbs) watching |= !db.dir.empty() && db.watch;
  if (specs->empty() && !watching && cfg.syncs.empty() && !cfg.socket.enabled) {
    std::fprintf(stderr, "error: no databases to replicate\n");
    return 2;
  }

  // Metrics and health endpoint on `addr` (docs/metrics.md, "The endpoint").
  metrics::Registry registry;
  if (!cfg.litestream_metrics) registry.DropPrefix("litestream_");
  auto metrics_server =
      StartMetricsEndpoint(addr_flag.empty() ? cfg.addr : addr_flag, registry,
                           cfg.health_max_sync_age);
  if (!metrics_server.ok()) return ReportError(metrics_server.status());

  // Sync tracks (docs/sync.md): the first copy completes before the
  // application starts; watched tracks then follow the bucket.
  SyncTracks sync_tracks(stop, &registry);
  if (Status s = sync_tracks.Start(cfg.syncs); !s.ok()) {
    stop.Stop();
    return ReportError(s);
  }
  if (!once) sync_tracks.Watch();

  // One database on the command line, no child to wait for: fail at once.
  const bool fail_fast = (!positional.empty() && exec_cmd.empty()) || once;
  JobSet jobs(stop, once, fail_fast, &cfg, &registry);
  jobs.SetWaitLease(wait_lease || cfg.wait_lease);
  if (!once) {
    // docs/architecture.md, "Idle databases": the open-file limit.
    replicate::PoolOptions pool_options;
    if (Status s = FitFileLimit(specs->size(), &pool_options); !s.ok()) {
      stop.Stop();
      return ReportError(s);
    }
    jobs.SetPoolOptions(pool_options);
  }
  for (auto& spec : *specs) {
    spec.restore_if_missing |= restore_if_missing;
    spec.new_history |= new_history;
    Status s = jobs.Add(spec);
    if (!s.ok()) {
      stop.Stop();
      return ReportError(s);
    }
  }
  // Control socket (docs/cli.md, "Control socket"); closed before the jobs.
  std::unique_ptr<control::UnixHttpServer> control_socket;
  if (cfg.socket.enabled && !once) {
    auto started = StartControlSocket(cfg, jobs);
    if (!started.ok()) {
      stop.Stop();
      return ReportError(started.status());
    }
    control_socket = std::move(*started);
  }
  std::unique_ptr<control::UnixHttpServer> mcp;  // docs/cli.md, "MCP"
  if (!cfg.mcp_addr.empty() && !once) {
    auto started = StartMcp(cfg, jobs);
    if (!started.ok()) {
      stop.Stop();
      return ReportError(started.status());
    }
    mcp = std::move(*started);
  }
  // Heartbeat pings (docs/config.md, `heartbeat-url`).
  Heartbeat heartbeat(once ? "" : cfg.heartbeat_url, cfg.heartbeat_interval,
                      registry, stop);
  // Directory entries with watch: pick up databases created later.
  std::thread watcher;
  if (watching && !once) {
    watcher = std::thread([&]() {
      std::vector<std::pair<const config::DbConfig*,
                            std::unique_ptr<replicate::DirectoryScanner>>>
          scanners;
      for (const auto& db : cfg.dbs) {
        if (db.dir.empty() || !db.watch) continue;
        scanners.emplace_back(&db,
                              std::make_unique<replicate::DirectoryScanner>(
                                  db.dir, db.pattern, db.recursive));
      }
      do {
        for (auto& [db, scanner] : scanners) {
          auto found = scanner->Poll();
          if (!found.ok()) continue;
          for (const auto& path : *found) {
            if (jobs.Has(path)) continue;
            Status s = jobs.Add(SpecForDirectoryDatabase(*db, path));
            if (!s.ok()) spdlog::error("{}", s.message());
          }
        }
      } while (!stop.WaitFor(std::chrono::seconds(1)));
    });
  }

  int exit_code = 0;
  if (!exec_cmd.empty() && !once) {
    // The application starts only once no database is held back by a failed
    // restore or the lineage guard (docs/architecture.md).
    if (!jobs.WaitReady()) {
      spdlog::error("stopped before the application could be started");
      jobs.JoinAll();
      if (watcher.joinable()) watcher.join();
      return 1;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      // The application gets the signals litekeep's threads block.
      sigprocmask(SIG_UNBLOCK, &signals, nullptr);
      ::execl("/bin/sh", "sh", "-c", exec_cmd.c_str(),
              static_cast<char*>(nullptr));
      std::perror("exec");
      ::_exit(127);
    }
    g_child_pid.store(pid);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child_pid.store(0);
    exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    spdlog::info("child exited with code {}", exit_code);
    stop.Stop();
  }
  // Only sync tracks (or the control socket) and no child: run until a
  // signal.
  if (exec_cmd.empty() && !once && specs->empty() && !watching) {
    while (!stop.WaitFor(std::chrono::seconds(1))) {
    }
  }
  jobs.JoinAll();
  stop.Stop();
  if (watcher.joinable()) watcher.join();
  sync_tracks.JoinAll();
  if (!jobs.Result().ok() && exit_code == 0) exit_code = 1;
  return exit_code;
}

}  // namespace litekeep::cli
