// Test material for NATS TLS and nkey/JWT logins, made fresh in a private
// temporary directory for each test: a CA, server and client certificates
// (and a second, unrelated CA) made with the `openssl` command; nkey users;
// and a whole operator-mode trust chain — operator, system account, an
// account with JetStream, a user — as JWTs signed here with ed25519
// ("alg":"ed25519-nkey"), with the nats-server configuration and the user's
// .creds file that go with them.
#pragma once

#include <string>

#include "base/status.h"
#include "storage/nats/nkey.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

// PEM files in a private directory. The server certificate names the IP
// address 127.0.0.1 only (so "localhost" does not match it).
struct TlsFiles {
  std::string ca;           // CA certificate
  std::string server_cert;  // signed by ca, SAN IP:127.0.0.1
  std::string server_key;
  std::string client_cert;  // signed by ca, clientAuth
  std::string client_key;
  std::string other_ca;    // an unrelated CA
  std::string other_cert;  // a client certificate signed by other_ca
  std::string other_key;

  // The nats-server `tls { … }` block (verify: client certificates).
  std::string ServerBlock(bool verify) const;
};

// Makes the files under dir with the openssl command; "" or the error.
std::string MakeTlsFiles(const TempDir& dir, TlsFiles* files);

// Encodes a JWT: header {"typ":"JWT","alg":"ed25519-nkey"}, the claims,
// signed by issuer (claims "iss" is set to the issuer's public key, "iat"
// to now, "jti" to a fresh id).
Result<std::string> SignJwt(const storage::nats::KeyPair& issuer,
                            std::string claims_json);

// An operator-mode trust chain (nats-server's `operator:`, `resolver:
// MEMORY`, `resolver_preload`, `system_account`).
struct OperatorChain {
  storage::nats::KeyPair op, sys, account, user;
  std::string op_jwt, sys_jwt, account_jwt, user_jwt;

  // The nats-server configuration (writes op.jwt into dir).
  std::string ServerConfig(const TempDir& dir) const;
  // The text of the user's .creds file.
  std::string Creds() const;
};

// Makes a chain whose account has JetStream without limits.
Result<OperatorChain> MakeOperatorChain();

// The text of a .creds file for a JWT and seed.
std::string CredsText(const std::string& jwt, const std::string& seed);

}  // namespace litekeep::testing
