// Implementation of the rclone WebDAV harness.
#include "tests/support/rclone_webdav.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/hash.h"
#include "storage/http.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {

namespace {
constexpr char kRclone[] = "/usr/bin/rclone";
}  // namespace

std::unique_ptr<RcloneWebdav> RcloneWebdav::Start(std::string* error,
                                                  bool tls) {
  if (::access(kRclone, X_OK) != 0) {
    *error = std::string(kRclone) +
             " is not installed (apt-get install rclone; "
             "scripts/install-deps.sh)";
    return nullptr;
  }
  std::unique_ptr<RcloneWebdav> s(new RcloneWebdav());
  std::filesystem::create_directories(s->root());
  s->tls_ = tls;
  if (tls) {
    CommandResult r =
        Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", s->dir_.Join("key.pem"), "-out", s->cert_path()});
    if (r.exit_code != 0) {
      *error = "openssl could not make a certificate: " + r.err;
      return nullptr;
    }
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    if (s->Launch()) return s;
  }
  *error = "rclone serve webdav did not start: " + ReadFile(s->log_path());
  return nullptr;
}

bool RcloneWebdav::Launch() {
  std::ofstream(log_path(), std::ios::trunc).close();
  // No rclone.conf is read or written: an empty config path.
  std::vector<std::string> argv = {
      kRclone,   "serve",    "webdav",
      root(),    "--addr",   "127.0.0.1:" + std::to_string(port_),
      "--user",  kUser,      "--pass",
      kPassword, "--config", "/dev/null"};
  if (tls_) {
    argv.insert(argv.end(),
                {"--cert", cert_path(), "--key", dir_.Join("key.pem")});
  }
  pid_ = SpawnLogged(argv, log_path());
  const std::string ready = "WebDav Server started on " + base_url();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(log_path()).find(ready) != std::string::npos) return true;
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  StopPid(pid_);
  pid_ = -1;
  return false;
}

RcloneWebdav::~RcloneWebdav() {
  StopPid(pid_);
  pid_ = -1;
}

void RcloneWebdav::Kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

bool RcloneWebdav::Restart() {
  Kill();
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Launch()) return true;
    // The port may linger for a moment after the old process exits.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

std::string RcloneWebdav::base_url() const {
  return std::string(tls_ ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::string RcloneWebdav::Url(const std::string& path) const {
  return std::string(tls_ ? "webdavs://" : "webdav://") + kUser + ":" +
         kPassword + "@127.0.0.1:" + std::to_string(port_) + "/" + path;
}

storage::webdav::WebdavOptions RcloneWebdav::Options(
    const std::string& path) const {
  storage::webdav::WebdavOptions o;
  o.base_url = base_url();
  o.path = path;
  o.username = kUser;
  o.password = kPassword;
  o.retry.backoff_base = std::chrono::milliseconds(20);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  return o;
}

long RcloneWebdav::RawPut(const std::string& path,
                          const std::string& content) const {
  storage::HttpClient http(storage::HttpOptions{});
  const storage::KeyValues auth = {
      {"Authorization",
       "Basic " + storage::Base64Encode(std::string(kUser) + ":" + kPassword)}};
  auto send = [&](const std::string& method, const std::string& p,
                  std::string_view body) -> long {
    storage::HttpRequest req;
    req.method = method;
    req.url = base_url() + storage::UriEncode("/" + p, false);
    req.headers = auth;
    req.body = body;
    auto resp = http.Do(req);
    return resp.ok() ? resp->status : 0;
  };
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    send("MKCOL", path.substr(0, slash) + "/", "");
  }
  return send("PUT", path, content);
}

RcloneWebdav* SharedRcloneWebdav() {
  static std::unique_ptr<RcloneWebdav> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = RcloneWebdav::Start(&error);
    if (!server) std::fprintf(stderr, "rclone webdav: %s\n", error.c_str());
  }
  return server.get();
}

}  // namespace litekeep::testing
