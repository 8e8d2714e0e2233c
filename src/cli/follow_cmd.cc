// Follow mode's command-line side: signals, progress lines, -exec.
#include "cli/follow_cmd.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/common.h"
#include "ltx/file_name.h"

namespace litekeep::cli {

int RunFollowMode(storage::ReplicaClient& replica,
                  restore::FollowOptions options, bool json,
                  const std::string& exec_cmd) {
  std::atomic<pid_t> child{0};
  std::atomic<bool> started{false}, done{false};
  std::promise<void> ready;
  bool ready_set = false;
  options.on_progress = [&](const restore::FollowProgress& p) {
    if (json) {
      nlohmann::json j = {{"output", options.output},
                          {"txid", ltx::FormatTxId(p.txid)},
                          {"replica_txid", ltx::FormatTxId(p.replica_txid)},
                          {"files", p.files},
                          {"pages", p.pages},
                          {"lag_seconds", p.lag.count()},
                          {"initial", p.initial}};
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    }
    if (p.initial) started = true;
    if (p.initial && !ready_set) {
      ready_set = true;
      ready.set_value();
    }
  };
  restore::Follower follower(replica, options);

  // Signals are taken by one thread (sigwait); every other thread, and the
  // child until it execs, has them blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // internal: the follower is done
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  std::thread signals([&]() {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0 || sig == SIGUSR2) break;
      pid_t pid = child.load();
      if (pid > 0) {
        spdlog::info("signal {} forwarded to the child", sig);
        ::kill(pid, sig);
        continue;
      }
      spdlog::info("signal {} received, stopping", sig);
      follower.Stop();
    }
  });

  Status result;
  std::thread worker([&]() {
    result = follower.Run();
    if (!ready_set) {
      ready_set = true;
      ready.set_value();
    }
    // The follower stopped (an error, or a signal before the child ran):
    // stop the child too, so that the command ends.
    done = true;
    pid_t pid = child.load();
    if (pid > 0) ::kill(pid, SIGTERM);
  });

  int exit_code = 0;
  if (!exec_cmd.empty()) ready.get_future().wait();
  // The app starts once the database exists (not when the first step failed).
  if (!exec_cmd.empty() && started.load()) {
    pid_t pid = ::fork();
    if (pid == 0) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      ::execl("/bin/sh", "sh", "-c", exec_cmd.c_str(),
              static_cast<char*>(nullptr));
      std::perror("exec");
      ::_exit(127);
    }
    child = pid;
    if (done.load()) ::kill(pid, SIGTERM);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    child = 0;
    exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    spdlog::info("child exited with code {}", exit_code);
    follower.Stop();
  }
  worker.join();
  ::kill(::getpid(), SIGUSR2);
  signals.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!result.ok()) {
    int code = ReportError(result);
    return exit_code != 0 ? exit_code : code;
  }
  return exit_code;
}

}  // namespace litekeep::cli
