// Implementation of the Azurite harness and the account SAS builder.
#include "tests/support/azurite.h"

#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/abs/client.h"
#include "storage/abs/shared_key.h"
#include "storage/http.h"
#include "storage/s3/sigv4.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
std::unique_ptr<Azurite> Azurite::Start(const std::string& container,
                                        std::string* error) {
  if (!HaveNode()) {
    *error = "node is not installed";
    return nullptr;
  }
  std::string modules = NpmModulesDir();
  if (modules.empty() ||
      !std::filesystem::exists(modules + "/azurite/dist/src/blob/main.js")) {
    *error = "npm package azurite is missing (scripts/install-deps.sh --test)";
    return nullptr;
  }
  std::unique_ptr<Azurite> a(new Azurite());
  a->container_ = container;
  a->modules_ = modules;
  std::filesystem::create_directories(a->dir_.Join("data"));
  for (int attempt = 0; attempt < 3; ++attempt) {
    a->port_ = FreePort();
    if (a->Launch()) break;
  }
  if (a->pid_ < 0) {
    *error = "azurite did not start: " + ReadFile(a->log_path());
    return nullptr;
  }
  base::Status s = storage::abs::CreateContainer(a->Options(""));
  if (!s.ok()) {
    *error = "create container: " + s.ToString();
    return nullptr;
  }
  return a;
}

bool Azurite::Launch() {
  std::ofstream(log_path(), std::ios::trunc).close();
  pid_ = SpawnLogged(
      {"node", modules_ + "/azurite/dist/src/blob/main.js", "--blobHost",
       "127.0.0.1", "--blobPort", std::to_string(port_), "--location",
       dir_.Join("data"), "--disableTelemetry", "--skipApiVersionCheck",
       "--debug", debug_log_path()},
      log_path());
  const std::string ready =
      "successfully listens on http://127.0.0.1:" + std::to_string(port_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
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

Azurite::~Azurite() { Stop(); }

void Azurite::Stop() {
  StopPid(pid_);
  pid_ = -1;
}

bool Azurite::Restart() {
  Stop();
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Launch()) return true;
    // The port may linger for a moment after the old process exits.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

std::string Azurite::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + kAzuriteAccount;
}

storage::abs::AbsOptions Azurite::Options(const std::string& path) const {
  storage::abs::AbsOptions o;
  o.account = kAzuriteAccount;
  o.container = container_;
  o.path = path;
  o.endpoint = endpoint();
  o.account_key = *storage::abs::Base64Decode(kAzuriteKey);
  o.retry.backoff_base = std::chrono::milliseconds(20);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  return o;
}

long Azurite::RawRequest(
    const std::string& method, const std::string& blob,
    const std::string& content,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::string* body,
    std::vector<std::pair<std::string, std::string>>* response_headers) const {
  const std::string path =
      std::string("/") + kAzuriteAccount + "/" + container_ + "/" + blob;
  storage::abs::SharedKeyRequest sk;
  sk.method = method;
  sk.account = kAzuriteAccount;
  sk.path = storage::s3::UriEncode(path, false);
  sk.headers = {{"x-ms-date", storage::abs::Rfc1123Date(Clock::now())},
                {"x-ms-version", "2021-08-06"}};
  for (const auto& h : headers) sk.headers.push_back(h);
  storage::HttpRequest req;
  req.method = method;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + sk.path;
  req.headers = sk.headers;
  sk.headers.emplace_back("Content-Length", std::to_string(content.size()));
  req.headers.emplace_back(
      "Authorization",
      storage::abs::SharedKeyAuthorization(
          kAzuriteAccount, *storage::abs::Base64Decode(kAzuriteKey),
          storage::abs::StringToSign(sk)));
  req.body = content;
  storage::HttpClient http(storage::HttpOptions{});
  auto resp = http.Do(req);
  if (!resp.ok()) return 0;
  if (body != nullptr) *body = resp->body;
  if (response_headers != nullptr) *response_headers = resp->headers;
  return resp->status;
}

std::string AccountSas(const std::string& account,
                       const std::string& key_base64,
                       const std::string& permissions,
                       const std::string& expiry) {
  const std::string version = "2019-12-12";
  const std::string to_sign = account + "\n" + permissions + "\nb\nsco\n\n" +
                              expiry + "\n\nhttps,http\n" + version + "\n";
  auto key = storage::abs::Base64Decode(key_base64);
  const std::string sig =
      storage::abs::SharedKeySignature(key.ok() ? *key : "", to_sign);
  return "sv=" + version + "&ss=b&srt=sco&sp=" + permissions +
         "&se=" + storage::s3::UriEncode(expiry, true) +
         "&spr=https,http&sig=" + storage::s3::UriEncode(sig, true);
}

}  // namespace litekeep::testing
