// ReplicaSettings -> AbsOptions, and the choice of credentials.
#include "storage/abs/options.h"

#include <cstdlib>

#include "base/text.h"
#include "storage/abs/shared_key.h"
#include "storage/url.h"

namespace litekeep::storage::abs {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

base::Status CheckSettings(ReplicaSettings* s) {
  if (s->account_name.empty()) {
    return base::InvalidArgumentError(
        "abs replica has no storage account (set `account-name:` or use "
        "abs://ACCOUNT@CONTAINER/path)");
  }
  if (s->bucket.empty()) {
    return base::InvalidArgumentError(
        "abs replica has no container (set `bucket:` or use "
        "abs://ACCOUNT@CONTAINER/path)");
  }
  if (!s->endpoint.empty()) {
    s->endpoint = EnsureEndpointScheme(s->endpoint);
    if (RedactUrlText(s->endpoint) != s->endpoint) {
      return base::InvalidArgumentError(
          "abs endpoint " + RedactUrlText(s->endpoint) +
          " carries credentials; use account-key or sas-token");
    }
  }
  if (s->part_size && *s->part_size < (64 << 10)) {
    return base::InvalidArgumentError(
        "part-size: must be at least 64KiB for Azure blocks, got " +
        std::to_string(*s->part_size) + " bytes");
  }
  if (s->part_size && *s->part_size > (int64_t{4000} << 20)) {
    return base::InvalidArgumentError(
        "part-size: Azure blocks are at most 4000MiB, got " +
        std::to_string(*s->part_size) + " bytes");
  }
  if (s->concurrency && (*s->concurrency < 1 || *s->concurrency > 1024)) {
    return base::InvalidArgumentError(
        "concurrency: must be between 1 and 1024, got " +
        std::to_string(*s->concurrency));
  }
  return base::Status::Ok();
}

Result<AbsOptions> OptionsFromSettings(const ReplicaSettings& s) {
  AbsOptions o;
  o.account = s.account_name;
  o.container = s.bucket;
  o.path = s.path;
  o.endpoint = s.endpoint;
  o.skip_verify = s.skip_verify;
  o.ca_bundle = s.ca_bundle;
  if (s.part_size) o.block_size = *s.part_size;
  if (s.concurrency) o.concurrency = static_cast<int>(*s.concurrency);

  std::string sas = s.sas_token;
  std::string sas_from = "sas-token";
  if (sas.empty()) {
    sas = Env("LITESTREAM_AZURE_SAS_TOKEN");
    sas_from = "LITESTREAM_AZURE_SAS_TOKEN";
  }
  std::string key = s.account_key;
  std::string key_from = "account-key";
  if (key.empty()) {
    key = Env("LITESTREAM_AZURE_ACCOUNT_KEY");
    key_from = "LITESTREAM_AZURE_ACCOUNT_KEY";
  }
  sas = base::Trim(sas);
  if (!sas.empty()) {
    if (sas.front() == '?') sas.erase(0, 1);
    if (sas.find("sig=") == std::string::npos) {
      return base::InvalidArgumentError(
          sas_from + ": not a SAS token (no sig= parameter; value not shown)");
    }
    o.auth = Auth::kSas;
    o.sas_token = sas;
    return o;
  }
  if (key.empty()) {
    return base::FailedPreconditionError(
        "abs account " + o.account +
        ": no credentials; set sas-token or account-key in the config, or "
        "LITESTREAM_AZURE_SAS_TOKEN or LITESTREAM_AZURE_ACCOUNT_KEY in the "
        "environment");
  }
  auto decoded = Base64Decode(base::Trim(key));
  if (!decoded.ok() || decoded->empty()) {
    return base::InvalidArgumentError(
        key_from + ": an Azure account key is Base64 (" +
        (decoded.ok() ? std::string("empty") : decoded.status().message()) +
        ")");
  }
  o.auth = Auth::kSharedKey;
  o.account_key = std::move(*decoded);
  return o;
}

}  // namespace litekeep::storage::abs
