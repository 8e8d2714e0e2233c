// The backend table and backend selection by replica type.
#include "storage/registry.h"

#include <algorithm>
#include <cstdlib>

#include "base/text.h"
#include "storage/abs/client.h"
#include "storage/abs/options.h"
#include "storage/age_replica.h"
#include "storage/file/file_client.h"
#include "storage/gcs/client.h"
#include "storage/gcs/options.h"
#include "storage/nats/client.h"
#include "storage/nats/options.h"
#include "storage/s3/client.h"
#include "storage/s3/options.h"
#include "storage/sftp/client.h"
#include "storage/sftp/options.h"
#include "storage/webdav/client.h"
#include "storage/webdav/options.h"

namespace litekeep::storage {
namespace {

base::Status CheckFile(ReplicaSettings* s) {
  if (s->path.empty()) {
    return base::InvalidArgumentError(
        "file replica has no path (set `path:` or use file:///dir)");
  }
  return base::Status::Ok();
}

Result<std::unique_ptr<ReplicaClient>> OpenFile(const ReplicaSettings& s) {
  return std::unique_ptr<ReplicaClient>(new FileReplicaClient(s.path));
}

Result<std::unique_ptr<ReplicaClient>> OpenS3(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(s3::S3Options o, s3::OptionsFromSettings(s));
  return s3::NewS3ReplicaClient(o);
}

// Alibaba OSS through its S3-compatible API (docs/config.md "Alibaba OSS"):
// region cn-hangzhou unless given (Litestream's default), endpoint
// https://oss-<region>.aliyuncs.com, virtual-hosted bucket names.
base::Status CheckOss(ReplicaSettings* s) {
  if (s->bucket.empty()) {
    return base::InvalidArgumentError(
        "oss replica has no bucket (set `bucket:` or use oss://BUCKET/path)");
  }
  if (s->region.empty()) s->region = "cn-hangzhou";
  if (s->endpoint.empty()) {
    s->endpoint = "https://oss-" + s->region + ".aliyuncs.com";
  }
  return s3::CheckSettings(s);
}

Result<std::unique_ptr<ReplicaClient>> OpenOss(const ReplicaSettings& in) {
  ReplicaSettings s = in;
  // OSS's own variables (as Litestream's OSS client reads them), before the
  // S3 credential chain.
  const char* id = std::getenv("OSS_ACCESS_KEY_ID");
  const char* secret = std::getenv("OSS_ACCESS_KEY_SECRET");
  if (s.access_key_id.empty() && s.secret_access_key.empty() && id != nullptr &&
      secret != nullptr && *id != '\0' && *secret != '\0') {
    s.access_key_id = id;
    s.secret_access_key = secret;
  }
  LK_ASSIGN_OR_RETURN(s3::S3Options o, s3::OptionsFromSettings(s));
  o.force_path_style = s.force_path_style;  // virtual-hosted unless asked
  return s3::NewS3ReplicaClient(o);
}

Result<std::unique_ptr<ReplicaClient>> OpenAbs(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(abs::AbsOptions o, abs::OptionsFromSettings(s));
  return abs::NewAbsReplicaClient(o);
}

Result<std::unique_ptr<ReplicaClient>> OpenGcs(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(gcs::GcsOptions o, gcs::OptionsFromSettings(s));
  return gcs::NewGcsReplicaClient(o);
}

Result<std::unique_ptr<ReplicaClient>> OpenNats(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(nats::NatsOptions o, nats::OptionsFromSettings(s));
  return nats::NewNatsReplicaClient(o);
}

Result<std::unique_ptr<ReplicaClient>> OpenSftp(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(sftp::SftpOptions o, sftp::OptionsFromSettings(s));
  return sftp::NewSftpReplicaClient(o);
}

Result<std::unique_ptr<ReplicaClient>> OpenWebdav(const ReplicaSettings& s) {
  LK_ASSIGN_OR_RETURN(webdav::WebdavOptions o, webdav::OptionsFromSettings(s));
  return webdav::NewWebdavReplicaClient(o);
}

std::vector<Backend> BuildTable() {
  return {
      {"file", {"file"}, {"path"}, &CheckFile, &OpenFile},
      {"s3",
       {"s3"},
       {"path",
        "bucket",
        "region",
        "endpoint",
        "force-path-style",
        "skip-verify",
        "ca-bundle",
        "access-key-id",
        "secret-access-key",
        "session-token",
        "profile",
        "storage-class",
        "part-size",
        "concurrency",
        "sign-payload",
        "require-content-md5",
        "sse",
        "sse-kms-key-id",
        "sse-customer-algorithm",
        "sse-customer-key",
        "sse-customer-key-path"},
       &s3::CheckSettings,
       &OpenS3},
      {"abs",
       {"abs"},
       {"path", "bucket", "endpoint", "account-name", "account-key",
        "sas-token", "skip-verify", "ca-bundle", "part-size", "concurrency"},
       &abs::CheckSettings,
       &OpenAbs},
      {"sftp",
       {"sftp"},
       {"path", "host", "user", "password", "key-path", "key-passphrase",
        "host-key", "known-hosts", "insecure-ignore-host-key",
        "concurrent-writes"},
       &sftp::CheckSettings,
       &OpenSftp},
      {"gcs",
       {"gcs", "gs"},
       {"path", "bucket", "endpoint", "skip-verify", "ca-bundle", "part-size"},
       &gcs::CheckSettings,
       &OpenGcs},
      {"oss",
       {"oss"},
       {"path", "bucket", "region", "endpoint", "force-path-style",
        "skip-verify", "ca-bundle", "access-key-id", "secret-access-key",
        "part-size", "concurrency"},
       &CheckOss,
       &OpenOss},
      {"webdav",
       {"webdav", "webdavs"},
       {"path", "webdav-url", "webdav-username", "webdav-password",
        "skip-verify", "ca-bundle"},
       &webdav::CheckSettings,
       &OpenWebdav},
      {"nats",
       {"nats"},
       {"bucket", "host", "username", "password", "token", "timeout",
        "reconnect-wait", "max-reconnects", "jwt", "seed", "creds", "nkey",
        "tls", "root-cas", "client-cert", "client-key"},
       &nats::CheckSettings,
       &OpenNats},

  };
}

}  // namespace

bool Backend::Uses(std::string_view key) const {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

const std::vector<Backend>& Backends() {
  static const auto* table = new std::vector<Backend>(BuildTable());
  return *table;
}

std::string SupportedBackendsText() {
  std::string out;
  for (const Backend& b : Backends()) {
    if (!b.built()) continue;
    if (!out.empty()) out += ", ";
    out += b.type;
  }
  return out;
}

Result<const Backend*> FindBuiltBackend(std::string_view name) {
  const std::string lower = base::Lower(name);
  std::vector<std::string_view> built;
  for (const Backend& b : Backends()) {
    if (b.built()) built.push_back(b.type);
    for (std::string_view n : b.names) {
      if (n != lower) continue;
      if (b.built()) return &b;
      return base::UnimplementedError(
          "\"" + lower + "\" (" + std::string(b.type) +
          ") replicas are not built in this litekeep; supported: " +
          SupportedBackendsText());
    }
  }
  return base::InvalidArgumentError("unknown replica type \"" + lower + "\"" +
                                    base::SuggestKey(lower, built) +
                                    "; supported: " + SupportedBackendsText());
}

base::Status CheckSettings(ReplicaSettings* settings) {
  if (settings->type.empty()) settings->type = "file";
  LK_ASSIGN_OR_RETURN(const Backend* b, FindBuiltBackend(settings->type));
  settings->type = std::string(b->type);
  return b->check(settings);
}

Result<std::unique_ptr<ReplicaClient>> NewReplicaClient(
    ReplicaSettings settings) {
  LK_RETURN_IF_ERROR(CheckSettings(&settings));
  LK_ASSIGN_OR_RETURN(const Backend* b, FindBuiltBackend(settings.type));
  if (!settings.age) return b->open(settings);
  LK_ASSIGN_OR_RETURN(std::unique_ptr<ReplicaClient> inner, b->open(settings));
  return std::unique_ptr<ReplicaClient>(new AgeReplica(
      std::move(inner), settings.age_recipients, settings.age_identities));
}

}  // namespace litekeep::storage
