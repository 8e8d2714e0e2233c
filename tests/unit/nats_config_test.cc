// Unit tests for the nats replica's configuration: nats:// URLs as
// Litestream writes them, the config keys that are used (logins by
// password, token, nkey, JWT or creds; TLS), the ones refused with a
// reason, options conversion, and secrets kept out of every message. No
// server needed.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "storage/nats/nkey.h"
#include "storage/nats/options.h"
#include "storage/url.h"

namespace litekeep::config {
namespace {

Result<Config> P(const std::string& yaml) {
  return Parse(yaml, "litekeep.yml", true);
}

std::string ErrorOf(const std::string& yaml) {
  auto c = P(yaml);
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? "" : c.status().message();
}

std::string Replica(const std::string& keys) {
  return "dbs:\n  - path: /a.db\n    replica:\n" + keys;
}

TEST(NatsConfigTest, UrlForms) {
  auto r = storage::ParseReplicaUrl("nats://nats.example:4333/backups");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, "nats");
  EXPECT_EQ(r->host, "nats.example:4333");
  EXPECT_EQ(r->bucket, "backups");
  EXPECT_EQ(storage::Describe(*r), "nats://nats.example:4333/backups");
  auto o = storage::nats::OptionsFromSettings(*r);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->host, "nats.example");
  EXPECT_EQ(o->port, 4333);

  // No port: 4222; no host: nats.go's default server.
  r = storage::ParseReplicaUrl("nats://nats.example/backups/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(storage::nats::OptionsFromSettings(*r)->port, 4222);
  r = storage::ParseReplicaUrl("nats:///backups");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(storage::nats::OptionsFromSettings(*r)->host, "127.0.0.1");
  EXPECT_EQ(storage::Describe(*r), "nats://127.0.0.1:4222/backups");

  for (const char* bad : {"nats://host:4222", "nats://host:4222/",
                          "nats://host/a/b", "nats://host/b?x=1"}) {
    auto e = storage::ParseReplicaUrl(bad);
    if (e.ok()) {
      EXPECT_FALSE(storage::nats::CheckSettings(&*e).ok()) << bad;
    }
  }
}

TEST(NatsConfigTest, KeysAndDefaults) {
  auto c = P(
      Replica("      type: nats\n      bucket: bkt\n      username: u\n"
              "      password: p\n      timeout: 3s\n      reconnect-wait: 1s\n"
              "      max-reconnects: 5\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const ReplicaConfig& r = c->dbs[0].replicas[0];
  EXPECT_EQ(r.type, "nats");
  auto o = storage::nats::OptionsFromSettings(r);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->bucket, "bkt");
  EXPECT_EQ(o->username, "u");
  EXPECT_EQ(o->connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(o->io_timeout, std::chrono::seconds(3));
  EXPECT_EQ(o->retry.backoff_base, std::chrono::seconds(1));
  EXPECT_EQ(o->retry.max_attempts, 6);

  // The URL's bucket and login.
  c = P(Replica("      url: nats://u:pw@h:4222/fromurl\n      token: t\n"));
  EXPECT_FALSE(c.ok()) << "a user and a token";
  c = P(Replica("      url: nats://h:4222/fromurl\n      token: t\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].replicas[0].bucket, "fromurl");
  EXPECT_EQ(c->dbs[0].replicas[0].token, "t");
  // The URL's server reaches the client; `host` gives it without a URL.
  EXPECT_EQ(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->port,
            4222);
  c = P(Replica("      url: nats://h:4333/b\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].replicas[0].host, "h:4333");
  EXPECT_EQ(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->port,
            4333);
  c = P(Replica("      type: nats\n      host: other:4444\n      bucket: b\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->host,
            "other");
}

TEST(NatsConfigTest, TlsAndNkeyKeys) {
  // root-cas: a list (Litestream) or one file; tls; the client pair.
  auto c =
      P(Replica("      url: nats://h/b\n      root-cas:\n        - /ca1.pem\n"
                "        - /ca2.pem\n      client-cert: /c.pem\n"
                "      client-key: /c.key\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto o = storage::nats::OptionsFromSettings(c->dbs[0].replicas[0]);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->root_cas, (std::vector<std::string>{"/ca1.pem", "/ca2.pem"}));
  EXPECT_EQ(o->client_cert, "/c.pem");
  EXPECT_EQ(o->client_key, "/c.key");
  EXPECT_TRUE(o->tls) << "root-cas and client-cert imply TLS (nats.go)";
  c = P(Replica("      url: nats://h/b\n      root-cas: /ca.pem\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].replicas[0].root_cas,
            (std::vector<std::string>{"/ca.pem"}));
  c = P(Replica("      url: nats://h/b\n      tls: true\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->tls);
  c = P(Replica("      url: nats://h/b\n"));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->tls);
  // Top-level defaults reach the replica.
  c = P("root-cas: [/top.pem]\ntls: true\n" +
        Replica("      url: nats://h/b\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].replicas[0].root_cas,
            (std::vector<std::string>{"/top.pem"}));

  std::string e =
      ErrorOf(Replica("      url: nats://h/b\n      client-cert: /c\n"));
  EXPECT_NE(e.find("client-cert and client-key must both be specified"),
            std::string::npos)
      << e;
  e = ErrorOf(
      Replica("      url: nats://h/b\n      root-cas:\n        - a: b\n"));
  EXPECT_NE(e.find("root-cas"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      tls: maybe\n"));
  EXPECT_NE(e.find("tls"), std::string::npos) << e;

  // Logins that cannot work are refused before connecting; seeds are never
  // quoted.
  auto kp = storage::nats::KeyPair::Generate(storage::nats::NkeyType::kUser);
  ASSERT_TRUE(kp.ok());
  const std::string seed = kp->EncodedSeed();
  e = ErrorOf(Replica("      url: nats://h/b\n      jwt: a.b.c\n"));
  EXPECT_NE(e.find("jwt needs seed"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      seed: " + seed + "\n"));
  EXPECT_NE(e.find("seed is used with jwt"), std::string::npos) << e;
  EXPECT_EQ(e.find(seed), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      nkey: " + seed +
                      "\n      token: t\n"));
  EXPECT_NE(e.find("give one login, not nkey and token"), std::string::npos)
      << e;
  e =
      ErrorOf(Replica("      url: nats://h/b\n      creds: /c\n"
                      "      username: u\n      password: p\n"));
  EXPECT_NE(e.find("give one login"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      nkey: UNOTAKEY\n"));
  EXPECT_NE(e.find("nkey"), std::string::npos) << e;
  std::string typo = seed;
  typo[20] = typo[20] == 'Z' ? 'Y' : 'Z';
  e = ErrorOf(Replica("      url: nats://h/b\n      nkey: " + typo + "\n"));
  EXPECT_NE(e.find("bad checksum"), std::string::npos) << e;
  EXPECT_EQ(e.find(typo), std::string::npos) << e;
  e =
      ErrorOf(Replica("      url: nats://h/b\n      jwt: not-a-jwt\n"
                      "      seed: " +
                      seed + "\n"));
  EXPECT_NE(e.find("not a JWT"), std::string::npos) << e;
  EXPECT_EQ(e.find(seed), std::string::npos) << e;
  // A creds file is read when connecting (as nats.go); the key is used.
  c = P(Replica("      url: nats://h/b\n      creds: /etc/nats/user.creds\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(storage::nats::OptionsFromSettings(c->dbs[0].replicas[0])->creds,
            "/etc/nats/user.creds");
}

TEST(NatsConfigTest, OtherKeysAreCheckedOrRefused) {
  std::string e = ErrorOf(Replica("      url: nats://h/b\n      path: x\n"));
  EXPECT_NE(e.find("not used by nats replicas"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      max-reconnects: many\n"));
  EXPECT_NE(e.find("max-reconnects"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/b\n      timeout: 0s\n"));
  EXPECT_NE(e.find("timeout"), std::string::npos) << e;
  e = ErrorOf(Replica("      type: nats\n"));
  EXPECT_NE(e.find("no bucket"), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://h/bad.name\n"));
  EXPECT_NE(e.find("not a valid object store name"), std::string::npos) << e;
}

TEST(NatsConfigTest, SecretsNeverInErrors) {
  const std::string secret = "Tok3n-Secret-Value";
  std::string e = ErrorOf(Replica("      url: nats://u:" + secret +
                                  "@h/b\n      token: " + secret + "\n"));
  EXPECT_EQ(e.find(secret), std::string::npos) << e;
  e = ErrorOf(Replica("      url: nats://u:" + secret + "@h/b?q=1\n"));
  EXPECT_EQ(e.find(secret), std::string::npos) << e;
}

}  // namespace
}  // namespace litekeep::config
