// Unit tests for config::Parse / LoadFile: real Litestream 0.3 and 0.5
// configs, unknown keys at every nesting level (key, line, suggestion),
// wrong value types, env expansion on and off, camelCase/snake_case
// aliases, validation, and secrets kept out of every error message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "config/config.h"
#include "tests/support/test_util.h"

namespace litekeep::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Result<Config> P(const std::string& yaml, bool expand_env = true) {
  return Parse(yaml, "litekeep.yml", expand_env);
}

Config MustParse(const std::string& yaml) {
  auto c = P(yaml);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *std::move(c) : Config();
}

std::string ErrorOf(const std::string& yaml, bool expand_env = true) {
  auto c = P(yaml, expand_env);
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? "" : c.status().message();
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- Real configs ------------------------------------------------------

// etc/litestream.yml of Litestream v0.3.13, uncommented.
TEST(ConfigParseTest, Litestream03Example) {
  Config c = MustParse(R"(# AWS credentials
access-key-id:     AKIAxxxxxxxxxxxxxxxx
secret-access-key: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxxxxxxxx

dbs:
 - path: /path/to/primary/db            # Database to replicate from
   replicas:
     - path: /path/to/replica           # File-based replication
     - url:  s3://my.bucket.com/db      # S3-based replication
)");
  ASSERT_EQ(c.dbs.size(), 1u);
  const DbConfig& db = c.dbs[0];
  EXPECT_EQ(db.path, "/path/to/primary/db");
  EXPECT_EQ(db.line, 6);
  ASSERT_EQ(db.replicas.size(), 2u);
  EXPECT_EQ(db.replicas[0].type, "file");
  EXPECT_EQ(db.replicas[0].path, "/path/to/replica");
  EXPECT_EQ(db.replicas[0].line, 8);
  const ReplicaConfig& s3 = db.replicas[1];
  EXPECT_EQ(s3.type, "s3");
  EXPECT_EQ(s3.bucket, "my.bucket.com");
  EXPECT_EQ(s3.path, "db");
  EXPECT_EQ(s3.access_key_id, "AKIAxxxxxxxxxxxxxxxx");
  EXPECT_EQ(s3.secret_access_key, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxxxxxxxx");
  EXPECT_EQ(s3.line, 9);
  // Defaults.
  EXPECT_EQ(s3.sync_interval, seconds(1));
  EXPECT_EQ(s3.retention, hours(24));
  EXPECT_EQ(s3.retention_check_interval, hours(1));
  EXPECT_EQ(s3.snapshot_interval, hours(24));
  EXPECT_EQ(db.monitor_interval, seconds(1));
  // Unset: the replicator's and the compactor's own defaults apply.
  EXPECT_FALSE(db.checkpoint_interval.has_value());
  EXPECT_FALSE(db.min_checkpoint_page_count.has_value());
  EXPECT_FALSE(db.truncate_page_n.has_value());
  EXPECT_EQ(db.max_checkpoint_page_count, 10000);
  EXPECT_FALSE(c.levels.has_value());
  EXPECT_EQ(c.logging.level, "info");
}

// The long-hand 0.3 replica form from the Litestream docs.
TEST(ConfigParseTest, Litestream03LongHand) {
  Config c = MustParse(R"(addr: ":9090"
logging:
  level: debug
  type: json
  stderr: true
dbs:
  - path: /var/lib/app.db
    monitor-interval: 500ms
    checkpoint-interval: 5m
    min-checkpoint-page-count: 2000
    max-checkpoint-page-count: 20000
    replicas:
      - name: primary
        type: s3
        bucket: mybkt.litestream.io
        path: db
        region: us-east-1
        endpoint: minio.local:9000
        retention: 72h
        retention-check-interval: 2h
        snapshot-interval: 6h
        sync-interval: 10s
        validation-interval: 12h
        force-path-style: false
        skip-verify: true
      - type: file
        path: /backups/app
)");
  EXPECT_EQ(c.addr, ":9090");
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.type, "json");
  EXPECT_TRUE(c.logging.to_stderr);
  ASSERT_EQ(c.dbs.size(), 1u);
  const DbConfig& db = c.dbs[0];
  EXPECT_EQ(db.monitor_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(db.checkpoint_interval, minutes(5));
  EXPECT_EQ(db.min_checkpoint_page_count, 2000);
  EXPECT_EQ(db.max_checkpoint_page_count, 20000);
  ASSERT_EQ(db.replicas.size(), 2u);
  const ReplicaConfig& s3 = db.replicas[0];
  EXPECT_EQ(s3.name, "primary");
  EXPECT_EQ(s3.bucket, "mybkt.litestream.io");
  EXPECT_EQ(s3.path, "db");
  EXPECT_EQ(s3.endpoint, "http://minio.local:9000");
  EXPECT_FALSE(s3.force_path_style);  // explicit false beats the endpoint
  EXPECT_TRUE(s3.skip_verify);
  EXPECT_EQ(s3.retention, hours(72));
  EXPECT_EQ(s3.retention_check_interval, hours(2));
  EXPECT_EQ(s3.snapshot_interval, hours(6));
  EXPECT_EQ(s3.sync_interval, seconds(10));
  EXPECT_EQ(s3.validation_interval, hours(12));
  EXPECT_EQ(db.replicas[1].type, "file");
  EXPECT_EQ(db.replicas[1].path, "/backups/app");
}

// Every backend Litestream has is built; an unknown type is refused
// naming what is supported, and a key of another backend is refused.
TEST(ConfigParseTest, UnknownBackendsAndForeignKeysAreRefused) {
  std::string u =
      ErrorOf("dbs:\n  - path: /a.db\n    replica:\n      type: ftp\n");
  EXPECT_NE(u.find("unknown replica type \"ftp\""), std::string::npos) << u;
  EXPECT_NE(u.find("webdav"), std::string::npos) << u;
  EXPECT_NE(u.find("nats"), std::string::npos) << u;
  // A key of another backend is refused where it does nothing.
  std::string e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
      "      webdav-url: http://h/\n");
  EXPECT_NE(e.find("webdav-url: not used by s3 replicas"), std::string::npos)
      << e;
}

// GCS as Litestream 0.3 (`type: gcs`) and 0.5 (`gs://`) write it; keys it
// does not use are refused.
TEST(ConfigParseTest, GcsReplicas) {
  for (const char* replica :
       {"type: gcs\n      bucket: b\n      path: p\n",
        "type: gs\n      bucket: b\n      path: p\n", "url: gs://b/p\n"}) {
    auto c =
        P(std::string("dbs:\n  - path: /a.db\n    replica:\n      ") + replica,
          true);
    ASSERT_TRUE(c.ok()) << replica << ": " << c.status().message();
    EXPECT_EQ(c->dbs[0].replicas[0].type, "gcs") << replica;
    EXPECT_EQ(c->dbs[0].replicas[0].bucket, "b") << replica;
  }
  std::string e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      url: gs://b/p\n"
      "      account-key: x\n");
  EXPECT_NE(e.find("account-key: not used by gcs replicas"), std::string::npos)
      << e;
}

// Each backend converts its own settings: a key the replica's backend does
// not use is an error naming the key and its line.
TEST(ConfigParseTest, KeyTheBackendDoesNotUseIsAnError) {
  std::string e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      path: /backups\n"
      "      storage-class: STANDARD_IA\n");
  EXPECT_NE(e.find(":5:"), std::string::npos) << e;
  EXPECT_NE(e.find("storage-class: not used by file replicas"),
            std::string::npos)
      << e;
  e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
      "      sse: DES\n");
  EXPECT_NE(e.find("sse: expected AES256 or aws:kms"), std::string::npos) << e;
  e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
      "      sse-customer-key: tooShortSecretValue\n");
  EXPECT_NE(e.find("32 bytes"), std::string::npos) << e;
  EXPECT_EQ(e.find("tooShortSecretValue"), std::string::npos) << e;
}

// A 0.5 config with the single `replica:` map and the 0.5 top-level keys.
TEST(ConfigParseTest, Litestream05Example) {
  Config c = MustParse(R"(addr: ":9090"
levels:
  - interval: 1m
  - interval: 10m
snapshot:
  interval: 12h
  retention: 168h
l0-retention: 10m
l0-retention-check-interval: 30s
retention:
  enabled: false
validation:
  interval: 6h
shutdown-sync-timeout: 10s
shutdown-sync-interval: 250ms
heartbeat-url: https://hc.example.com/ping/abc
heartbeat-interval: 10m
logging:
  level: warn
dbs:
  - path: /var/lib/app.db
    busy-timeout: 5s
    truncate-page-n: 50000
    restore-if-db-not-exists: true
    replica:
      url: s3://my-tigris-bucket/db.sqlite?endpoint=fly.storage.tigris.dev&region=auto
  - dir: /var/lib/tenants
    pattern: "*.db"
    recursive: true
    watch: true
    snapshot:
      interval: 1h
    replica:
      type: s3
      bucket: tenants
      path: backups
)");
  ASSERT_TRUE(c.levels.has_value());
  ASSERT_EQ(c.levels->size(), 2u);
  EXPECT_EQ((*c.levels)[0].interval, minutes(1));
  EXPECT_EQ((*c.levels)[1].interval, minutes(10));
  EXPECT_EQ(c.snapshot_interval, hours(12));
  EXPECT_EQ(c.retention, hours(168));
  EXPECT_EQ(c.l0_retention, minutes(10));
  EXPECT_EQ(c.l0_retention_check_interval, seconds(30));
  EXPECT_FALSE(c.retention_enabled);
  EXPECT_EQ(c.validation_interval, hours(6));
  EXPECT_EQ(c.shutdown_sync_timeout, seconds(10));
  EXPECT_EQ(c.shutdown_sync_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(c.heartbeat_url, "https://hc.example.com/ping/abc");
  EXPECT_EQ(c.heartbeat_interval, minutes(10));
  EXPECT_EQ(c.logging.level, "warn");
  ASSERT_EQ(c.dbs.size(), 2u);
  const DbConfig& app = c.dbs[0];
  EXPECT_EQ(app.busy_timeout, seconds(5));
  EXPECT_EQ(app.truncate_page_n, 50000);
  EXPECT_TRUE(app.restore_if_db_not_exists);
  ASSERT_EQ(app.replicas.size(), 1u);
  const ReplicaConfig& r = app.replicas[0];
  EXPECT_EQ(r.type, "s3");
  EXPECT_EQ(r.bucket, "my-tigris-bucket");
  EXPECT_EQ(r.path, "db.sqlite");
  EXPECT_EQ(r.endpoint, "https://fly.storage.tigris.dev");
  EXPECT_EQ(r.region, "auto");
  EXPECT_TRUE(r.force_path_style);
  EXPECT_EQ(r.snapshot_interval, hours(12));
  EXPECT_EQ(r.retention, hours(168));
  EXPECT_EQ(r.validation_interval, hours(6));

  const DbConfig& dir = c.dbs[1];
  EXPECT_EQ(dir.path, "");
  EXPECT_EQ(dir.dir, "/var/lib/tenants");
  EXPECT_EQ(dir.pattern, "*.db");
  EXPECT_TRUE(dir.recursive);
  EXPECT_TRUE(dir.watch);
  ASSERT_EQ(dir.replicas.size(), 1u);
  EXPECT_EQ(dir.replicas[0].snapshot_interval, hours(1));  // per-db snapshot
  EXPECT_EQ(dir.replicas[0].bucket, "tenants");
}

TEST(ConfigParseTest, EmptyConfigHasDefaults) {
  for (const char* text : {"", "# nothing\n", "dbs:\n"}) {
    Config c = MustParse(text);
    EXPECT_TRUE(c.dbs.empty());
    EXPECT_EQ(c.source, "litekeep.yml");
    EXPECT_FALSE(c.levels.has_value());  // the compactor's default levels
    EXPECT_EQ(c.snapshot_interval, hours(24));
    EXPECT_TRUE(c.retention_enabled);
  }
}

TEST(ConfigParseTest, PathOnlyReplicaIsFile) {
  Config c = MustParse(R"(dbs:
  - path: /data/app.db
    replica:
      path: /backups/app
)");
  ASSERT_EQ(c.dbs[0].replicas.size(), 1u);
  EXPECT_EQ(c.dbs[0].replicas[0].type, "file");
  EXPECT_EQ(c.dbs[0].replicas[0].path, "/backups/app");
}

TEST(ConfigParseTest, RelativeAndHomePathsBecomeAbsolute) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  const char* old_home = std::getenv("HOME");
  std::string saved = old_home ? old_home : "";
  setenv("HOME", "/home/tester", 1);
  Config c = MustParse(R"(dbs:
  - path: data/app.db
    meta-path: ~/meta
    replica:
      path: ../backups
  - path: sqlite:///srv/other.db
)");
  if (old_home) setenv("HOME", saved.c_str(), 1);
  EXPECT_EQ(c.dbs[0].path, std::string(cwd) + "/data/app.db");
  EXPECT_EQ(c.dbs[0].meta_path, "/home/tester/meta");
  std::string parent = std::string(cwd).substr(0, std::string(cwd).rfind('/'));
  EXPECT_EQ(c.dbs[0].replicas[0].path,
            (parent.empty() ? "" : parent) + "/backups");
  EXPECT_EQ(c.dbs[1].path, "/srv/other.db");
}

// --- Replica settings: url vs keys vs top level ------------------------

TEST(ConfigParseTest, ExplicitKeysOverrideUrl) {
  Config c = MustParse(R"(dbs:
  - path: /data/app.db
    replica:
      url: s3://urlbucket/urlpath?region=us-east-1
      region: eu-central-1
      path: keypath
)");
  const ReplicaConfig& r = c.dbs[0].replicas[0];
  EXPECT_EQ(r.type, "s3");
  EXPECT_EQ(r.bucket, "urlbucket");
  EXPECT_EQ(r.region, "eu-central-1");
  EXPECT_EQ(r.path, "keypath");
  EXPECT_EQ(r.url, "s3://urlbucket/urlpath?region=us-east-1");
}

TEST(ConfigParseTest, TopLevelReplicaDefaults) {
  Config c = MustParse(R"(access-key-id: AKIAGLOBAL
secret-access-key: globalsecret
region: us-west-2
bucket: global-bucket
endpoint: https://s3.example.com
sync-interval: 5s
dbs:
  - path: /data/a.db
    replica:
      type: s3
      path: a
  - path: /data/b.db
    replica:
      url: s3://own-bucket/b
      sync-interval: 2s
      access-key-id: AKIAOWN
)");
  const ReplicaConfig& a = c.dbs[0].replicas[0];
  EXPECT_EQ(a.bucket, "global-bucket");
  EXPECT_EQ(a.region, "us-west-2");
  EXPECT_EQ(a.endpoint, "https://s3.example.com");
  EXPECT_TRUE(a.force_path_style);
  EXPECT_EQ(a.sync_interval, seconds(5));
  EXPECT_EQ(a.access_key_id, "AKIAGLOBAL");
  EXPECT_EQ(a.secret_access_key, "globalsecret");
  const ReplicaConfig& b = c.dbs[1].replicas[0];
  EXPECT_EQ(b.bucket, "own-bucket");  // the url's bucket, not the global one
  EXPECT_EQ(b.sync_interval, seconds(2));
  EXPECT_EQ(b.access_key_id, "AKIAOWN");
  EXPECT_EQ(b.secret_access_key, "globalsecret");
  EXPECT_EQ(c.replica_defaults.access_key_id, "AKIAGLOBAL");

  // A command-line URL completed from the config.
  auto cli = ParseReplicaUrl("s3://cli-bucket/x");
  ASSERT_TRUE(cli.ok());
  ReplicaConfig r = *cli;
  ApplyReplicaDefaults(c, &r);
  EXPECT_EQ(r.access_key_id, "AKIAGLOBAL");
  EXPECT_EQ(r.region, "us-west-2");
  EXPECT_EQ(r.bucket, "cli-bucket");
  EXPECT_EQ(r.sync_interval, seconds(5));
  EXPECT_EQ(r.retention, hours(24));
}

TEST(ConfigParseTest, CamelAndSnakeCaseAliases) {
  Config c = MustParse(R"(accessKeyId: AKIA1
secretAccessKey: s1
dbs:
  - path: /data/app.db
    monitorInterval: 2s
    min_checkpoint_page_count: 10
    replica:
      type: s3
      bucket: b
      forcePathStyle: true
      skipVerify: true
      syncInterval: 3s
      endpoint: http://localhost:9000
  - path: /data/b.db
    replica:
      type: s3
      bucket: b
      force_path_style: false
      ACCESS_KEY_ID: AKIA2
      endpoint: http://localhost:9000
)");
  const ReplicaConfig& r = c.dbs[0].replicas[0];
  EXPECT_TRUE(r.force_path_style);
  EXPECT_TRUE(r.skip_verify);
  EXPECT_EQ(r.sync_interval, seconds(3));
  EXPECT_EQ(r.access_key_id, "AKIA1");
  EXPECT_EQ(r.secret_access_key, "s1");
  EXPECT_EQ(c.dbs[0].monitor_interval, seconds(2));
  EXPECT_EQ(c.dbs[0].min_checkpoint_page_count, 10);
  const ReplicaConfig& b = c.dbs[1].replicas[0];
  EXPECT_FALSE(b.force_path_style);
  EXPECT_EQ(b.access_key_id, "AKIA2");
}

TEST(ConfigParseTest, SameKeyTwiceIsAnError) {
  std::string e = ErrorOf(R"(dbs:
  - path: /data/app.db
    replica:
      forcePathStyle: true
      force-path-style: false
      url: s3://b/p
)");
  EXPECT_TRUE(Has(e, "litekeep.yml:5:")) << e;
  EXPECT_TRUE(Has(e, "duplicate key \"force-path-style\"")) << e;
  EXPECT_TRUE(Has(e, "line 4")) << e;
}

TEST(ConfigParseTest, LitestreamS3SettingsAreKept) {
  Config c = MustParse(R"(dbs:
  - path: /data/app.db
    replica:
      url: s3://b/p
      storage-class: STANDARD_IA
      part-size: 10MB
      concurrency: 8
      sse-kms-key-id: arn:aws:kms:x
      session-token: tok
      profile: prod
      ca-bundle: /etc/ssl/ca.pem
)");
  const ReplicaConfig& r = c.dbs[0].replicas[0];
  EXPECT_EQ(r.storage_class, "STANDARD_IA");
  EXPECT_EQ(r.part_size, 10000000);
  EXPECT_EQ(r.concurrency, 8);
  EXPECT_EQ(r.sse_kms_key_id, "arn:aws:kms:x");
  EXPECT_EQ(r.session_token, "tok");
  EXPECT_EQ(r.profile, "prod");
  EXPECT_EQ(r.ca_bundle, "/etc/ssl/ca.pem");
}

TEST(ConfigParseTest, YamlMergeKeys) {
  Config c = MustParse(R"(x-common: &common
  type: s3
  bucket: shared
dbs:
  - path: /data/a.db
    replica:
      <<: *common
      path: a
      bucket: own
  - path: /data/b.db
    replica: *common
)");
  const ReplicaConfig& a = c.dbs[0].replicas[0];
  EXPECT_EQ(a.type, "s3");
  EXPECT_EQ(a.bucket, "own");  // written in the map: wins over the merge
  EXPECT_EQ(a.path, "a");
  EXPECT_EQ(c.dbs[1].replicas[0].bucket, "shared");

  std::string e = ErrorOf(R"(x-common: &common
  type: s3
  buckt: shared
dbs:
  - path: /data/a.db
    replica:
      <<: *common
)");
  EXPECT_TRUE(Has(e, "litekeep.yml:3: unknown key \"buckt\" in replica")) << e;
}

// --- Unknown keys: the key, its line and the nearest known key ---------

struct TypoCase {
  const char* yaml;
  const char* key;
  const char* where;
  int line;
  const char* suggestion;
};

TEST(ConfigParseTest, UnknownKeysAtEveryLevel) {
  const TypoCase cases[] = {
      {"adr: \":9090\"\n", "adr", "top level", 1, "addr"},
      {"addr: x\nlogging:\n  levle: debug\n", "levle", "logging", 3, "level"},
      {"snapshot:\n  intervall: 1h\n", "intervall", "snapshot", 2, "interval"},
      {"levels:\n  - interval: 1m\n  - intreval: 2m\n", "intreval", "level", 3,
       "interval"},
      {"dbs:\n  - path: /a.db\n    monitor-intervl: 1s\n", "monitor-intervl",
       "db", 3, "monitor-interval"},
      {"dbs:\n  - path: /a.db\n    replicass:\n      - url: s3://b/p\n",
       "replicass", "db", 3, "replicas"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      sync-intervl: 1s\n",
       "sync-intervl", "replica", 5, "sync-interval"},
      {"dbs:\n  - path: /a.db\n    replicas:\n      - url: s3://b/p\n"
       "        buckett: x\n",
       "buckett", "replica", 5, "bucket"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      forcePathStlye: true\n",
       "forcePathStlye", "replica", 5, "force-path-style"},
      {"dbs:\n  - path: /a.db\n    snapshot:\n      retension: 1h\n",
       "retension", "snapshot", 4, "retention"},
      {"retention:\n  enabeld: true\n", "enabeld", "retention", 2, "enabled"},
      {"sync-intervall: 1s\n", "sync-intervall", "top level", 1,
       "sync-interval"},
  };
  for (const TypoCase& t : cases) {
    std::string e = ErrorOf(t.yaml);
    std::string want = "litekeep.yml:" + std::to_string(t.line) +
                       ": unknown key \"" + t.key + "\" in " + t.where +
                       " (did you mean \"" + t.suggestion + "\"?)";
    EXPECT_EQ(e, want) << t.yaml;
  }
}

TEST(ConfigParseTest, MisplacedKeysSayWhereTheyBelong) {
  std::string e = ErrorOf("dbs:\n  - path: /a.db\n    bucket: b\n");
  EXPECT_EQ(e,
            "litekeep.yml:3: unknown key \"bucket\" in db (\"bucket\" is a "
            "replica setting: put it under \"replica:\")");
  e = ErrorOf(
      "dbs:\n  - path: /a.db\n    replica:\n      path: /b\n"
      "      monitorInterval: 1s\n");
  EXPECT_EQ(e,
            "litekeep.yml:5: unknown key \"monitorInterval\" in replica "
            "(\"monitor-interval\" is a db setting: put it one level up)");
  e = ErrorOf("path: /a.db\n");
  EXPECT_EQ(e,
            "litekeep.yml:1: unknown key \"path\" in top level (\"path\" "
            "belongs in a \"dbs:\" entry)");
  e = ErrorOf("url: s3://b/p\n");
  EXPECT_TRUE(Has(e, "put it under \"replica:\"")) << e;
}

TEST(ConfigParseTest, FarOffUnknownKeyListsKnownKeys) {
  std::string e = ErrorOf("logging:\n  qqqqqqqqqqqq: 1\n");
  EXPECT_TRUE(Has(e, "litekeep.yml:2: unknown key \"qqqqqqqqqqqq\" in logging"))
      << e;
  EXPECT_TRUE(Has(e, "known keys: level, source, stderr, type")) << e;
}

// --- Wrong value types ---------------------------------------------------

struct BadValue {
  const char* yaml;
  int line;
  const char* key;
  const char* detail;
};

TEST(ConfigParseTest, WrongValueTypes) {
  const std::string db = "dbs:\n  - path: /a.db\n";
  const std::string rep = db + "    replica:\n      url: s3://b/p\n";
  const BadValue cases[] = {
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      sync-interval: banana\n",
       5, "sync-interval", "banana"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      sync-interval: 10\n",
       5, "sync-interval", "missing unit"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      retention: -1h\n",
       5, "retention", "negative"},
      {"dbs:\n  - dir: /d\n    pattern: '*.db'\n    recursive: maybe\n", 4,
       "recursive", "maybe"},
      {"dbs:\n  - path: /a.db\n    min-checkpoint-page-count: -5\n", 3,
       "min-checkpoint-page-count", "negative"},
      {"dbs:\n  - path: /a.db\n    truncate-page-n: lots\n", 3,
       "truncate-page-n", "lots"},
      {"dbs:\n  - path: /a.db\n    max-checkpoint-page-count: [1]\n", 3,
       "max-checkpoint-page-count", "list"},
      {"dbs:\n  - path: /a.db\n    monitor-interval: 1d\n", 3,
       "monitor-interval", "unknown unit"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      force-path-style: sometimes\n",
       5, "force-path-style", "sometimes"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      part-size: huge\n",
       5, "part-size", "huge"},
      {"logging:\n  stderr: perhaps\n", 2, "stderr", "perhaps"},
      {"logging:\n  level: loud\n", 2, "level", "loud"},
      {"snapshot:\n  interval: 0\n", 2, "interval", "greater than 0"},
      {"levels:\n  - interval: 5\n", 2, "interval", "missing unit"},
      {"heartbeat-interval: 10s\n", 1, "heartbeat-interval", "at least 1m"},
      {"addr:\n  - a\n", 1, "addr", "list"},
  };
  (void)rep;
  for (const BadValue& b : cases) {
    std::string e = ErrorOf(b.yaml);
    EXPECT_TRUE(Has(e, "litekeep.yml:" + std::to_string(b.line) + ":"))
        << b.yaml << " -> " << e;
    EXPECT_TRUE(Has(e, b.key)) << b.yaml << " -> " << e;
    EXPECT_TRUE(Has(e, b.detail)) << b.yaml << " -> " << e;
  }
}

TEST(ConfigParseTest, WrongShapes) {
  EXPECT_TRUE(Has(ErrorOf("- a\n- b\n"), "top level"));
  EXPECT_TRUE(Has(ErrorOf("dbs:\n  path: /a.db\n"), "dbs: expected a list"));
  EXPECT_TRUE(Has(ErrorOf("dbs:\n  - /a.db\n"), "each entry is a map"));
  std::string e =
      ErrorOf("dbs:\n  - path: /a.db\n    replica:\n      - url: s3://b/p\n");
  EXPECT_TRUE(Has(e, "replica: expected a map")) << e;
  e = ErrorOf("dbs:\n  - path: /a.db\n    replicas:\n      url: s3://b/p\n");
  EXPECT_TRUE(Has(e, "litekeep.yml:3: replicas: expected a list")) << e;
  e = ErrorOf("dbs:\n  - path: [/a.db\n");
  EXPECT_TRUE(Has(e, "invalid YAML")) << e;
  EXPECT_TRUE(Has(e, "litekeep.yml:")) << e;
}

// --- Validation ---------------------------------------------------------

TEST(ConfigParseTest, Validation) {
  struct {
    const char* yaml;
    const char* want;
  } cases[] = {
      {"dbs:\n  - replica:\n      path: /b\n", "litekeep.yml:2: db: needs"},
      {"dbs:\n  - path: /a.db\n    dir: /d\n", "not both"},
      {"dbs:\n  - dir: /d\n", "`pattern:` is required"},
      {"dbs:\n  - path: /a.db\n    watch: true\n", "`watch:` needs `dir:`"},
      {"dbs:\n  - path: /a.db\n    replica:\n      path: /b\n"
       "    replicas:\n      - path: /c\n",
       "litekeep.yml:5: db: set `replica:` or `replicas:`, not both"},
      {"dbs:\n  - path: /a.db\n  - path: /b.db\n  - path: /a.db\n",
       "litekeep.yml:4: duplicate db path \"/a.db\" (first on line 2)"},
      {"dbs:\n  - path: /a.db\n    replica:\n      type: s3\n      path: x\n",
       "litekeep.yml:4: s3 replica has no bucket"},
      {"dbs:\n  - path: /a.db\n    replica:\n      sync-interval: 1s\n",
       "file replica has no destination"},
      {"dbs:\n  - path: /a.db\n    replica:\n      type: s4\n      bucket: b\n",
       "litekeep.yml:4: type: unknown replica type \"s4\" (did you mean "
       "\"s3\"?)"},
      {"dbs:\n  - path: /a.db\n    replica:\n      type: webdav\n",
       "litekeep.yml:4: webdav replica has no server (set `webdav-url:`"},
      {"dbs:\n  - path: /a.db\n    replica:\n      type: file\n"
       "      url: s3://b/p\n",
       "does not match the url scheme"},
      {"dbs:\n  - path: /a.db\n    replica:\n      path: s3://b/p\n",
       "litekeep.yml:4: replica path cannot be a URL"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: ftp://h/p\n",
       "litekeep.yml:4: url: replica URL \"ftp://h/p\": unknown replica "
       "type \"ftp\""},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      age:\n        recipients: [x]\n",
       "litekeep.yml:6: age.recipients: line 1: age recipient (1 "
       "characters, not starting with age1) is invalid"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      age:\n        identities: [AGE-SECRET-KEY-1QQQQ]\n",
       "age identity AGE-SECRET-KEY-... (20 characters) is invalid"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      age: {}\n",
       "needs recipients (to write) and/or identities"},
      {"dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
       "      age:\n        passphrase: x\n",
       "passphrase"},
      {"heartbeat-url: ftp://x\n", "http:// or https://"},
  };
  for (const auto& c : cases) {
    std::string e = ErrorOf(c.yaml);
    EXPECT_TRUE(Has(e, c.want)) << c.yaml << " -> " << e;
  }
}

// --- Environment expansion ----------------------------------------------

TEST(ConfigParseTest, EnvExpansionOnAndOff) {
  setenv("LK_PT_BUCKET", "env-bucket", 1);
  setenv("LK_PT_SECRET", "env-secret", 1);
  setenv("LK_PT_INTERVAL", "7s", 1);
  const std::string yaml = R"(secret-access-key: ${LK_PT_SECRET}
dbs:
  - path: /data/app.db
    replica:
      url: s3://${LK_PT_BUCKET}/$LK_PT_BUCKET
      sync-interval: $LK_PT_INTERVAL
)";
  auto on = P(yaml, true);
  ASSERT_TRUE(on.ok()) << on.status().message();
  const ReplicaConfig& r = on->dbs[0].replicas[0];
  EXPECT_EQ(r.bucket, "env-bucket");
  EXPECT_EQ(r.path, "env-bucket");
  EXPECT_EQ(r.secret_access_key, "env-secret");
  EXPECT_EQ(r.sync_interval, seconds(7));

  // Off: the text stays as written, so the duration no longer parses.
  std::string e = ErrorOf(yaml, false);
  EXPECT_TRUE(Has(e, "litekeep.yml:6: sync-interval")) << e;
  EXPECT_TRUE(Has(e, "$LK_PT_INTERVAL")) << e;
  auto off = P(R"(secret-access-key: ${LK_PT_SECRET}
dbs:
  - path: /data/app.db
    replica:
      url: s3://${LK_PT_BUCKET}/x
)",
               false);
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_EQ(off->dbs[0].replicas[0].bucket, "${LK_PT_BUCKET}");
  EXPECT_EQ(off->dbs[0].replicas[0].secret_access_key, "${LK_PT_SECRET}");
  unsetenv("LK_PT_BUCKET");
  unsetenv("LK_PT_SECRET");
  unsetenv("LK_PT_INTERVAL");
}

// --- Secrets --------------------------------------------------------------

TEST(ConfigParseTest, SecretsNeverInErrors) {
  const std::string kSecret = "Sup3rS3cretValue";
  const std::string secrets =
      "access-key-id: AKIAPUBLIC\n"
      "secret-access-key: " +
      kSecret + "\n";
  const std::string replica_secrets = "      secret-access-key: " + kSecret +
                                      "\n"
                                      "      password: " +
                                      kSecret +
                                      "\n"
                                      "      account-key: " +
                                      kSecret +
                                      "\n"
                                      "      sas-token: " +
                                      kSecret +
                                      "\n"
                                      "      sse-customer-key: " +
                                      kSecret +
                                      "\n"
                                      "      webdav-password: " +
                                      kSecret +
                                      "\n"
                                      "      token: " +
                                      kSecret + "\n";
  const std::string bad_yaml[] = {
      // Errors elsewhere in the file.
      secrets +
          "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
          "      sync-intervl: 1s\n",
      secrets + "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n" +
          replica_secrets + "      sync-interval: banana\n",
      secrets + "dbs:\n  - path: /a.db\n    replica:\n" + replica_secrets +
          "      type: s3\n",
      secrets + "dbs:\n  - path: /a.db\n    replica:\n" + replica_secrets +
          "      type: sftp\n      host: h\n",
      // A secret in the URL itself.
      "dbs:\n  - path: /a.db\n    replica:\n      url: sftp://u:" + kSecret +
          "@host/p?nope=1\n",
      "dbs:\n  - path: /a.db\n    replica:\n      url: s3://u:" + kSecret +
          "@b/p\n",
      "dbs:\n  - path: /a.db\n    replica:\n      url: sftp://u:" + kSecret +
          "@host/p\n      type: s3\n",
      // Syntax error on the secret's own line.
      "secret-access-key: " + kSecret + "\nfoo: [unclosed\n",
      "secret-access-key: [" + kSecret + "\n",
      "secret-access-key: \"" + kSecret + "\" trailing\n",
      // Secret values with the wrong shape.
      "secret-access-key: [" + kSecret + "]\n",
      "dbs:\n  - path: /a.db\n    replica:\n      url: s3://b/p\n"
      "      password: {x: " +
          kSecret + "}\n",
      secrets + secrets,  // duplicate keys
  };
  for (const std::string& yaml : bad_yaml) {
    auto c = P(yaml);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_FALSE(Has(c.status().message(), kSecret))
        << yaml << " -> " << c.status().message();
  }
}

TEST(ConfigParseTest, RedactedReplicasFromConfig) {
  Config c = MustParse(R"(dbs:
  - path: /a.db
    replicas:
      - url: s3://b/p?endpoint=http://127.0.0.1:9000
        access-key-id: AKIA
        secret-access-key: KeySecret
        session-token: TokSecret
        sse-customer-key: KeySecretKeySecretKeySecretKeySe
)");
  for (const ReplicaConfig& r : c.dbs[0].replicas) {
    std::string s = Redacted(r);
    EXPECT_FALSE(Has(s, "Secret")) << s;
  }
  EXPECT_EQ(Redacted(c.dbs[0].replicas[0]),
            "s3://b/p?endpoint=http://127.0.0.1:9000&forcePathStyle=true");
}

// --- Files ----------------------------------------------------------------

TEST(ConfigLoadTest, LoadFileAndDefaultPath) {
  testing::TempDir dir;
  std::string path = dir.Join("litestream.yml");
  {
    std::ofstream f(path);
    f << "dbs:\n  - path: /a.db\n    replica:\n      path: /b\n"
         "      sync-intervl: 1s\n";
  }
  auto c = LoadFile(path, true);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Has(c.status().message(), path + ":5: unknown key"))
      << c.status().message();

  {
    std::ofstream f(path);
    f << "dbs:\n  - path: /a.db\n    replica:\n      path: /b\n";
  }
  c = LoadFile(path, true);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->dbs[0].replicas[0].path, "/b");

  auto missing = LoadFile(dir.Join("nope.yml"), true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), base::Code::kNotFound);
  EXPECT_TRUE(Has(missing.status().message(), "nope.yml"));

  setenv("LITEKEEP_CONFIG", path.c_str(), 1);
  EXPECT_EQ(DefaultConfigPath(), path);
  unsetenv("LITEKEEP_CONFIG");
  setenv("LITESTREAM_CONFIG", "/x/litestream.yml", 1);
  EXPECT_EQ(DefaultConfigPath(), "/x/litestream.yml");
  unsetenv("LITESTREAM_CONFIG");
  std::string d = DefaultConfigPath();
  EXPECT_TRUE(d == "/etc/litekeep.yml" || d == "/etc/litestream.yml") << d;
}

}  // namespace
}  // namespace litekeep::config

namespace litekeep::config {
namespace {

// docs/config.md, `name`: replicas are chosen by name, so two of one
// database may not share one (an unnamed replica is named after its type).
TEST(ConfigParseTest, ReplicaNamesAreUniquePerDatabase) {
  const std::string two_files =
      "dbs:\n  - path: /a.db\n    replicas:\n      - path: /r1\n"
      "      - path: /r2\n";
  auto c = Parse(two_files, "litekeep.yml", false);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(
                "litekeep.yml:5: replicas: two replicas of this database are "
                "named \"file\""),
            std::string::npos)
      << c.status().message();
  auto named = Parse(
      "dbs:\n  - path: /a.db\n    replicas:\n      - path: /r1\n"
      "      - name: second\n        path: /r2\n"
      "  - path: /b.db\n    replicas:\n      - path: /r3\n",
      "litekeep.yml", false);
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ(ReplicaName(named->dbs[0].replicas[0]), "file");
  EXPECT_EQ(ReplicaName(named->dbs[0].replicas[1]), "second");
  auto same_name = Parse(
      "dbs:\n  - path: /a.db\n    replicas:\n      - name: x\n        path: "
      "/r1\n"
      "      - name: x\n        url: s3://b/p\n",
      "litekeep.yml", false);
  ASSERT_FALSE(same_name.ok());
  EXPECT_NE(same_name.status().message().find("named \"x\""),
            std::string::npos);
}

}  // namespace
}  // namespace litekeep::config
