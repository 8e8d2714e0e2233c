// Implementation of the GCS test server harness and the service account
// key maker.
#include "tests/support/gcs_server.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/hash.h"
#include "storage/http.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using json = nlohmann::json;

// Writes a new file readable only by its owner.
bool WritePrivate(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) ==
            static_cast<ssize_t>(content.size());
  ::close(fd);
  return ok;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

ServiceAccountFiles MakeServiceAccount(const std::string& dir,
                                       const std::string& token_uri) {
  ServiceAccountFiles out;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* priv = BIO_new(BIO_s_mem());
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub, key);
  out.private_key_pem = BioText(priv);
  const std::string public_pem = BioText(pub);
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(key);
  out.client_email = "litekeep-test@litekeep-test.iam.gserviceaccount.com";
  out.key_json_path = dir + "/key.json";
  out.public_pem_path = dir + "/public.pem";
  const json file = {{"type", "service_account"},
                     {"project_id", "litekeep-test"},
                     {"private_key_id", "0123456789abcdef"},
                     {"private_key", out.private_key_pem},
                     {"client_email", out.client_email},
                     {"client_id", "1234567890"},
                     {"token_uri", token_uri}};
  WritePrivate(out.key_json_path, file.dump(2));
  WritePrivate(out.public_pem_path, public_pem);
  return out;
}

std::unique_ptr<GcsServer> GcsServer::Start(const Config& config,
                                            std::string* error) {
  if (RunShell("python3 -c 'import cryptography' 2>/dev/null").exit_code != 0) {
    *error = "python3 with the cryptography module is missing";
    return nullptr;
  }
  std::unique_ptr<GcsServer> s(new GcsServer());
  s->config_ = config;
  std::filesystem::create_directories(s->dir_.Join("data"));
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    // The token_uri names the port, so the key is made once it is known.
    if (config.service_account) {
      std::filesystem::remove(s->dir_.Join("key.json"));
      std::filesystem::remove(s->dir_.Join("public.pem"));
      s->sa_ = MakeServiceAccount(s->dir_.path(), s->endpoint() + "/token");
    }
    if (s->Launch()) break;
  }
  if (s->pid_ < 0) {
    *error = "gcs test server did not start: " + ReadFile(s->log_path());
    return nullptr;
  }
  return s;
}

bool GcsServer::Launch() {
  std::ofstream(log_path(), std::ios::trunc).close();
  std::vector<std::string> argv = {
      "python3",          SourceDir() + "/tests/support/gcs_server.py",
      "--port",           std::to_string(port_),
      "--data",           dir_.Join("data"),
      "--bucket",         config_.bucket,
      "--token-lifetime", std::to_string(config_.token_lifetime_seconds)};
  if (config_.require_token) argv.push_back("--require-token");
  if (config_.service_account) {
    argv.insert(argv.end(), {"--public-key", sa_.public_pem_path,
                             "--client-email", sa_.client_email});
  }
  pid_ = SpawnLogged(argv, log_path());
  const std::string ready = "listening on " + endpoint();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(log_path()).find(ready) != std::string::npos) return true;
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  StopPid(pid_);
  pid_ = -1;
  return false;
}

GcsServer::~GcsServer() { Stop(); }

void GcsServer::Stop() {
  StopPid(pid_);
  pid_ = -1;
}

bool GcsServer::Restart() {
  Stop();
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Launch()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

std::string GcsServer::endpoint() const { return "http://" + host(); }

std::string GcsServer::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}

storage::gcs::GcsOptions GcsServer::Options(const std::string& path) const {
  storage::gcs::GcsOptions o;
  o.bucket = config_.bucket;
  o.path = path;
  o.endpoint = endpoint();
  o.anonymous = true;
  o.retry.backoff_base = std::chrono::milliseconds(20);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  return o;
}

bool GcsServer::InjectFault(const std::string& kind, int count, int status,
                            const std::string& mode) {
  const std::string body = json{
      {"match", kind},
      {"count", count},
      {"status", status},
      {"mode", mode}}.dump();
  storage::HttpRequest req;
  req.method = "POST";
  req.url = endpoint() + "/_control/fault";
  req.body = body;
  storage::HttpClient http(storage::HttpOptions{});
  auto resp = http.Do(req);
  return resp.ok() && resp->status == 200;
}

json GcsServer::Stats() const {
  storage::HttpRequest req;
  req.url = endpoint() + "/_control/stats";
  storage::HttpClient http(storage::HttpOptions{});
  auto resp = http.Do(req);
  if (!resp.ok() || resp->status != 200) return json::object();
  return json::parse(resp->body, nullptr, false);
}

std::vector<std::string> GcsServer::IssuedTokens() const {
  std::vector<std::string> out;
  json j = json::parse(ReadFile(dir_.Join("data/tokens.json")), nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [token, expiry] : j.items()) out.push_back(token);
  return out;
}

long GcsServer::PutRaw(const std::string& name,
                       const std::string& bytes) const {
  storage::HttpClient http(storage::HttpOptions{});
  storage::HttpRequest req;
  req.method = "POST";
  req.url = endpoint() + "/upload/storage/v1/b/" + config_.bucket +
            "/o?uploadType=media&name=" + storage::UriEncode(name, true);
  if (config_.require_token) {
    storage::HttpRequest t;
    t.url = endpoint() +
            "/computeMetadata/v1/instance/service-accounts/default/token";
    t.headers = {{"Metadata-Flavor", "Google"}};
    auto tr = http.Do(t);
    if (!tr.ok() || tr->status != 200) return 0;
    json j = json::parse(tr->body, nullptr, false);
    req.headers.emplace_back(
        "Authorization", "Bearer " + j.value("access_token", std::string()));
  }
  req.headers.emplace_back("Content-Type", "application/octet-stream");
  req.body = bytes;
  auto resp = http.Do(req);
  return resp.ok() ? resp->status : 0;
}

json GcsServer::RunNodeClient(const json& commands, std::string* error) const {
  if (!HaveNode()) {
    *error = "node is not installed";
    return nullptr;
  }
  const std::string modules = NpmModulesDir();
  if (modules.empty() ||
      !std::filesystem::exists(modules + "/@google-cloud/storage")) {
    *error =
        "npm package @google-cloud/storage is missing "
        "(scripts/install-deps.sh --test)";
    return nullptr;
  }
  CommandResult r =
      Run({"env", "STORAGE_EMULATOR_HOST=" + endpoint(), "NODE_PATH=" + modules,
           "node", SourceDir() + "/tests/support/gcs_node_client.js",
           commands.dump(), config_.bucket});
  if (r.exit_code != 0) {
    *error = "node client failed: " + r.err;
    return nullptr;
  }
  json out = json::parse(r.out, nullptr, false);
  if (!out.is_array()) {
    *error = "node client printed: " + r.out + r.err;
    return nullptr;
  }
  return out;
}

}  // namespace litekeep::testing
