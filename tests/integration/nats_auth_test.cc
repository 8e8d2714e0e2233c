// NATS over TLS and with nkey and JWT logins, against Debian's nats-server
// (2.9) on 127.0.0.1 with certificates made by the `openssl` command and
// keys and JWTs made by the test: replicate a workload with the real
// binary and restore it byte for byte over TLS, with an nkey user, with an
// operator-mode .creds file, and with .creds over TLS; a wrong CA, no CA, a
// wrong host name, a client without the certificate the server demands and
// one from another CA all fail at once with a message naming what to fix;
// bad seeds, public keys without seeds and damaged creds files are refused
// naming the file or key; and no seed ever reaches the output or the log.
// The replica conformance suite runs again over mutual TLS with an nkey
// login.
#include "tests/support/nats_auth.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "storage/nats/client.h"
#include "storage/nats/conn.h"
#include "storage/nats/nkey.h"
#include "storage/nats/options.h"
#include "storage/registry.h"
#include "tests/support/nats_server.h"
#include "tests/support/process.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

using storage::FileInfo;
using storage::nats::KeyPair;
using storage::nats::NatsOptions;
using storage::nats::NkeyType;

CommandResult Litekeep(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LitekeepBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

// Options for a server with short timeouts and few retries, without the
// harness's login (each test sets its own).
NatsOptions Bare(const NatsServer& server, const std::string& bucket) {
  NatsOptions o;
  o.port = server.port();
  o.bucket = bucket;
  o.io_timeout = std::chrono::seconds(5);
  o.connect_timeout = std::chrono::seconds(5);
  o.retry.backoff_base = std::chrono::milliseconds(50);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  o.retry.max_attempts = 3;
  o.retry.deadline = std::chrono::seconds(20);
  return o;
}

FileInfo Info(TxId txid, size_t size) {
  FileInfo f;
  f.level = 0;
  f.min_txid = txid;
  f.max_txid = txid;
  f.size = static_cast<int64_t>(size);
  f.created = TimePoint(std::chrono::milliseconds(1700000000123));
  return f;
}

// Writes a file through a client with these options, reads it back and
// returns "" or what went wrong (the status text of the first failure).
std::string RoundTrip(const NatsOptions& o, TxId txid) {
  auto c = storage::nats::NewNatsReplicaClient(o);
  if (!c.ok()) return c.status().ToString();
  const std::string data(300000, static_cast<char>('a' + txid % 26));
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  Status s = (*c)->WriteFile(Info(txid, data.size()), r);
  if (!s.ok()) return s.ToString();
  auto reader = (*c)->OpenFile(0, txid, txid, 0, -1);
  if (!reader.ok()) return reader.status().ToString();
  std::string got;
  char buf[65536];
  for (;;) {
    auto n = (*reader)->Read({reinterpret_cast<uint8_t*>(buf), sizeof buf});
    if (!n.ok()) return n.status().ToString();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  return got == data ? "" : "read back other bytes";
}

// The status of a listing with these options (the first network use).
Status ListStatus(const NatsOptions& o) {
  auto c = storage::nats::NewNatsReplicaClient(o);
  if (!c.ok()) return c.status();
  return (*c)->ListFiles(0).status();
}

// Replicates a workload with the real binary to bucket on server (created
// here) with the replica keys in `keys` (YAML lines at replica indent),
// restores it with the same config, and checks the restore is the
// database byte for byte. Returns everything printed by replicate, restore,
// ltx and status (for secret checks).
std::string ReplicateAndRestore(NatsServer& server, const std::string& bucket,
                                const std::string& keys) {
  Status created = server.CreateBucket(bucket);
  EXPECT_TRUE(created.ok()) << created.ToString();
  TempDir dir;
  const std::string db = dir.Join("app.db");
  EXPECT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << db << "\n"
                     << "    replica:\n"
                     << "      url: nats://127.0.0.1:" << server.port() << "/"
                     << bucket << "\n"
                     << "      sync-interval: 200ms\n"
                     << keys;
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log"));
  EXPECT_TRUE(WaitUntil([&] {
    return rep.Log().find("snapshot written") != std::string::npos;
  })) << rep.Log();
  WorkloadOptions w;
  w.transactions = 600;
  w.vacuum_at = 300;
  EXPECT_EQ(RunWorkload(db, w), "");
  rep.Signal(SIGTERM);
  EXPECT_EQ(rep.Wait(), 0) << rep.Log();
  EXPECT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  auto r = Litekeep({"restore", "-config", cfg, "-o", dir.Join("out.db"), db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(dir.Join("out.db"))), Sha256Hex(ReadFile(db)));
  EXPECT_EQ(QueryOne(dir.Join("out.db"), "PRAGMA integrity_check"), "ok");
  auto ltx = Litekeep({"ltx", "-config", cfg, db});
  EXPECT_EQ(ltx.exit_code, 0) << ltx.err;
  auto status = Litekeep({"status", "-config", cfg});
  return rep.Log() + r.out + r.err + ltx.out + ltx.err + status.out +
         status.err;
}

// One server for the conformance suite: TLS with a client certificate
// (verify: true) and an nkey user, started on first use; nullptr (the
// suite skips) without nats-server or openssl.
NatsServer* SecureServer(NatsOptions* login) {
  static TempDir* dir = new TempDir();
  static TlsFiles* files = new TlsFiles();
  static std::string* seed = new std::string();
  static std::unique_ptr<NatsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error = RunShell("openssl version").exit_code == 0
                            ? MakeTlsFiles(*dir, files)
                            : "openssl command not installed";
    auto user = KeyPair::Generate(NkeyType::kUser);
    if (error.empty() && user.ok()) {
      *seed = user->EncodedSeed();
      const TlsFiles f = *files;
      const std::string s = *seed;
      server = NatsServer::Start(
          &error,
          NatsServer::Auth::Config(f.ServerBlock(true) +
                                       "authorization {\n  users = [ { nkey: " +
                                       user->public_key() + " } ]\n}\n",
                                   [f, s](NatsOptions* o) {
                                     o->root_cas = {f.ca};
                                     o->client_cert = f.client_cert;
                                     o->client_key = f.client_key;
                                     o->seed = s;
                                   }));
    }
    if (!server) std::fprintf(stderr, "nats unavailable: %s\n", error.c_str());
  }
  if (server) *login = server->ClientOptions(login->bucket);
  return server.get();
}

// The replica conformance suite over TLS (mutual) with an nkey login:
// large streamed uploads, concurrent writers and ranged reads through
// OpenSSL.
INSTANTIATE_TEST_SUITE_P(NatsTls, ReplicaConformanceTest,
                         ::testing::Values(ReplicaBackend{
                             "nats_tls_nkey",
                             []() -> std::unique_ptr<storage::ReplicaClient> {
                               NatsOptions o;
                               o.bucket = "conformance";
                               NatsServer* server = SecureServer(&o);
                               if (server == nullptr) return nullptr;
                               Status s = server->CreateBucket("conformance");
                               EXPECT_TRUE(s.ok()) << s.ToString();
                               o.io_timeout = std::chrono::seconds(10);
                               auto c = storage::nats::NewNatsReplicaClient(o);
                               EXPECT_TRUE(c.ok()) << c.status().ToString();
                               return c.ok() ? std::move(*c) : nullptr;
                             },
                             12 << 20, 8, 6}),
                         ReplicaBackendName);

class NatsAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/nats-server", X_OK) != 0 &&
        ::access("/usr/bin/nats-server", X_OK) != 0) {
      GTEST_SKIP() << "nats-server not installed";
    }
    if (RunShell("openssl version").exit_code != 0) {
      GTEST_SKIP() << "openssl command not installed";
    }
    ASSERT_EQ(MakeTlsFiles(certs_dir_, &tls_), "");
  }

  std::unique_ptr<NatsServer> Start(NatsServer::Auth auth) {
    std::string error;
    auto s = NatsServer::Start(&error, auth);
    EXPECT_TRUE(s) << error;
    return s;
  }

  TempDir certs_dir_;
  TlsFiles tls_;
};

// A server with a tls block: litekeep replicates and restores over TLS
// with root-cas; a wrong CA, no CA and a host name the certificate does not
// hold fail at once (no retry loop) naming the fix; tls: true against a
// server without TLS is refused.
TEST_F(NatsAuthTest, TlsReplicatesAndRefusesWhatDoesNotVerify) {
  const std::string ca = tls_.ca;
  auto server = Start(NatsServer::Auth::Config(
      tls_.ServerBlock(false), [ca](NatsOptions* o) { o->root_cas = {ca}; }));
  ASSERT_TRUE(server);
  std::string out = ReplicateAndRestore(
      *server, "tls", "      root-cas:\n        - " + ca + "\n");
  EXPECT_NE(server->Log().find("TLS required for client connections"),
            std::string::npos)
      << server->Log();

  NatsOptions o = Bare(*server, "tls");
  o.root_cas = {ca};
  o.tls = true;
  EXPECT_EQ(RoundTrip(o, 1), "");
  {
    storage::nats::NatsOptions probe = o;
    auto conn = storage::nats::Conn::Dial(probe);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    EXPECT_EQ((*conn)->TlsVersion().rfind("TLSv1.", 0), 0u);
  }

  const std::string addr = "127.0.0.1:" + std::to_string(server->port());
  // The wrong CA: one clear error, quickly.
  o.root_cas = {tls_.other_ca};
  auto start = std::chrono::steady_clock::now();
  Status wrong = ListStatus(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(wrong.code(), base::Code::kFailedPrecondition) << wrong.ToString();
  EXPECT_NE(wrong.message().find("TLS handshake with " + addr +
                                 " failed: certificate verify failed ("),
            std::string::npos)
      << wrong.message();
  EXPECT_NE(wrong.message().find("root-cas (" + tls_.other_ca + ")"),
            std::string::npos)
      << wrong.message();
  // No CA: the system trust store does not know the test CA.
  o.root_cas.clear();
  Status none = ListStatus(o);
  EXPECT_EQ(none.code(), base::Code::kFailedPrecondition) << none.ToString();
  EXPECT_NE(none.message().find("set root-cas"), std::string::npos)
      << none.message();
  // The certificate names 127.0.0.1 only.
  o.root_cas = {ca};
  o.host = "localhost";
  Status host = ListStatus(o);
  EXPECT_EQ(host.code(), base::Code::kFailedPrecondition) << host.ToString();
  EXPECT_NE(host.message().find("does not name localhost"), std::string::npos)
      << host.message();
  // A CA file that holds no certificate.
  o.host = "127.0.0.1";
  const std::string junk = certs_dir_.Join("junk.pem");
  std::ofstream(junk) << "not a certificate\n";
  o.root_cas = {junk};
  Status bad = ListStatus(o);
  EXPECT_EQ(bad.code(), base::Code::kInvalidArgument) << bad.ToString();
  EXPECT_NE(bad.message().find("root-cas: " + junk + " holds no PEM"),
            std::string::npos)
      << bad.message();

  // The same through the binary: exit 1 with the message, no hang.
  TempDir dir;
  const std::string cfg = dir.Join("bad.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << dir.Join("x.db")
                     << "\n    replica:\n      url: nats://" << addr
                     << "/tls\n      root-cas: [" << tls_.other_ca << "]\n";
  start = std::chrono::steady_clock::now();
  auto r = Litekeep(
      {"restore", "-config", cfg, "-o", dir.Join("o.db"), dir.Join("x.db")});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos)
      << r.err;

  // tls: true where the server has no TLS.
  auto plain = Start({});
  ASSERT_TRUE(plain);
  NatsOptions p = Bare(*plain, "x");
  p.tls = true;
  Status no_tls = ListStatus(p);
  EXPECT_EQ(no_tls.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(no_tls.message().find("does not offer TLS"), std::string::npos)
      << no_tls.message();
}

// A server that verifies client certificates: without one the login is
// refused naming client-cert/client-key; with one from its CA it works;
// one from another CA is refused; client-cert without client-key is
// Litestream's configuration error.
TEST_F(NatsAuthTest, MutualTls) {
  const TlsFiles f = tls_;
  auto server =
      Start(NatsServer::Auth::Config(f.ServerBlock(true), [f](NatsOptions* o) {
        o->root_cas = {f.ca};
        o->client_cert = f.client_cert;
        o->client_key = f.client_key;
        o->tls = true;
      }));
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->CreateBucket("mtls").ok());
  NatsOptions o = Bare(*server, "mtls");
  o.root_cas = {f.ca};
  o.tls = true;
  auto start = std::chrono::steady_clock::now();
  Status without = ListStatus(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(without.code(), base::Code::kPermissionDenied)
      << without.ToString();
  EXPECT_NE(without.message().find("client-cert"), std::string::npos)
      << without.message();

  o.client_cert = f.client_cert;
  o.client_key = f.client_key;
  EXPECT_EQ(RoundTrip(o, 7), "");

  o.client_cert = f.other_cert;
  o.client_key = f.other_key;
  Status stranger = ListStatus(o);
  EXPECT_EQ(stranger.code(), base::Code::kPermissionDenied)
      << stranger.ToString();

  // A key that is not the certificate's.
  o.client_cert = f.client_cert;
  o.client_key = f.other_key;
  Status mismatch = ListStatus(o);
  EXPECT_EQ(mismatch.code(), base::Code::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("client-key: " + f.other_key +
                                    " is not the key of client-cert"),
            std::string::npos)
      << mismatch.message();

  // Through the binary, both keys in the config.
  std::string out = ReplicateAndRestore(
      *server, "mtls2",
      "      root-cas: " + f.ca + "\n      client-cert: " + f.client_cert +
          "\n      client-key: " + f.client_key + "\n");
  (void)out;

  storage::ReplicaSettings s;
  s.type = "nats";
  s.bucket = "mtls";
  s.client_cert = f.client_cert;
  auto half = storage::nats::OptionsFromSettings(s);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find(
                "client-cert and client-key must both be specified"),
            std::string::npos);
}

// An nkey user: litekeep signs the server's nonce with the seed and
// replicates; another seed is refused naming the public key; the seed is
// never printed; a public key alone, a damaged seed and a seed of another
// role are refused before any connection.
TEST_F(NatsAuthTest, NkeyLogin) {
  auto user = KeyPair::Generate(NkeyType::kUser);
  ASSERT_TRUE(user.ok());
  const std::string seed = user->EncodedSeed();
  ASSERT_EQ(seed.rfind("SU", 0), 0u);
  ASSERT_EQ(user->public_key().rfind("U", 0), 0u);
  ASSERT_EQ(user->public_key().size(), 56u);
  auto server = Start(NatsServer::Auth::Config(
      "authorization {\n  users = [\n    { nkey: " + user->public_key() +
          " }\n  ]\n}\n",
      [seed](NatsOptions* o) { o->seed = seed; }));
  ASSERT_TRUE(server);

  std::string out =
      ReplicateAndRestore(*server, "nkey", "      nkey: " + seed + "\n");
  EXPECT_EQ(out.find(seed), std::string::npos);

  // Public key + seed, as two keys.
  storage::ReplicaSettings s;
  s.type = "nats";
  s.bucket = "nkey";
  s.host = "127.0.0.1:" + std::to_string(server->port());
  s.nkey = user->public_key();
  s.seed = seed;
  auto both = storage::NewReplicaClient(s);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  auto listed = (*both)->ListFiles(0);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_FALSE(listed->empty());

  // Another user's seed: refused by the server, naming its public key.
  auto other = KeyPair::Generate(NkeyType::kUser);
  ASSERT_TRUE(other.ok());
  NatsOptions o = Bare(*server, "nkey");
  o.seed = other->EncodedSeed();
  Status refused = ListStatus(o);
  EXPECT_EQ(refused.code(), base::Code::kPermissionDenied)
      << refused.ToString();
  EXPECT_NE(refused.message().find("refused the login with nkey " +
                                   other->public_key()),
            std::string::npos)
      << refused.message();
  EXPECT_EQ(refused.message().find(o.seed), std::string::npos);

  // Settings refused before connecting; none quotes the seed.
  s.seed.clear();
  auto public_only = storage::nats::OptionsFromSettings(s);
  ASSERT_FALSE(public_only.ok());
  EXPECT_NE(public_only.status().message().find("cannot sign"),
            std::string::npos)
      << public_only.status().message();
  s.nkey = seed;
  s.nkey[10] = s.nkey[10] == 'A' ? 'B' : 'A';
  auto damaged = storage::nats::OptionsFromSettings(s);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("bad checksum"), std::string::npos)
      << damaged.status().message();
  EXPECT_EQ(damaged.status().message().find(s.nkey), std::string::npos);
  auto account = KeyPair::Generate(NkeyType::kAccount);
  ASSERT_TRUE(account.ok());
  s.nkey = account->EncodedSeed();
  auto role = storage::nats::OptionsFromSettings(s);
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.status().message().find("a user seed (SU…) is needed"),
            std::string::npos)
      << role.status().message();
  s.nkey = other->public_key();
  s.seed = seed;
  auto mismatch = storage::nats::OptionsFromSettings(s);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("is not the public key of seed"),
            std::string::npos);
  EXPECT_EQ(mismatch.status().message().find(seed), std::string::npos);
}

// Operator mode (operator JWT, MEMORY resolver, system account, an account
// with JetStream): litekeep logs in with the user's .creds file, and with
// jwt + seed, replicates and restores, also over TLS; a damaged creds file
// is an error naming it; a user the account did not sign is refused; the
// seed is never printed.
TEST_F(NatsAuthTest, OperatorModeCredsAndJwt) {
  auto chain = MakeOperatorChain();
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  TempDir dir;
  const std::string creds = dir.Join("user.creds");
  std::ofstream(creds) << chain->Creds();
  const std::string seed = chain->user.EncodedSeed();
  auto server = Start(NatsServer::Auth::Config(
      chain->ServerConfig(dir), [creds](NatsOptions* o) { o->creds = creds; }));
  ASSERT_TRUE(server);
  Status created = server->CreateBucket("creds");
  ASSERT_TRUE(created.ok()) << created.ToString() << server->Log();

  std::string out =
      ReplicateAndRestore(*server, "creds", "      creds: " + creds + "\n");
  EXPECT_EQ(out.find(seed), std::string::npos);

  // jwt + seed (Litestream's UserJWTAndSeed).
  NatsOptions o = Bare(*server, "creds");
  o.jwt = chain->user_jwt;
  o.seed = seed;
  EXPECT_EQ(RoundTrip(o, 9), "");

  // A user signed by an account the server does not know.
  auto stranger = MakeOperatorChain();
  ASSERT_TRUE(stranger.ok());
  const std::string stranger_creds = dir.Join("stranger.creds");
  std::ofstream(stranger_creds) << stranger->Creds();
  NatsOptions x = Bare(*server, "creds");
  x.creds = stranger_creds;
  Status refused = ListStatus(x);
  EXPECT_EQ(refused.code(), base::Code::kPermissionDenied)
      << refused.ToString();
  EXPECT_NE(refused.message().find("the creds file " + stranger_creds),
            std::string::npos)
      << refused.message();

  // A damaged seed in the creds file: named, not quoted.
  std::string text = chain->Creds();
  const size_t at = text.find(seed) + 20;
  text[at] = text[at] == 'A' ? 'B' : 'A';
  const std::string damaged = dir.Join("damaged.creds");
  std::ofstream(damaged) << text;
  x.creds = damaged;
  Status bad = ListStatus(x);
  EXPECT_EQ(bad.code(), base::Code::kInvalidArgument) << bad.ToString();
  EXPECT_NE(bad.message().find("creds file " + damaged), std::string::npos)
      << bad.message();
  EXPECT_NE(bad.message().find("bad checksum"), std::string::npos)
      << bad.message();
  EXPECT_EQ(bad.message().find(text.substr(text.find("SU"), 56)),
            std::string::npos);
  // A JWT that is not the seed's.
  const std::string mixed = dir.Join("mixed.creds");
  std::ofstream(mixed) << CredsText(chain->user_jwt,
                                    stranger->user.EncodedSeed());
  x.creds = mixed;
  Status wrong = ListStatus(x);
  EXPECT_EQ(wrong.code(), base::Code::kInvalidArgument);
  EXPECT_NE(
      wrong.message().find("the user JWT is for " + chain->user.public_key()),
      std::string::npos)
      << wrong.message();
  x.creds = dir.Join("missing.creds");
  Status missing = ListStatus(x);
  EXPECT_NE(missing.message().find("creds: cannot read " + x.creds),
            std::string::npos)
      << missing.message();

  // The binary with a damaged creds file: exits 2 (a configuration error,
  // as a bad key is) naming the file.
  const std::string cfg = dir.Join("bad.yml");
  std::ofstream(cfg) << "dbs:\n  - path: " << dir.Join("x.db")
                     << "\n    replica:\n      url: nats://127.0.0.1:"
                     << server->port() << "/creds\n      creds: " << damaged
                     << "\n";
  auto r = Litekeep(
      {"restore", "-config", cfg, "-o", dir.Join("o.db"), dir.Join("x.db")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(damaged), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find(seed.substr(0, 30)), std::string::npos);

  // Operator mode over TLS, creds + root-cas.
  const std::string ca = tls_.ca;
  auto secure = Start(NatsServer::Auth::Config(
      chain->ServerConfig(dir) + tls_.ServerBlock(false),
      [creds, ca](NatsOptions* o) {
        o->creds = creds;
        o->root_cas = {ca};
      }));
  ASSERT_TRUE(secure);
  std::string out2 = ReplicateAndRestore(
      *secure, "credstls",
      "      creds: " + creds + "\n      root-cas: [" + ca + "]\n");
  EXPECT_EQ(out2.find(seed), std::string::npos);
}

}  // namespace
}  // namespace litekeep::testing
