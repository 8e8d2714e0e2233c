// Application Default Credentials for the GCS backend (docs/config.md
// "Google Cloud Storage", auth order): the service-account or authorized-user
// JSON named by GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known ADC
// file, else the metadata server (GCE_METADATA_HOST or
// metadata.google.internal). A service account signs an RS256 JWT with its
// private key (OpenSSL) and exchanges it at its token_uri for an access
// token. Tokens are cached and refreshed before they expire. No token, key
// or secret ever appears in a message.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "base/types.h"
#include "storage/http.h"
#include "storage/retry.h"

namespace litekeep::storage::gcs {

// The OAuth scope the backend asks for.
inline constexpr char kStorageScope[] =
    "https://www.googleapis.com/auth/devstorage.read_write";

// A service account key file's fields (the secret ones never printed).
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;  // PEM (secret)
  std::string private_key_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
};

// The signed JWT assertion (header.claims.signature, RS256) a service account
// exchanges for an access token, issued at `now` for one hour.
Result<std::string> SignJwt(const ServiceAccountKey& key,
                            std::string_view scope, TimePoint now);

// Finds and caches access tokens. Thread-safe.
class TokenSource {
 public:
  TokenSource(HttpOptions http, RetryPolicy retry);
  ~TokenSource();

  // A valid access token: the cached one, or a new one when none is cached
  // or it expires within the refresh margin (a quarter of its lifetime, at
  // most a minute). The first call finds the credentials (auth order above).
  Result<std::string> Token();
  // Forgets the cached token (the store refused it).
  void Invalidate();
  // Which credentials are in use ("service account a@b from /path/key.json",
  // "the metadata server at HOST"); "" before the first Token().
  std::string Describe() const;
  // Tokens fetched so far (for tests and metrics).
  int fetches() const;

 private:
  struct Source;
  Status Discover();
  // A new token from the source and its lifetime.
  Result<std::string> Fetch(std::chrono::seconds* lifetime);

  HttpClient http_;
  RetryPolicy retry_;
  mutable std::mutex mu_;
  std::unique_ptr<Source> source_;
  std::string token_;  // secret
  std::chrono::steady_clock::time_point expiry_{};
  std::chrono::seconds lifetime_{};
  int fetches_ = 0;
};

}  // namespace litekeep::storage::gcs
