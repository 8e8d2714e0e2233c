// Test harness for SFTP: starts OpenSSH's sshd (/usr/sbin/sshd) on
// 127.0.0.1 with a free port, temporary ECDSA and ed25519 host keys and
// authorized ed25519 client keys (one without and one with a passphrase), SFTP
// served by internal-sftp; waits for its ready line and stops it, and every
// session process it forked, by PID.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/support/test_util.h"

namespace litekeep::testing {

class Sshd {
 public:
  // The passphrase of client_key_with_passphrase().
  static constexpr const char* kKeyPassphrase = "correct horse battery";

  // Starts sshd; returns nullptr and sets *error (one line) when it cannot,
  // e.g. when /usr/sbin/sshd is not installed.
  static std::unique_ptr<Sshd> Start(std::string* error);
  ~Sshd();
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;

  int port() const { return port_; }
  // The login name of the user running the tests (sshd authenticates it).
  const std::string& user() const { return user_; }
  // Private key files whose public keys are authorized.
  std::string client_key() const { return dir_.Join("client_key"); }
  std::string client_key_with_passphrase() const {
    return dir_.Join("client_key_pw");
  }
  // The host's ed25519 public key line "ssh-ed25519 AAAA… comment".
  std::string host_key_line() const;
  // A known_hosts line for this server ("[127.0.0.1]:PORT ssh-ed25519 …").
  std::string known_hosts_line() const;
  // A scratch directory of the harness (the remote side sees the same
  // file system: SFTP paths are local paths).
  std::string Join(const std::string& name) const { return dir_.Join(name); }
  std::string Log() const;

  // Kills sshd and every session it forked (a crashed server), by PID.
  void Kill();
  // Starts it again on the same port with the same keys; false on failure.
  bool Restart(std::string* error);

 private:
  Sshd() = default;
  bool Launch(std::string* error);
  TempDir dir_;
  std::string user_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace litekeep::testing
