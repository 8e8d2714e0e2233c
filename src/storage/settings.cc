// The storage setting keys: how each is parsed and which ReplicaSettings
// member it fills. docs/config.md lists them per backend.
#include "storage/settings.h"

#include <type_traits>

#include "base/text.h"
#include "storage/registry.h"

namespace litekeep::storage {
namespace {

using K = SettingKind;

using S = ReplicaSettings;

std::vector<SettingKey> BuildTable() {
  return {
      {"path", K::kString, &S::path},
      // S3 and S3-compatible stores.
      {"bucket", K::kString, &S::bucket},
      {"region", K::kString, &S::region},
      {"endpoint", K::kString, &S::endpoint},
      {"force-path-style", K::kBool, &S::force_path_style},
      {"skip-verify", K::kBool, &S::skip_verify},
      {"ca-bundle", K::kString, &S::ca_bundle},
      {"access-key-id", K::kString, &S::access_key_id},
      {"secret-access-key", K::kSecret, &S::secret_access_key},
      {"session-token", K::kSecret, &S::session_token},
      {"profile", K::kString, &S::profile},
      {"storage-class", K::kString, &S::storage_class},
      {"part-size", K::kOptByteSize, &S::part_size},
      {"concurrency", K::kOptCount, &S::concurrency},
      {"sign-payload", K::kOptBool, &S::sign_payload},
      {"require-content-md5", K::kOptBool, &S::require_content_md5},
      {"sse", K::kString, &S::sse},
      {"sse-kms-key-id", K::kString, &S::sse_kms_key_id},
      {"sse-customer-algorithm", K::kString, &S::sse_customer_algorithm},
      {"sse-customer-key", K::kSecret, &S::sse_customer_key},
      {"sse-customer-key-path", K::kString, &S::sse_customer_key_path},
      // Azure Blob.
      {"account-name", K::kString, &S::account_name},
      {"account-key", K::kSecret, &S::account_key},
      {"sas-token", K::kSecret, &S::sas_token},
      // SFTP.
      {"host", K::kString, &S::host},
      {"user", K::kString, &S::user},
      {"password", K::kSecret, &S::password},
      {"key-path", K::kString, &S::key_path},
      {"key-passphrase", K::kSecret, &S::key_passphrase},
      {"host-key", K::kString, &S::host_key},
      {"known-hosts", K::kString, &S::known_hosts},
      {"insecure-ignore-host-key", K::kBool, &S::insecure_ignore_host_key},
      {"concurrent-writes", K::kOptBool, &S::concurrent_writes},
      // WebDAV.
      {"webdav-url", K::kString, &S::webdav_url},
      {"webdav-username", K::kString, &S::webdav_username},
      {"webdav-password", K::kSecret, &S::webdav_password},
      // Settings of backends Litestream has and this build does not.
      // NATS.
      {"username", K::kString, &S::username},
      {"token", K::kSecret, &S::token},
      {"timeout", K::kString, &S::timeout},
      {"reconnect-wait", K::kString, &S::reconnect_wait},
      {"max-reconnects", K::kString, &S::max_reconnects},
      {"jwt", K::kSecret, &S::jwt},
      {"seed", K::kSecret, &S::seed},
      {"creds", K::kString, &S::creds},
      {"nkey", K::kSecret, &S::nkey},
      {"tls", K::kOptBool, &S::tls},
      {"root-cas", K::kStringList, &S::root_cas},
      {"client-cert", K::kString, &S::client_cert},
      {"client-key", K::kString, &S::client_key},
  };
}

template <typename T>
T& Member(ReplicaSettings* s, const SettingField& f) {
  return s->*std::get<T ReplicaSettings::*>(f);
}

}  // namespace

const std::vector<SettingKey>& SettingKeys() {
  static const auto* table = new std::vector<SettingKey>(BuildTable());
  return *table;
}

const SettingKey* FindSetting(std::string_view name) {
  for (const SettingKey& key : SettingKeys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

base::Status SetSetting(const SettingKey& key, std::string_view text,
                        ReplicaSettings* settings) {
  switch (key.kind) {
    case K::kString:
    case K::kSecret:
      Member<std::string>(settings, key.field) = std::string(text);
      return base::Status::Ok();
    case K::kBool: {
      LK_ASSIGN_OR_RETURN(bool v, base::ParseBool(text));
      Member<bool>(settings, key.field) = v;
      return base::Status::Ok();
    }
    case K::kOptBool: {
      LK_ASSIGN_OR_RETURN(bool v, base::ParseBool(text));
      Member<std::optional<bool>>(settings, key.field) = v;
      return base::Status::Ok();
    }
    case K::kOptCount:
    case K::kOptByteSize: {
      int64_t v = 0;
      if (key.kind == K::kOptCount) {
        LK_ASSIGN_OR_RETURN(v, base::ParseInt(text));
      } else {
        LK_ASSIGN_OR_RETURN(v, base::ParseByteSize(text));
      }
      if (v < 0) {
        return base::InvalidArgumentError("must not be negative, got " +
                                          std::to_string(v));
      }
      Member<std::optional<int64_t>>(settings, key.field) = v;
      return base::Status::Ok();
    }
    case K::kStringList:
      Member<std::vector<std::string>>(settings, key.field)
          .push_back(std::string(text));
      return base::Status::Ok();
    case K::kForeign:
      return base::UnimplementedError(
          "is a setting of " + std::string(key.owner) +
          " replicas, which are not built in this litekeep; supported: " +
          SupportedBackendsText());
    case K::kRefused:
      return base::UnimplementedError(std::string(key.owner));
  }
  return base::InternalError("unhandled setting kind");
}

void CopySetting(const SettingKey& key, const ReplicaSettings& from,
                 ReplicaSettings* to) {
  std::visit(
      [&](auto member) {
        if constexpr (!std::is_same_v<decltype(member), std::monostate>) {
          to->*member = from.*member;
        }
      },
      key.field);
}

}  // namespace litekeep::storage
