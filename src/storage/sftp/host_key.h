// Host-key checking for the SFTP backend: the expected key given in the
// `host-key` setting (a key line or a SHA256 fingerprint), the user's
// known_hosts file, fingerprints printed the way OpenSSH prints them, and
// the messages that tell a user how to accept a host they trust
// (docs/config.md "SFTP", "Host keys").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/sftp/options.h"

namespace litekeep::storage::sftp {

// What `host-key` names.
struct ExpectedHostKey {
  std::string type;         // "ssh-ed25519"; "" when only a fingerprint
  std::string blob;         // the key in SSH wire form; "" likewise
  std::string fingerprint;  // "SHA256:…" (always set)
};

// Parses an authorized_keys-style line ("ssh-ed25519 AAAA… comment"), a
// known_hosts line ("host ssh-ed25519 AAAA…") or a fingerprint
// ("SHA256:…", as `ssh-keygen -lf` prints it). The error names the problem.
Result<ExpectedHostKey> ParseHostKey(std::string_view text);

// "SHA256:<unpadded base64 of SHA-256(blob)>" (OpenSSH's format).
std::string Fingerprint(std::string_view blob);

// The key type written inside an SSH wire-form key ("ssh-ed25519"), or
// "unknown".
std::string BlobKeyType(std::string_view blob);

// The server's key: accepted when it matches options.host_key; else
// checked against the known_hosts file (unknown and changed keys are
// refused with kPermissionDenied naming the fingerprint and how to accept
// it), unless options.insecure_ignore_host_key.
base::Status VerifyHostKey(const SftpOptions& options, void* session,
                           std::string_view blob, int libssh2_type);

}  // namespace litekeep::storage::sftp
