// SftpOptions: everything the SFTP backend needs to reach a remote
// directory, converted from ReplicaSettings (the only place that does):
// address, login, host-key policy, timeouts and the retry rule
// (docs/storage_layout.md "SFTP", docs/config.md "SFTP").
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"
#include "storage/settings.h"

namespace litekeep::storage::sftp {

struct SftpOptions {
  std::string host;  // name or address, without brackets or port
  int port = 22;
  std::string user;
  std::string password;        // secret: never printed
  std::string key_path;        // private key file ("" = see auth order)
  std::string key_passphrase;  // secret
  // Expected host key: "<type> <base64>" (an authorized_keys or known_hosts
  // line) or an OpenSSH fingerprint "SHA256:<base64>". "" = known_hosts.
  std::string host_key;
  std::string known_hosts;  // file; "" = $HOME/.ssh/known_hosts
  bool insecure_ignore_host_key = false;
  // Remote directory of the replica; relative paths start at the login
  // directory ("" is the login directory itself).
  std::string path;
  // Several write requests in flight per upload (pipelined); false sends
  // one request and waits for its answer before the next.
  bool concurrent_writes = true;
  int max_connections = 4;  // SSH connections kept open per client

  std::chrono::milliseconds connect_timeout{10000};
  // Longest wait for any one answer from the server (a stalled server
  // fails the request with kUnavailable after this, never hangs).
  std::chrono::milliseconds io_timeout{30000};
  int max_attempts = 6;  // per operation, first try included
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{5000};
  // All attempts and backoffs of one operation together.
  std::chrono::milliseconds deadline{std::chrono::minutes(2)};

  // "sftp://user@host:port/path": safe to print (no password).
  std::string Describe() const;
};

// Splits "host", "host:port" or "[v6]:port"; port 22 when absent.
base::Status SplitHostPort(const std::string& text, std::string* host,
                           int* port);

// Converts checked settings into options (expands ~ in file paths).
// Errors name the setting and never contain a secret.
Result<SftpOptions> OptionsFromSettings(const ReplicaSettings& settings);

// The sftp backend's settings check (storage/registry.h): host and user
// are required, the host's port is a number, and the values convert. Does
// not touch the network.
base::Status CheckSettings(ReplicaSettings* settings);

}  // namespace litekeep::storage::sftp
