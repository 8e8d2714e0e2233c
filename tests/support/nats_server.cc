// Implementation of the nats-server harness.
#include "tests/support/nats_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "storage/nats/conn.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

std::string Binary() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                        "/usr/local/bin/nats-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<NatsServer> NatsServer::Start(std::string* error,
                                              const Auth& auth) {
  if (Binary().empty()) {
    *error =
        "nats-server is not installed (apt-get install nats-server, or "
        "scripts/install-deps.sh --test)";
    return nullptr;
  }
  std::unique_ptr<NatsServer> s(new NatsServer());
  s->auth_ = auth;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    if (s->Launch(error)) return s;
  }
  return nullptr;
}

bool NatsServer::Launch(std::string* error) {
  const std::string log = dir_.Join("nats.log");
  std::ofstream(log, std::ios::trunc).close();
  std::vector<std::string> argv = {
      Binary(), "-js",     "-a", "127.0.0.1", "-p", std::to_string(port_),
      "-sd",    StoreDir()};
  if (!auth_.user.empty()) {
    argv.insert(argv.end(), {"--user", auth_.user, "--pass", auth_.password});
  }
  if (!auth_.token.empty()) argv.insert(argv.end(), {"--auth", auth_.token});
  if (!auth_.config.empty()) {
    const std::string conf = dir_.Join("nats.conf");
    std::ofstream(conf, std::ios::trunc) << auth_.config;
    argv.insert(argv.end(), {"-c", conf});
  }
  pid_ = SpawnLogged(argv, log);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = Slurp(log);
    if (text.find("Starting JetStream") != std::string::npos &&
        text.find("Server is ready") != std::string::npos) {
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pid_ > 0) StopPid(pid_);
  pid_ = -1;
  *error = "nats-server did not start: " + Slurp(log);
  return false;
}

NatsServer::~NatsServer() { Kill(); }

std::string NatsServer::Url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

std::string NatsServer::Log() const { return Slurp(dir_.Join("nats.log")); }

void NatsServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool NatsServer::Restart(std::string* error) {
  Kill();
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Launch(error)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

storage::nats::NatsOptions NatsServer::ClientOptions(
    const std::string& bucket) const {
  storage::nats::NatsOptions o;
  o.port = port_;
  o.bucket = bucket;
  o.username = auth_.user;
  o.password = auth_.password;
  o.token = auth_.token;
  if (auth_.client) auth_.client(&o);
  return o;
}

base::Status NatsServer::CreateBucket(const std::string& bucket) {
  const storage::nats::NatsOptions o = ClientOptions(bucket);
  LK_ASSIGN_OR_RETURN(auto conn, storage::nats::Conn::Dial(o));
  // nats.go's CreateObjectStore stream configuration.
  nlohmann::json config = {
      {"name", "OBJ_" + bucket},
      {"subjects", {"$O." + bucket + ".C.>", "$O." + bucket + ".M.>"}},
      {"retention", "limits"},
      {"max_consumers", -1},
      {"max_msgs", -1},
      {"max_bytes", -1},
      {"max_age", 0},
      {"max_msgs_per_subject", -1},
      {"max_msg_size", -1},
      {"discard", "new"},
      {"storage", "file"},
      {"num_replicas", 1},
      {"duplicate_window", 120000000000},
      {"allow_rollup_hdrs", true},
      {"allow_direct", true},
      {"deny_delete", false},
      {"deny_purge", false}};
  LK_ASSIGN_OR_RETURN(
      storage::nats::Msg reply,
      conn->Request("$JS.API.STREAM.CREATE.OBJ_" + bucket, "", config.dump()));
  auto j = nlohmann::json::parse(reply.data, nullptr, false);
  if (reply.status == 503) {
    return base::UnavailableError("JetStream is not enabled");
  }
  if (!j.is_object()) return base::UnavailableError("unreadable answer");
  if (j.contains("error")) {
    return base::FailedPreconditionError("create bucket " + bucket + ": " +
                                         j["error"].dump());
  }
  return base::Status::Ok();
}

}  // namespace litekeep::testing
