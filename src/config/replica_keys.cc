// The replica keys of Litestream 0.3 and 0.5 that litekeep knows: how each
// is parsed, which ReplicaConfig member it fills, and which may also appear
// at the top level as a default for every replica.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/internal.h"

namespace litekeep::config {
namespace internal {
namespace {

using K = KeyKind;
using R = ReplicaConfig;

std::vector<ReplicaKey> BuildTable() {
  const bool kTop = true;
  const bool kLocal = false;
  return {
      // Destination (0.3 and 0.5).
      {"type", K::kString, &R::type, kLocal},
      {"name", K::kString, &R::name, kLocal},
      {"url", K::kString, &R::url, kLocal},
      {"path", K::kString, &R::path, kLocal},
      // Timing. sync-interval and validation-interval: 0.3 and 0.5;
      // retention, retention-check-interval, snapshot-interval: 0.3.
      {"sync-interval", K::kDuration, &R::sync_interval, kTop},
      {"validation-interval", K::kOptDuration, &R::validation_interval, kTop},
      // litekeep's alias of validation-interval (docs/config.md, "Replica
      // keys").
      {"verify-interval", K::kOptDuration, &R::validation_interval, kTop},
      {"retention", K::kOptDuration, &R::retention, kTop},
      {"retention-check-interval", K::kOptDuration,
       &R::retention_check_interval, kTop},
      {"snapshot-interval", K::kOptDuration, &R::snapshot_interval, kTop},
      {"max-sync-ltx-files", K::kOptCount, &R::max_sync_ltx_files, kTop},
      {"auto-recover", K::kOptBool, &R::auto_recover, kTop},
      // S3 and S3-compatible stores (GCS takes bucket and path).
      {"access-key-id", K::kString, &R::access_key_id, kTop},
      {"secret-access-key", K::kSecret, &R::secret_access_key, kTop},
      {"region", K::kString, &R::region, kTop},
      {"bucket", K::kString, &R::bucket, kTop},
      {"endpoint", K::kString, &R::endpoint, kTop},
      {"force-path-style", K::kBool, &R::force_path_style, kTop},
      {"skip-verify", K::kBool, &R::skip_verify, kTop},
      {"sign-payload", K::kOptBool, &R::sign_payload, kTop},
      {"require-content-md5", K::kOptBool, &R::require_content_md5, kTop},
      {"storage-class", K::kString, &R::storage_class, kTop},
      {"part-size", K::kOptByteSize, &R::part_size, kTop},
      {"concurrency", K::kOptCount, &R::concurrency, kTop},
      {"sse-customer-algorithm", K::kString, &R::sse_customer_algorithm, kTop},
      {"sse-customer-key", K::kSecret, &R::sse_customer_key, kTop},
      {"sse-customer-key-path", K::kString, &R::sse_customer_key_path, kTop},
      {"sse-kms-key-id", K::kString, &R::sse_kms_key_id, kTop},
      // Azure Blob Storage (the container is `bucket`).
      {"account-name", K::kString, &R::account_name, kTop},
      {"account-key", K::kSecret, &R::account_key, kTop},
      {"sas-token", K::kSecret, &R::sas_token, kTop},
      // SFTP.
      {"host", K::kString, &R::host, kTop},
      {"user", K::kString, &R::user, kTop},
      {"password", K::kSecret, &R::password, kTop},
      {"key-path", K::kString, &R::key_path, kTop},
      {"host-key", K::kString, &R::host_key, kTop},
      {"concurrent-writes", K::kOptBool, &R::concurrent_writes, kTop},
      // WebDAV and NATS (Litestream 0.5): accepted, not acted on.
      {"webdav-url", K::kUnused, {}, kTop},
      {"webdav-username", K::kUnused, {}, kTop},
      {"webdav-password", K::kUnusedSecret, {}, kTop},
      {"jwt", K::kUnusedSecret, {}, kTop},
      {"seed", K::kUnusedSecret, {}, kTop},
      {"creds", K::kUnused, {}, kTop},
      {"nkey", K::kUnusedSecret, {}, kTop},
      {"username", K::kUnused, {}, kTop},
      {"token", K::kUnusedSecret, {}, kTop},
      {"tls", K::kUnused, {}, kTop},
      {"root-cas", K::kUnused, {}, kTop},
      {"client-cert", K::kUnused, {}, kTop},
      {"client-key", K::kUnused, {}, kTop},
      {"max-reconnects", K::kUnused, {}, kTop},
      {"reconnect-wait", K::kUnused, {}, kTop},
      {"timeout", K::kUnused, {}, kTop},
      // Client-side encryption (0.3; refused by 0.5 and by litekeep).
      {"age", K::kRejected, {}, kTop},
  };
}

template <typename T>
T& Member(ReplicaConfig* r, const ReplicaField& f) {
  return r->*std::get<T ReplicaConfig::*>(f);
}

}  // namespace

const std::vector<ReplicaKey>& ReplicaKeys() {
  static const std::vector<ReplicaKey>* table =
      new std::vector<ReplicaKey>(BuildTable());
  return *table;
}

const ReplicaKey* FindReplicaKey(std::string_view name) {
  for (const ReplicaKey& key : ReplicaKeys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

Status SetReplicaValue(const ReplicaKey& key, std::string_view text,
                       ReplicaConfig* replica) {
  switch (key.kind) {
    case K::kString:
    case K::kSecret:
      Member<std::string>(replica, key.field) = std::string(text);
      return Status::Ok();
    case K::kBool: {
      LK_ASSIGN_OR_RETURN(bool v, ParseBool(text));
      Member<bool>(replica, key.field) = v;
      return Status::Ok();
    }
    case K::kOptBool: {
      LK_ASSIGN_OR_RETURN(bool v, ParseBool(text));
      Member<std::optional<bool>>(replica, key.field) = v;
      return Status::Ok();
    }
    case K::kDuration:
    case K::kOptDuration: {
      LK_ASSIGN_OR_RETURN(Duration d, ParseDuration(text));
      if (d.count() < 0) {
        return base::InvalidArgumentError("must not be negative, got \"" +
                                          std::string(text) + "\"");
      }
      if (key.kind == K::kDuration) {
        // sync-interval 0 is litekeep's wake-on-change mode (sync as soon
        // as the WAL is written).
        if (d.count() == 0 && key.name != "sync-interval") {
          return base::InvalidArgumentError("must be greater than 0");
        }
        Member<Duration>(replica, key.field) = d;
      } else {
        Member<std::optional<Duration>>(replica, key.field) = d;
      }
      return Status::Ok();
    }
    case K::kOptCount:
    case K::kOptByteSize: {
      int64_t v = 0;
      if (key.kind == K::kOptCount) {
        LK_ASSIGN_OR_RETURN(v, ParseInt(text));
      } else {
        LK_ASSIGN_OR_RETURN(v, ParseByteSize(text));
      }
      if (v < 0) {
        return base::InvalidArgumentError("must not be negative, got " +
                                          std::to_string(v));
      }
      Member<std::optional<int64_t>>(replica, key.field) = v;
      return Status::Ok();
    }
    case K::kUnused:
    case K::kUnusedSecret:
      replica->unused[std::string(key.name)] = std::string(text);
      return Status::Ok();
    case K::kRejected:
      return base::UnimplementedError(
          "age encryption is not supported by litekeep (nor by Litestream "
          "0.5); remove it or use storage-side encryption");
  }
  return base::InternalError("unhandled key kind");
}

void CopyReplicaValue(const ReplicaKey& key, const ReplicaConfig& from,
                      ReplicaConfig* to) {
  if (std::holds_alternative<std::monostate>(key.field)) {
    auto it = from.unused.find(std::string(key.name));
    if (it != from.unused.end()) to->unused[it->first] = it->second;
    return;
  }
  std::visit(
      [&](auto member) {
        if constexpr (!std::is_same_v<decltype(member), std::monostate>) {
          to->*member = from.*member;
        }
      },
      key.field);
}

bool IsSupportedType(std::string_view type) {
  return type == "file" || type == "s3" || type == "gs" || type == "gcs" ||
         type == "abs" || type == "sftp";
}

bool IsUnsupportedLitestreamType(std::string_view type) {
  return type == "webdav" || type == "webdavs" || type == "nats" ||
         type == "oss";
}

std::string_view SupportedTypesText() {
  return "file, s3, gs (gcs), abs, sftp";
}

}  // namespace internal

void ApplyReplicaDefaults(const Config& config, ReplicaConfig* replica) {
  const ReplicaConfig& d = config.replica_defaults;
  auto fill = [](std::string& field, const std::string& value) {
    if (field.empty()) field = value;
  };
  fill(replica->access_key_id, d.access_key_id);
  fill(replica->secret_access_key, d.secret_access_key);
  fill(replica->region, d.region);
  fill(replica->endpoint, d.endpoint);
  fill(replica->account_name, d.account_name);
  fill(replica->account_key, d.account_key);
  fill(replica->sas_token, d.sas_token);
  fill(replica->user, d.user);
  fill(replica->password, d.password);
  fill(replica->key_path, d.key_path);
  fill(replica->host_key, d.host_key);
  fill(replica->storage_class, d.storage_class);
  fill(replica->sse_customer_algorithm, d.sse_customer_algorithm);
  fill(replica->sse_customer_key, d.sse_customer_key);
  fill(replica->sse_customer_key_path, d.sse_customer_key_path);
  fill(replica->sse_kms_key_id, d.sse_kms_key_id);
  if (d.skip_verify) replica->skip_verify = true;
  // URLs cannot carry a sync interval: a replica still at the default takes
  // the configured one.
  if (replica->sync_interval == ReplicaConfig().sync_interval) {
    replica->sync_interval = d.sync_interval;
  }
  if (!replica->retention) replica->retention = config.retention;
  if (!replica->retention_check_interval) {
    replica->retention_check_interval = config.retention_check_interval;
  }
  if (!replica->snapshot_interval) {
    replica->snapshot_interval = config.snapshot_interval;
  }
  if (!replica->validation_interval) {
    replica->validation_interval = config.validation_interval;
  }
}

}  // namespace litekeep::config
