// Test harness for Google Cloud Storage: starts the GCS JSON-API test server
// (tests/support/gcs_server.py; objects, listings with page tokens, ranged
// reads, multipart and resumable uploads, ifGenerationMatch, bearer-token
// checks, an OAuth token endpoint that verifies RS256 JWTs, a metadata token
// endpoint, injected faults) on 127.0.0.1 with a temporary data directory and
// a free port, and stops it by PID. Also makes service-account key files
// (a fresh RSA key; the server gets the public half) and runs Google's Node
// client (@google-cloud/storage) against the server.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/gcs/options.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

// A service account key made for one test: key.json (private key, email,
// token_uri) for GOOGLE_APPLICATION_CREDENTIALS and the public key the
// server verifies JWTs with.
struct ServiceAccountFiles {
  std::string key_json_path;
  std::string public_pem_path;
  std::string client_email;
  std::string private_key_pem;  // to grep for in output
};

// Generates an RSA-2048 key pair into dir (files 0600) for token_uri.
ServiceAccountFiles MakeServiceAccount(const std::string& dir,
                                       const std::string& token_uri);

class GcsServer {
 public:
  struct Config {
    std::string bucket = "litekeep-test";
    // Storage requests need a bearer token the server issued.
    bool require_token = false;
    int token_lifetime_seconds = 3600;
    // Make a service account whose JWTs the token endpoint accepts.
    bool service_account = false;
  };
  // Starts the server; returns nullptr and sets *error when it cannot.
  static std::unique_ptr<GcsServer> Start(const Config& config,
                                          std::string* error);
  ~GcsServer();
  GcsServer(const GcsServer&) = delete;
  GcsServer& operator=(const GcsServer&) = delete;

  // Stops the server (SIGTERM, then SIGKILL after 5 s); data stays.
  void Stop();
  // Starts it again on the same port and data directory; false on failure.
  bool Restart();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:PORT".
  std::string endpoint() const;
  // "127.0.0.1:PORT" (for STORAGE_EMULATOR_HOST and GCE_METADATA_HOST).
  std::string host() const;
  const std::string& bucket() const { return config_.bucket; }
  const ServiceAccountFiles& service_account() const { return sa_; }
  std::string log_path() const { return dir_.Join("server.log"); }

  // Options for the bucket and path with the server as endpoint, short
  // retry backoffs, and no authentication (as with STORAGE_EMULATOR_HOST).
  storage::gcs::GcsOptions Options(const std::string& path) const;

  // Makes the next `count` requests of `kind` (list, get, meta, insert,
  // chunk, delete; "" = any) fail: mode "status" answers `status`, mode
  // "truncate" (get) announces the whole body and sends half.
  bool InjectFault(const std::string& kind, int count, int status = 503,
                   const std::string& mode = "status");
  // The server's counters (list, get, insert, delete, tokens_issued,
  // jwt_verified, jwt_rejected, metadata_tokens, unauthorized, faults).
  nlohmann::json Stats() const;
  // Every access token the server has issued and not yet expired (to
  // check that none is printed).
  std::vector<std::string> IssuedTokens() const;
  // Stores an object directly (a metadata-server token when required),
  // bypassing litekeep's client; the HTTP status.
  long PutRaw(const std::string& name, const std::string& bytes) const;

  // Runs @google-cloud/storage (tests/support/gcs_node_client.js) with the
  // commands (a JSON array) against the bucket; the parsed result array, or
  // a string describing the failure.
  nlohmann::json RunNodeClient(const nlohmann::json& commands,
                               std::string* error) const;

 private:
  GcsServer() = default;
  bool Launch();
  TempDir dir_;
  Config config_;
  ServiceAccountFiles sa_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace litekeep::testing
