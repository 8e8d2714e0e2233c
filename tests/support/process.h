// A child process for tests (e.g. `litekeep replicate`), with its output in
// a log file, signalled and reaped by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace litekeep::testing {

// Starts argv with stdin from /dev/null and stdout+stderr appended to
// log_path; returns its PID (-1 on failure). The caller reaps it.
pid_t SpawnLogged(const std::vector<std::string>& argv,
                  const std::string& log_path);

class ChildProcess {
 public:
  // Starts argv with stdout and stderr appended to log_path.
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_path);
  ~ChildProcess();  // SIGKILLs and reaps the child if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Waits for exit up to timeout; returns the exit code, 128+signal when
  // killed, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string log_path_;
};

// Polls cond every 20 ms until true or timeout; returns cond's last value.
bool WaitUntil(const std::function<bool()>& cond,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// One server per test binary and name (bucket, container), started on first
// use by Server::Start(name, &error) (S3rver, Azurite) and stopped at exit;
// null when it cannot start (the reason is printed once).
template <typename Server>
Server* SharedServer(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Server>> servers;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, first] = servers.try_emplace(name);
  if (first) {
    std::string error;
    it->second = Server::Start(name, &error);
    if (!it->second) {
      std::fprintf(stderr, "%s unavailable: %s\n", name.c_str(), error.c_str());
    }
  }
  return it->second.get();
}

}  // namespace litekeep::testing
