// ReplicaSettings: where a replica lives and how to reach it (the storage
// half of a replica's configuration), and the table of storage setting keys
// (canonical kebab-case names, as in docs/config.md) that fill it. The config
// loader and the VFS fill these from YAML keys, replica URLs and the
// environment; each backend then converts them (storage/registry.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/age.h"
#include "base/status.h"

namespace litekeep::storage {

struct ReplicaSettings {
  std::string type;  // backend type, canonical ("file", "s3")
  std::string url;   // as written, if given

  // file: the directory; s3: the key prefix inside the bucket.
  std::string path;

  // S3 and S3-compatible stores.
  std::string bucket;
  std::string region;
  std::string endpoint;
  bool force_path_style = false;
  bool skip_verify = false;
  std::string ca_bundle;  // PEM file of trusted CAs ("" = system default)
  std::string access_key_id;
  std::string secret_access_key;     // secret: never print
  std::string session_token;         // secret
  std::string profile;               // shared credentials file section
  std::string storage_class;         // x-amz-storage-class
  std::optional<int64_t> part_size;  // bytes ("5MiB", "10MB" or a number)
  std::optional<int64_t> concurrency;
  std::optional<bool> sign_payload;
  std::optional<bool> require_content_md5;
  // Server-side encryption: "AES256" (SSE-S3) or "aws:kms" (SSE-KMS).
  std::string sse;
  std::string sse_kms_key_id;  // SSE-KMS key (implies sse "aws:kms")
  // SSE-C: the customer key, raw 32 bytes or base64; or a file holding it.
  std::string sse_customer_algorithm;  // "AES256"
  std::string sse_customer_key;        // secret
  std::string sse_customer_key_path;

  // Azure Blob (abs): the container is `bucket`, the service URL `endpoint`.
  std::string account_name;
  std::string account_key;  // secret: base64 shared key
  std::string sas_token;    // secret

  // SFTP (docs/config.md "SFTP").
  std::string host;  // "host" or "host:port" ("[::1]:22")
  std::string user;
  std::string password;        // secret
  std::string key_path;        // private key file
  std::string key_passphrase;  // secret: the private key's passphrase
  std::string host_key;     // expected key ("ssh-ed25519 AAAA…" or SHA256:)
  std::string known_hosts;  // known_hosts file ("" = ~/.ssh/known_hosts)
  bool insecure_ignore_host_key = false;
  std::optional<bool> concurrent_writes;

  // WebDAV (docs/config.md "WebDAV"): the server's base URL
  // (http(s)://host[:port][/root]); `path` is below it.
  std::string webdav_url;
  std::string webdav_username;
  std::string webdav_password;  // secret
  // NATS (docs/config.md "NATS"); the server address is `host`, the
  // password `password`.
  std::string username;
  std::string token;           // secret
  std::string timeout;         // Go duration, as written
  std::string reconnect_wait;  // Go duration, as written
  std::string max_reconnects;  // count, as written (-1 = no limit)
  // NATS logins by nkey and JWT, and TLS (docs/config.md "NATS").
  std::string jwt;          // a user JWT (with seed)
  std::string seed;         // secret: a user nkey seed ("SU…")
  std::string creds;        // a .creds file (user JWT + seed)
  std::string nkey;         // secret: a user seed, or a public key (with seed)
  std::optional<bool> tls;  // require TLS
  std::vector<std::string> root_cas;  // PEM files of trusted CAs
  std::string client_cert;            // PEM certificate (mTLS)
  std::string client_key;             // PEM private key (mTLS)

  // Client-side age encryption (`age:`, docs/encryption.md): when set, the
  // client encrypts to the recipients and decrypts with the identities.
  bool age = false;
  std::vector<base::AgeRecipient> age_recipients;
  std::vector<base::AgeIdentity> age_identities;  // secrets: never print
};

// What a setting key holds, and so how its text is parsed.
enum class SettingKind {
  kString,
  kSecret,  // a string that is never printed
  kBool,
  kOptBool,
  kOptCount,     // non-negative integer
  kOptByteSize,  // "5MiB"
  kStringList,   // a list of strings (a YAML list; each item is set in turn)
  kForeign,      // a setting of a backend that is not built (refused)
  kRefused,      // a known setting litekeep does not support (owner: why)
};

using SettingField =
    std::variant<std::monostate, std::string ReplicaSettings::*,
                 bool ReplicaSettings::*,
                 std::optional<bool> ReplicaSettings::*,
                 std::optional<int64_t> ReplicaSettings::*,
                 std::vector<std::string> ReplicaSettings::*>;

struct SettingKey {
  std::string_view name;  // canonical kebab-case spelling
  SettingKind kind;
  SettingField field;
  // kForeign: the backend it belongs to; kRefused: why it is refused.
  std::string_view owner = {};
};

// Every storage setting key, canonical spelling (also those of backends that
// are not built, so that they are refused with a reason).
const std::vector<SettingKey>& SettingKeys();
// The entry for a canonical key name, or nullptr.
const SettingKey* FindSetting(std::string_view name);

// Parses text for key into settings (a kStringList key appends one item).
// The error does not name the key (the
// caller adds it and the line) and never contains a secret value; a key of a
// backend that is not built is kUnimplemented naming that backend.
base::Status SetSetting(const SettingKey& key, std::string_view text,
                        ReplicaSettings* settings);

// Copies the value of key from one settings object to another.
void CopySetting(const SettingKey& key, const ReplicaSettings& from,
                 ReplicaSettings* to);

}  // namespace litekeep::storage
