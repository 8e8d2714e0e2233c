// Test harness for Azure Blob: starts Azurite (npm, strict mode: it checks
// Shared Key and SAS signatures, conditions and Content-MD5) on 127.0.0.1
// with a temporary data directory and a free port, waits for its ready
// line, creates a container, and stops it by PID. Also builds client
// options for the emulator's well-known development account and account SAS
// tokens signed with its key.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/abs/options.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

// Azurite's development account and its published key (Base64).
inline constexpr char kAzuriteAccount[] = "devstoreaccount1";
inline constexpr char kAzuriteKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
    "K1SZFPTOtr/KBHBeksoGMGw==";

class Azurite {
 public:
  // Starts Azurite and creates `container`; returns nullptr and sets *error
  // when it cannot (node or the npm package missing, no ready line).
  static std::unique_ptr<Azurite> Start(const std::string& container,
                                        std::string* error);
  ~Azurite();
  Azurite(const Azurite&) = delete;
  Azurite& operator=(const Azurite&) = delete;

  // Stops the server (SIGTERM, then SIGKILL after 5 s); data stays.
  void Stop();
  // Starts it again on the same port and data directory; false on failure.
  bool Restart();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:PORT/devstoreaccount1" (the path-style service URL).
  std::string endpoint() const;
  const std::string& container() const { return container_; }
  // Azurite's log with --debug: every request and the string-to-sign it
  // expected.
  std::string debug_log_path() const { return dir_.Join("debug.log"); }
  std::string log_path() const { return dir_.Join("azurite.log"); }

  // Options for the development account (Shared Key), container and path,
  // with short retry backoffs.
  storage::abs::AbsOptions Options(const std::string& path) const;

  // Sends one request for `blob` in the container, signed with the account
  // key, bypassing the client (as another tool could): returns the HTTP
  // status (0 when the server could not be reached), the body in *body and
  // the response headers (names lower-case) in *response_headers.
  long RawRequest(
      const std::string& method, const std::string& blob,
      const std::string& content,
      const std::vector<std::pair<std::string, std::string>>& headers,
      std::string* body = nullptr,
      std::vector<std::pair<std::string, std::string>>* response_headers =
          nullptr) const;

 private:
  Azurite() = default;
  bool Launch();
  TempDir dir_;
  std::string container_;
  std::string modules_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// An account SAS token (version 2019-12-12, blob service, resource types
// service/container/object) for account/key with permissions such as
// "rwdlac", valid until `expiry` ("2099-01-01T00:00:00Z"). Signed with
// HMAC-SHA256 as Azure's "Create an account SAS" describes.
std::string AccountSas(const std::string& account,
                       const std::string& key_base64,
                       const std::string& permissions,
                       const std::string& expiry);

}  // namespace litekeep::testing
