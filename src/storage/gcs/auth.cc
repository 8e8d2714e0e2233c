// Application Default Credentials: discovery, the service-account JWT
// exchange, the authorized-user refresh, the metadata server, and the token
// cache.
#include "storage/gcs/auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "storage/hash.h"

namespace litekeep::storage::gcs {
namespace {

using json = nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string FormEncode(const KeyValues& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += UriEncode(k, true) + "=" + UriEncode(v, true);
  }
  return out;
}

// The value of a string member, or "".
std::string Str(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<std::string> SignJwt(const ServiceAccountKey& key,
                            std::string_view scope, TimePoint now) {
  const int64_t iat =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count();
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  const json claims = {{"iss", key.client_email},
                       {"scope", std::string(scope)},
                       {"aud", key.token_uri},
                       {"iat", iat},
                       {"exp", iat + 3600}};
  const std::string signing_input =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());

  BIO* bio = BIO_new_mem_buf(key.private_key.data(),
                             static_cast<int>(key.private_key.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) {
    return base::InvalidArgumentError(
        "service account " + key.client_email +
        ": private_key is not a PEM private key (value not shown)");
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
      EVP_DigestSign(
          ctx, nullptr, &len,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(
             ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
             reinterpret_cast<const unsigned char*>(signing_input.data()),
             signing_input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (!ok) {
    return base::InvalidArgumentError(
        "service account " + key.client_email +
        ": cannot sign with its private_key (is it an RSA key?)");
  }
  return signing_input + "." + Base64UrlEncode(sig);
}

// Where tokens come from.
struct TokenSource::Source {
  enum class Kind { kServiceAccount, kAuthorizedUser, kMetadata } kind;
  std::string file;  // the JSON file, if any
  ServiceAccountKey sa;
  // authorized_user
  std::string client_id, client_secret, refresh_token;  // secrets
  std::string token_uri;
  // metadata
  std::string metadata_host;
};

TokenSource::TokenSource(HttpOptions http, RetryPolicy retry)
    : http_(std::move(http)), retry_(std::move(retry)) {}

TokenSource::~TokenSource() = default;

Status TokenSource::Discover() {
  auto from_file = [&](const std::string& file,
                       const std::string& from) -> Status {
    std::ifstream in(file);
    if (!in) {
      return base::FailedPreconditionError(
          from + ": cannot read the credentials file " + file);
    }
    std::stringstream text;
    text << in.rdbuf();
    json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return base::InvalidArgumentError(from + ": " + file +
                                        " is not a JSON credentials file");
    }
    auto src = std::make_unique<Source>();
    src->file = file;
    const std::string type = Str(j, "type");
    if (type == "service_account") {
      src->kind = Source::Kind::kServiceAccount;
      src->sa.client_email = Str(j, "client_email");
      src->sa.private_key = Str(j, "private_key");
      src->sa.private_key_id = Str(j, "private_key_id");
      if (!Str(j, "token_uri").empty()) src->sa.token_uri = Str(j, "token_uri");
      if (src->sa.client_email.empty() || src->sa.private_key.empty()) {
        return base::InvalidArgumentError(from + ": service account file " +
                                          file +
                                          " lacks client_email or private_key");
      }
    } else if (type == "authorized_user") {
      src->kind = Source::Kind::kAuthorizedUser;
      src->client_id = Str(j, "client_id");
      src->client_secret = Str(j, "client_secret");
      src->refresh_token = Str(j, "refresh_token");
      src->token_uri = Str(j, "token_uri");
      if (src->token_uri.empty()) {
        src->token_uri = "https://oauth2.googleapis.com/token";
      }
      if (src->client_id.empty() || src->refresh_token.empty()) {
        return base::InvalidArgumentError(from + ": authorized user file " +
                                          file +
                                          " lacks client_id or refresh_token");
      }
    } else {
      return base::InvalidArgumentError(
          from + ": credentials file " + file + " has type \"" + type +
          "\"; supported: service_account, authorized_user");
    }
    source_ = std::move(src);
    return Status::Ok();
  };

  if (std::string file = Env("GOOGLE_APPLICATION_CREDENTIALS"); !file.empty()) {
    return from_file(file, "GOOGLE_APPLICATION_CREDENTIALS");
  }
  std::string dir = Env("CLOUDSDK_CONFIG");
  if (dir.empty() && !Env("HOME").empty())
    dir = Env("HOME") + "/.config/gcloud";
  if (!dir.empty()) {
    const std::string adc = dir + "/application_default_credentials.json";
    if (std::ifstream(adc).good()) return from_file(adc, "gcloud ADC file");
  }
  auto src = std::make_unique<Source>();
  src->kind = Source::Kind::kMetadata;
  src->metadata_host = Env("GCE_METADATA_HOST");
  if (src->metadata_host.empty())
    src->metadata_host = "metadata.google.internal";
  source_ = std::move(src);
  return Status::Ok();
}

std::string TokenSource::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!source_) return "";
  switch (source_->kind) {
    case Source::Kind::kServiceAccount:
      return "service account " + source_->sa.client_email + " from " +
             source_->file;
    case Source::Kind::kAuthorizedUser:
      return "authorized user from " + source_->file;
    case Source::Kind::kMetadata:
      return "the metadata server at " + source_->metadata_host;
  }
  return "";
}

int TokenSource::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

void TokenSource::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
}

Result<std::string> TokenSource::Fetch(std::chrono::seconds* lifetime) {
  HttpRequest req;
  std::string body;
  std::string what;
  switch (source_->kind) {
    case Source::Kind::kServiceAccount: {
      LK_ASSIGN_OR_RETURN(std::string jwt,
                          SignJwt(source_->sa, kStorageScope, Clock::now()));
      body = FormEncode(
          {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
           {"assertion", jwt}});
      req.method = "POST";
      req.url = source_->sa.token_uri;
      what = "service account " + source_->sa.client_email + " (" +
             source_->file + ") at " + source_->sa.token_uri;
      break;
    }
    case Source::Kind::kAuthorizedUser:
      body = FormEncode({{"grant_type", "refresh_token"},
                         {"client_id", source_->client_id},
                         {"client_secret", source_->client_secret},
                         {"refresh_token", source_->refresh_token}});
      req.method = "POST";
      req.url = source_->token_uri;
      what =
          "authorized user from " + source_->file + " at " + source_->token_uri;
      break;
    case Source::Kind::kMetadata:
      req.url = "http://" + source_->metadata_host +
                "/computeMetadata/v1/instance/service-accounts/default/token";
      req.headers = {{"Metadata-Flavor", "Google"}};
      what = "the metadata server at " + source_->metadata_host;
      break;
  }
  if (!body.empty()) {
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = body;
  }
  RetryBudget budget(retry_);
  for (;;) {
    auto resp = http_.Do(req);
    Status failure;
    if (!resp.ok()) {
      failure = resp.status();
    } else if (resp->status >= 500 || resp->status == 429) {
      failure = base::UnavailableError("HTTP " + std::to_string(resp->status));
    } else if (resp->status != 200) {
      // The answer may quote the assertion; only its error code is shown.
      json j = json::parse(resp->body, nullptr, false);
      std::string code = j.is_object() ? Str(j, "error") : "";
      return base::PermissionDeniedError(
          "gcs: getting an access token from " + what + " failed (HTTP " +
          std::to_string(resp->status) + (code.empty() ? "" : " " + code) +
          "); check the credentials");
    } else {
      json j = json::parse(resp->body, nullptr, false);
      std::string token = j.is_object() ? Str(j, "access_token") : "";
      if (token.empty()) {
        return base::PermissionDeniedError("gcs: the token answer from " +
                                           what + " has no access_token");
      }
      int64_t secs = 3600;
      if (auto it = j.find("expires_in");
          it != j.end() && it->is_number_integer()) {
        secs = it->get<int64_t>();
      }
      *lifetime = std::chrono::seconds(std::max<int64_t>(secs, 1));
      return token;
    }
    if (!budget.RetryAfterFailure(failure)) {
      Status gave_up =
          budget.GiveUp("gcs: getting an access token from " + what);
      if (source_->kind == Source::Kind::kMetadata) {
        return base::UnavailableError(
            gave_up.message() +
            " (no GOOGLE_APPLICATION_CREDENTIALS and no gcloud ADC file, so "
            "the metadata server was asked; outside Google Cloud set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file)");
      }
      return gave_up;
    }
  }
}

Result<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  const auto margin =
      std::min<std::chrono::seconds>(std::chrono::seconds(60), lifetime_ / 4);
  if (!token_.empty() && now + margin < expiry_) return token_;
  if (!source_) LK_RETURN_IF_ERROR(Discover());
  std::chrono::seconds lifetime{};
  LK_ASSIGN_OR_RETURN(std::string token, Fetch(&lifetime));
  ++fetches_;
  token_ = std::move(token);
  lifetime_ = lifetime;
  expiry_ = now + lifetime;
  return token_;
}

}  // namespace litekeep::storage::gcs
