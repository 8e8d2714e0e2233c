// Implementation of the NATS TLS and nkey/JWT test material.
#include "tests/support/nats_auth.h"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "storage/hash.h"

namespace litekeep::testing {
namespace {

using storage::nats::KeyPair;
using storage::nats::NkeyType;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A key and a certificate signed by ca (self-signed when ca is empty).
std::string MakeCert(const TempDir& dir, const std::string& name,
                     const std::string& subject, const std::string& ext,
                     const std::string& ca, const std::string& ca_key,
                     int serial) {
  const std::string key = dir.Join(name + ".key");
  const std::string pem = dir.Join(name + ".pem");
  std::string cmd;
  if (ca.empty()) {
    cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -days 2 -subj " +
        Quote(subject) + " -keyout " + Quote(key) + " -out " + Quote(pem) +
        " -addext basicConstraints=critical,CA:TRUE -addext "
        "keyUsage=critical,keyCertSign,cRLSign";
  } else {
    const std::string csr = dir.Join(name + ".csr");
    const std::string extfile = dir.Join(name + ".ext");
    std::ofstream(extfile) << ext << "\n";
    cmd =
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-subj " +
        Quote(subject) + " -keyout " + Quote(key) + " -out " + Quote(csr) +
        " && openssl x509 -req -days 2 -in " + Quote(csr) + " -CA " +
        Quote(ca) + " -CAkey " + Quote(ca_key) + " -set_serial " +
        std::to_string(serial) + " -extfile " + Quote(extfile) + " -out " +
        Quote(pem);
  }
  auto r = RunShell("umask 077 && " + cmd);
  if (r.exit_code != 0) return "openssl failed: " + r.err;
  return "";
}

std::string Block(const std::string& title, const std::string& body) {
  return "-----BEGIN " + title + "-----\n" + body + "\n------END " + title +
         "------\n";
}

}  // namespace

std::string TlsFiles::ServerBlock(bool verify) const {
  return "tls {\n  cert_file: \"" + server_cert + "\"\n  key_file: \"" +
         server_key + "\"\n  ca_file: \"" + ca +
         "\"\n  verify: " + (verify ? "true" : "false") + "\n  timeout: 5\n}\n";
}

std::string MakeTlsFiles(const TempDir& dir, TlsFiles* f) {
  f->ca = dir.Join("ca.pem");
  f->server_cert = dir.Join("server.pem");
  f->server_key = dir.Join("server.key");
  f->client_cert = dir.Join("client.pem");
  f->client_key = dir.Join("client.key");
  f->other_ca = dir.Join("other-ca.pem");
  f->other_cert = dir.Join("other-client.pem");
  f->other_key = dir.Join("other-client.key");
  std::string e = MakeCert(dir, "ca", "/CN=litekeep test CA", "", "", "", 0);
  if (e.empty()) {
    e = MakeCert(dir, "other-ca", "/CN=unrelated test CA", "", "", "", 0);
  }
  if (e.empty()) {
    e = MakeCert(dir, "server", "/CN=nats test server",
                 "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth",
                 f->ca, dir.Join("ca.key"), 2);
  }
  if (e.empty()) {
    e = MakeCert(dir, "client", "/CN=litekeep client",
                 "extendedKeyUsage=clientAuth", f->ca, dir.Join("ca.key"), 3);
  }
  if (e.empty()) {
    e = MakeCert(dir, "other-client", "/CN=stranger",
                 "extendedKeyUsage=clientAuth", f->other_ca,
                 dir.Join("other-ca.key"), 4);
  }
  return e;
}

Result<std::string> SignJwt(const KeyPair& issuer, std::string claims_json) {
  auto claims = nlohmann::json::parse(claims_json, nullptr, false);
  if (!claims.is_object()) return base::InvalidArgumentError("bad claims");
  claims["iss"] = issuer.public_key();
  claims["iat"] = NowUnix();
  static int counter = 0;
  claims["jti"] =
      "LITEKEEPTEST" + std::to_string(++counter) + std::to_string(NowUnix());
  const std::string head =
      storage::Base64UrlEncode(R"({"typ":"JWT","alg":"ed25519-nkey"})");
  const std::string body = storage::Base64UrlEncode(claims.dump());
  const std::string signed_part = head + "." + body;
  LK_ASSIGN_OR_RETURN(std::string sig, issuer.Sign(signed_part));
  return signed_part + "." + storage::Base64UrlEncode(sig);
}

Result<OperatorChain> MakeOperatorChain() {
  LK_ASSIGN_OR_RETURN(KeyPair op, KeyPair::Generate(NkeyType::kOperator));
  LK_ASSIGN_OR_RETURN(KeyPair sys, KeyPair::Generate(NkeyType::kAccount));
  LK_ASSIGN_OR_RETURN(KeyPair account, KeyPair::Generate(NkeyType::kAccount));
  LK_ASSIGN_OR_RETURN(KeyPair user, KeyPair::Generate(NkeyType::kUser));
  OperatorChain c{op, sys, account, user, "", "", "", ""};
  using json = nlohmann::json;
  json unlimited = {{"subs", -1},    {"data", -1},    {"payload", -1},
                    {"imports", -1}, {"exports", -1}, {"wildcards", true},
                    {"conn", -1},    {"leaf", -1}};
  json op_claims = {{"sub", op.public_key()},
                    {"name", "litekeep-test-operator"},
                    {"nats",
                     {{"type", "operator"},
                      {"version", 2},
                      {"system_account", sys.public_key()}}}};
  LK_ASSIGN_OR_RETURN(c.op_jwt, SignJwt(op, op_claims.dump()));
  json sys_claims = {
      {"sub", sys.public_key()},
      {"name", "SYS"},
      {"nats", {{"type", "account"}, {"version", 2}, {"limits", unlimited}}}};
  LK_ASSIGN_OR_RETURN(c.sys_jwt, SignJwt(op, sys_claims.dump()));
  json js = unlimited;
  js["mem_storage"] = -1;
  js["disk_storage"] = -1;
  js["streams"] = -1;
  js["consumer"] = -1;
  json account_claims = {
      {"sub", account.public_key()},
      {"name", "LITEKEEP"},
      {"nats", {{"type", "account"}, {"version", 2}, {"limits", js}}}};
  LK_ASSIGN_OR_RETURN(c.account_jwt, SignJwt(op, account_claims.dump()));
  json user_claims = {{"sub", user.public_key()},
                      {"name", "litekeep"},
                      {"nats",
                       {{"type", "user"},
                        {"version", 2},
                        {"pub", json::object()},
                        {"sub", json::object()},
                        {"subs", -1},
                        {"data", -1},
                        {"payload", -1}}}};
  LK_ASSIGN_OR_RETURN(c.user_jwt, SignJwt(account, user_claims.dump()));
  return c;
}

std::string OperatorChain::ServerConfig(const TempDir& dir) const {
  const std::string op_file = dir.Join("operator.jwt");
  std::ofstream(op_file, std::ios::trunc) << op_jwt << "\n";
  return "operator: \"" + op_file + "\"\nsystem_account: " + sys.public_key() +
         "\nresolver: MEMORY\nresolver_preload: {\n  " + sys.public_key() +
         ": \"" + sys_jwt + "\"\n  " + account.public_key() + ": \"" +
         account_jwt + "\"\n}\n";
}

std::string CredsText(const std::string& jwt, const std::string& seed) {
  return Block("NATS USER JWT", jwt) +
         "\n************************* IMPORTANT "
         "*************************\nNKEY Seed printed below can be used to "
         "sign and prove identity.\nNKEYs are sensitive and should be "
         "treated as secrets.\n\n" +
         Block("USER NKEY SEED", seed) +
         "\n*************************************************************\n";
}

std::string OperatorChain::Creds() const {
  return CredsText(user_jwt, user.EncodedSeed());
}

}  // namespace litekeep::testing
