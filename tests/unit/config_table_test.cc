// Walks the key tables of docs/config.md and checks every row's Status
// against the loader: a key documented as "used" loads, a key documented as
// "refused" is an error naming the key and its line. So the docs cannot
// drift from the loader, and no key is accepted and then ignored.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/directory.h"
#include "tests/support/test_util.h"

namespace litekeep::config {
namespace {

struct Row {
  std::string section;  // "top", "db" or "replica"
  std::vector<std::string> keys;
  std::string type;
  std::string status;
  int doc_line = 0;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" *");
  size_t e = s.find_last_not_of(" *");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<Row> ReadRows() {
  std::istringstream in(
      testing::ReadFile(testing::SourceDir() + "/docs/config.md"));
  std::vector<Row> rows;
  std::string line, section;
  int n = 0;
  const std::regex name_re("`([a-z0-9][a-z0-9.\\-]*)`");
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("## ", 0) == 0) {
      section = line == "## Top level"       ? "top"
                : line == "## `dbs` entries" ? "db"
                : line == "## Replica keys"  ? "replica"
                                             : "";
      continue;
    }
    if (section.empty() || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream cs(line.substr(1));
    while (std::getline(cs, cell, '|')) cells.push_back(Trim(cell));
    if (cells.size() < 6) continue;
    Row r{section, {}, cells[1], cells[4], n};
    for (std::sregex_iterator it(cells[0].begin(), cells[0].end(), name_re),
         end;
         it != end; ++it) {
      r.keys.push_back((*it)[1]);
    }
    rows.push_back(r);
  }
  return rows;
}

// Keys of sftp replicas (tried on an sftp replica, not an s3 one).
const std::set<std::string> kSftpKeys = {"host",
                                         "user",
                                         "password",
                                         "key-path",
                                         "key-passphrase",
                                         "host-key",
                                         "known-hosts",
                                         "insecure-ignore-host-key",
                                         "concurrent-writes"};

// Keys of nats replicas only (tried on a nats replica).
const std::set<std::string> kNatsKeys = {
    "username", "token",       "timeout",   "reconnect-wait", "max-reconnects",
    "jwt",      "seed",        "creds",     "nkey",           "tls",
    "root-cas", "client-cert", "client-key"};

// The user seed/public key pair published in the NATS documentation
// (docs.nats.io, "NKeys"), and a user JWT for it (claims only; the
// signature is the server's to check).
constexpr char kNatsSeed[] =
    "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
constexpr char kNatsJwt[] =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ."
    "eyJzdWIiOiJVRFhVNFJDU0pOWk9JUUhaTldYSFhPUkRQUlRHTkpBSEFIRlJHWk5FRUpDUFFUVD"
    "JNN05MQ05GNCIsIm5hdHMiOnsidHlwZSI6InVzZXIiLCJ2ZXJzaW9uIjoyfX0.c2ln";

// A file holding a 32-byte SSE-C key, for `sse-customer-key-path`.
std::string g_key_file;

// A value of the row's type that the loader accepts for key.
std::string SampleValue(const std::string& key, const std::string& type) {
  if (key == "sse-customer-key-path") return g_key_file;
  static const std::map<std::string, std::string> kValues = {
      {"dbs", "[]"},
      {"addr", "\":9090\""},
      {"exec", "\"sleep 1\""},
      {"logging.level", "info"},
      {"logging.type", "json"},
      {"levels", "[{interval: 1m}]"},
      {"retention", "24h"},
      {"sync", "[{src: \"s3://b/p\", dest: /tmp/lk-dest}]"},
      {"heartbeat-url", "https://hc.example.com/ping"},
      {"replica", "{type: s3, bucket: b}"},
      {"replicas", "[{type: s3, bucket: b}]"},
      {"type", "s3"},
      {"url", "s3://b/p"},
      {"endpoint", "http://localhost:9000"},
      {"part-size", "8MiB"},
      {"storage-class", "STANDARD_IA"},
      {"concurrency", "4"},
      {"sse", "AES256"},
      {"sse-customer-algorithm", "AES256"},
      {"sse-customer-key", "0123456789abcdef0123456789abcdef"},
      {"age",
       "{recipients: "
       "[age13fhuul47urfeg7g7nlxwqh8xp308s2ngq0hcf76s4x3mvlzu5axqw22p7n]}"},
      {"max-sync-wal-bytes", "1MiB"},
      {"socket.permissions", "0660"},
      {"socket.path", "/tmp/lk-test.sock"},
      {"page-encoding", "lz4-frame"},
      {"host-key", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
      {"jwt", kNatsJwt},
      {"seed", kNatsSeed},
      {"nkey", kNatsSeed},
  };
  auto it = kValues.find(key);
  if (it != kValues.end()) return it->second;
  if (type.find("duration") != std::string::npos) return "5m";
  if (type.find("bool") != std::string::npos) return "true";
  if (type.find("count") != std::string::npos) return "10";
  if (type.find("size") != std::string::npos) return "1MiB";
  return "x";
}

// A config with key set (dotted keys become nested maps) in its section;
// *line is the line of the key.
std::string ConfigWith(const Row& row, const std::string& key, int* line) {
  std::string value = SampleValue(key, row.type);
  std::string head, leaf = key, indent;
  if (size_t dot = key.find('.'); dot != std::string::npos) {
    head = key.substr(0, dot);
    leaf = key.substr(dot + 1);
  }
  std::string prefix;
  if (row.section == "db") {
    prefix = (key == "dir" || key == "pattern" || key == "recursive" ||
              key == "watch" || key == "meta-dir")
                 ? "dbs:\n  - dir: /data\n    pattern: \"*.db\"\n"
                 : "dbs:\n  - path: /data/a.db\n";
    indent = "    ";
    if (key == "dir" || key == "pattern") {
      *line = key == "dir" ? 2 : 3;
      return prefix;
    }
    if (key == "path") {
      *line = 2;
      return prefix;
    }
  } else if (row.section == "replica") {
    prefix = "dbs:\n  - path: /data/a.db\n    replica:\n";
    indent = "      ";
    const bool abs_key =
        key == "account-name" || key == "account-key" || key == "sas-token";
    const bool sftp = kSftpKeys.count(key) > 0;
    const bool webdav = key.rfind("webdav-", 0) == 0;
    const bool nats = kNatsKeys.count(key) > 0;
    if (key != "type" && key != "url" && key != "path") {
      prefix += indent + (abs_key  ? "type: abs\n"
                          : sftp   ? "type: sftp\n"
                          : webdav ? "type: webdav\n"
                          : nats   ? "type: nats\n"
                                   : "type: s3\n");
    }
    if (webdav) {
      if (key != "webdav-url") prefix += indent + "webdav-url: http://h\n";
    } else if (sftp) {
      if (key != "host") prefix += indent + "host: h\n";
      if (key != "user") prefix += indent + "user: u\n";
      if (key == "key-passphrase") prefix += indent + "key-path: /k\n";
    } else if (key != "bucket" && key != "url" && key != "path") {
      prefix += indent + "bucket: b\n";
    }
    if (abs_key && key != "account-name") {
      prefix += indent + "account-name: a\n";
    }
    if (key == "username") prefix += indent + "password: p\n";
    // NATS keys that only work in pairs.
    if (key == "jwt") prefix += indent + "seed: " + kNatsSeed + "\n";
    if (key == "seed") prefix += indent + "jwt: " + kNatsJwt + "\n";
    if (key == "client-cert") prefix += indent + "client-key: /k.pem\n";
    if (key == "client-key") prefix += indent + "client-cert: /c.pem\n";
    if (key == "sse-customer-algorithm") {
      prefix += indent + "sse-customer-key: 0123456789abcdef0123456789abcdef\n";
    }
  }
  int n = static_cast<int>(std::count(prefix.begin(), prefix.end(), '\n'));
  if (!head.empty()) {
    *line = n + 2;
    return prefix + indent + head + ":\n" + indent + "  " + leaf + ": " +
           value + "\n";
  }
  *line = n + 1;
  return prefix + indent + key + ": " + value + "\n";
}

TEST(ConfigTableTest, EveryDocumentedKeyIsUsedOrRefused) {
  testing::TempDir tmp;
  g_key_file = tmp.Join("sse.key");
  std::ofstream(g_key_file) << "0123456789abcdef0123456789abcdef";
  std::vector<Row> rows = ReadRows();
  ASSERT_GT(rows.size(), 40u) << "docs/config.md tables not found";
  int used = 0, refused = 0;
  for (const Row& row : rows) {
    ASSERT_TRUE(row.status == "used" || row.status == "refused" ||
                row.status == "ignored")
        << "docs/config.md:" << row.doc_line << ": status \"" << row.status
        << "\" (every key must be used or refused)";
    if (row.status == "ignored") continue;  // `x-…` anchor holders
    ASSERT_FALSE(row.keys.empty()) << "docs/config.md:" << row.doc_line;
    for (const std::string& key : row.keys) {
      int line = 0;
      std::string yaml = ConfigWith(row, key, &line);
      auto c = Parse(yaml, "litekeep.yml", false);
      if (row.status == "used") {
        ++used;
        EXPECT_TRUE(c.ok()) << "docs/config.md:" << row.doc_line << " says `"
                            << key << "` is used, but loading\n"
                            << yaml << "fails: " << c.status().message();
        continue;
      }
      ++refused;
      ASSERT_FALSE(c.ok()) << "docs/config.md:" << row.doc_line << " says `"
                           << key << "` is refused, but\n"
                           << yaml << "loads";
      const std::string m = c.status().message();
      std::string named = key.substr(0, key.find('.'));
      if (row.section == "top" && key.find('.') != std::string::npos &&
          key.rfind("socket.", 0) != 0) {
        named = key;  // logging.source
      }
      // A dotted key may be refused at its map's line (`socket:`).
      const bool dotted = key.find('.') != std::string::npos;
      EXPECT_TRUE(m.find("litekeep.yml:" + std::to_string(line) + ":") !=
                      std::string::npos ||
                  (dotted && m.find("litekeep.yml:" + std::to_string(line - 1) +
                                    ":") != std::string::npos))
          << key << " -> " << m;
      EXPECT_NE(m.find(named), std::string::npos) << key << " -> " << m;
    }
  }
  EXPECT_GT(used, 30);
  // logging.source and max-sync-ltx-files: every other Litestream key is
  // built now (the NATS logins and TLS keys last).
  EXPECT_GE(refused, 2);
}

TEST(ConfigTableTest, AutoRecoverTrueFalseAndUnset) {
  auto c = Parse(
      "auto-recover: false\n"
      "dbs:\n  - path: /data/a.db\n    replica:\n      path: /r\n"
      "  - path: /data/b.db\n    replica:\n      path: /r2\n"
      "      auto-recover: true\n  - path: /data/c.db\n",
      "litekeep.yml", false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].replicas[0].auto_recover, false);
  EXPECT_EQ(c->dbs[1].replicas[0].auto_recover, true);
  auto unset =
      Parse("dbs:\n  - path: /data/a.db\n    replica:\n      path: /r\n",
            "litekeep.yml", false);
  ASSERT_TRUE(unset.ok()) << unset.status().message();
  EXPECT_FALSE(unset->dbs[0].replicas[0].auto_recover.has_value());
  auto bad = Parse(
      "dbs:\n  - path: /data/a.db\n    replica:\n      path: /r\n"
      "      auto-recover: maybe\n",
      "litekeep.yml", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("litekeep.yml:5:"), std::string::npos)
      << bad.status().message();
}

TEST(ConfigTableTest, MetaDirAndVerifyCompaction) {
  auto c = Parse(
      "verify-compaction: true\n"
      "dbs:\n  - dir: /data\n    pattern: \"*.db\"\n    meta-dir: /state\n"
      "  - dir: /other\n    pattern: \"*.db\"\n    meta-path: /m\n"
      "  - path: /one.db\n",
      "litekeep.yml", false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->verify_compaction);
  EXPECT_EQ(StateDirForDatabase(c->dbs[0], "/data/t/a.db"),
            "/state/t/a.db-litekeep");
  EXPECT_EQ(StateDirForDatabase(c->dbs[0], "/data/a.db"),
            "/state/a.db-litekeep");
  EXPECT_EQ(StateDirForDatabase(c->dbs[1], "/other/t/b.db"),
            "/m/t/.b.db-litekeep");
  EXPECT_EQ(StateDirForDatabase(c->dbs[2], "/one.db"), "");
  EXPECT_TRUE(UnderDirectory(c->dbs[0], "/data/t/a.db"));
  EXPECT_FALSE(UnderDirectory(c->dbs[0], "/elsewhere/a.db"));
  EXPECT_FALSE(UnderDirectory(c->dbs[2], "/one.db"));
  for (const char* bad :
       {"dbs:\n  - path: /a.db\n    meta-dir: /s\n",
        "dbs:\n  - dir: /d\n    pattern: x\n    meta-dir: /s\n"
        "    meta-path: /m\n"}) {
    auto e = Parse(bad, "litekeep.yml", false);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.status().message().find("meta-dir"), std::string::npos)
        << e.status().message();
  }
}

TEST(ConfigTableTest, SocketSettings) {
  auto d = Parse("dbs: []\n", "litekeep.yml", false);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_FALSE(d->socket.enabled);
  EXPECT_EQ(d->socket.path, "/var/run/litestream.sock");
  EXPECT_EQ(d->socket.permissions, 0600u);
  for (const auto& [text, mode] : std::vector<std::pair<std::string, uint32_t>>{
           {"0660", 0660}, {"0o640", 0640}, {"384", 0600}, {"0", 0}}) {
    auto c = Parse(
        "socket:\n  enabled: true\n  path: /run/lk.sock\n"
        "  permissions: " +
            text + "\n",
        "litekeep.yml", false);
    ASSERT_TRUE(c.ok()) << text << ": " << c.status().message();
    EXPECT_TRUE(c->socket.enabled);
    EXPECT_EQ(c->socket.path, "/run/lk.sock");
    EXPECT_EQ(c->socket.permissions, mode) << text;
  }
  for (const std::string text : {"rw", "0999", "01000", "-1", "0o"}) {
    auto c =
        Parse("socket:\n  permissions: " + text + "\n", "litekeep.yml", false);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find("litekeep.yml:2: permissions"),
              std::string::npos)
        << c.status().message();
  }
  auto typo = Parse("socket:\n  enable: true\n", "litekeep.yml", false);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("enabled"), std::string::npos)
      << typo.status().message();
}

TEST(ConfigTableTest, MaxCheckpointPageCountSetsTruncatePageN) {
  auto c = Parse(
      "dbs:\n  - path: /data/a.db\n    max-checkpoint-page-count: "
      "5000\n  - path: /data/b.db\n    max-checkpoint-page-count: "
      "5000\n    truncate-page-n: 9000\n  - path: /data/c.db\n",
      "litekeep.yml", false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->dbs[0].truncate_page_n, 5000);
  EXPECT_EQ(c->dbs[1].truncate_page_n, 9000);
  EXPECT_FALSE(c->dbs[2].truncate_page_n.has_value());
}

}  // namespace
}  // namespace litekeep::config
