// Implementation of the s3rver harness: npm package lookup, free ports,
// logged child processes stopped by PID.
#include "tests/support/s3rver.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/support/process.h"

namespace litekeep::testing {
namespace {

bool Exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

std::string TestSourceDir() {
  // Never __FILE__: with CCACHE_BASEDIR (.ci/run) it is a relative path.
  return SourceDir();
}

namespace {

std::string Candidate() {
  if (const char* d = std::getenv("LITEKEEP_NPM_DIR")) {
    return std::string(d) + "/node_modules";
  }
  if (const char* b = std::getenv("LITEKEEP_BUILD_DIR")) {
    return std::string(b) + "/npm/node_modules";
  }
  return TestSourceDir() + "/build/npm/node_modules";
}

}  // namespace

bool HaveNode() {
  return RunShell("command -v node >/dev/null 2>&1").exit_code == 0;
}

std::string NpmModulesDir() {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] {
    std::string d = Candidate();
    const char* needed[] = {"s3rver", "@aws-sdk/client-s3",
                            "@smithy/signature-v4"};
    auto all_there = [&] {
      for (const char* m : needed) {
        if (!Exists(d + "/" + m)) return false;
      }
      return true;
    };
    if (!all_there()) {
      // install-deps.sh installs into <source>/build/npm.
      RunShell(TestSourceDir() + "/scripts/install-deps.sh --test >&2");
      if (!all_there()) {
        std::string alt = TestSourceDir() + "/build/npm/node_modules";
        d = alt;
      }
    }
    dir = all_there() ? d : "";
  });
  return dir;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

void StopPid(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::unique_ptr<S3rver> S3rver::Start(const std::string& bucket,
                                      std::string* error) {
  if (!HaveNode()) {
    *error = "node is not installed";
    return nullptr;
  }
  std::string modules = NpmModulesDir();
  if (modules.empty()) {
    *error = "npm package s3rver is missing (scripts/install-deps.sh --test)";
    return nullptr;
  }
  std::unique_ptr<S3rver> s(new S3rver());
  s->bucket_ = bucket;
  std::filesystem::create_directories(s->data_dir());
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    std::ofstream(s->log_path(), std::ios::trunc).close();
    s->pid_ = SpawnLogged(
        {"node", "--openssl-legacy-provider", modules + "/s3rver/bin/s3rver.js",
         "-d", s->data_dir(), "-a", "127.0.0.1", "-p", std::to_string(s->port_),
         "--configure-bucket", bucket},
        s->log_path());
    const std::string ready =
        "listening on 127.0.0.1:" + std::to_string(s->port_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(s->log_path());
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().find(ready) != std::string::npos) return s;
      int status = 0;
      if (::waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
        s->pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    StopPid(s->pid_);
    s->pid_ = -1;
  }
  std::ifstream in(s->log_path());
  std::stringstream ss;
  ss << in.rdbuf();
  *error = "s3rver did not start: " + ss.str();
  return nullptr;
}

S3rver::~S3rver() { StopPid(pid_); }

std::string S3rver::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void S3rverTest::SetUp() {
  std::string error;
  server_ = S3rver::Start(bucket_, &error);
  if (!server_) GTEST_SKIP() << error;
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
}

std::string S3rverTest::Url(const std::string& path,
                            const std::string& endpoint) const {
  return "s3://" + bucket_ + "/" + path +
         "?endpoint=" + (endpoint.empty() ? server_->endpoint() : endpoint) +
         "&forcePathStyle=true&region=us-east-1";
}

}  // namespace litekeep::testing
