// Encrypted replicas end to end with the real binary (docs/encryption.md):
// replicate with `age:` recipients, the stored files are age files that the
// age command decrypts into valid LTX files, restore with the identities
// gives the source rows, and restore without them fails naming the object
// and the missing key; and Litestream 0.3.13's encrypted replicas restore.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "base/age.h"
#include "base/io.h"
#include "tests/support/litestream03.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

std::string Config(const std::string& db, const std::string& replica,
                   const std::string& age_block) {
  return "dbs:\n  - path: " + db + "\n    replica:\n      path: " + replica +
         "\n" + age_block;
}

TEST(AgeE2ETest, ReplicateRestoreAndAgeCommand) {
  TempDir dir;
  auto id = base::GenerateAgeIdentity();
  ASSERT_TRUE(id.ok());
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); "
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                    "FROM c WHERE i<3000) INSERT INTO t SELECT "
                    "randomblob(100) FROM c;"),
            "");
  const std::string cfg = dir.Join("litekeep.yml");
  ASSERT_TRUE(
      base::WriteFileAtomic(
          cfg,
          Config(db, replica,
                 "      age:\n        recipients: [" + id->recipient.Encode() +
                     "]\n        identities: [" + id->Encode() + "]\n"))
          .ok());
  CommandResult rep = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", "-config", cfg});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(rep.err.find(id->Encode()), std::string::npos) << "secret logged";

  // Every stored file is an age file (but the replica lease object, which
  // holds no database content: docs/storage_layout.md).
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(replica)) {
    if (e.is_regular_file() &&
        e.path().filename().string().rfind("lock.json", 0) != 0) {
      files.push_back(e.path().string());
    }
  }
  ASSERT_FALSE(files.empty());
  for (const std::string& f : files) {
    EXPECT_TRUE(base::LooksLikeAge(ReadFile(f))) << f;
  }

  // The age command decrypts one into an LTX file.
  if (RunShell("command -v age").exit_code == 0) {
    const std::string key = dir.Join("key.txt");
    ASSERT_TRUE(base::WriteFileAtomic(key, id->Encode() + "\n").ok());
    CommandResult d =
        litekeep::testing::Run({"age", "-d", "-i", key, files[0]});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_EQ(d.out.substr(0, 4), "LTX1");
  } else {
    std::cout << "the age command is not installed (apt-get install age); "
                 "age -d check not run\n";
  }

  // Restore with the identities gives the rows back.
  const std::string out = dir.Join("out.db");
  CommandResult res = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-config", cfg, "-o", out, db});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"), "3000");
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");

  // Without identities: the error names the object and the missing key.
  const std::string cfg2 = dir.Join("no-identity.yml");
  ASSERT_TRUE(
      base::WriteFileAtomic(cfg2, Config(db, replica,
                                         "      age:\n        recipients: [" +
                                             id->recipient.Encode() + "]\n"))
          .ok());
  CommandResult bad = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-config", cfg2, "-o", dir.Join("o2.db"), db});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(".ltx"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("age: identities"), std::string::npos) << bad.err;

  // With another key: "no identity matches".
  auto other = base::GenerateAgeIdentity();
  ASSERT_TRUE(other.ok());
  const std::string cfg3 = dir.Join("wrong.yml");
  ASSERT_TRUE(
      base::WriteFileAtomic(cfg3, Config(db, replica,
                                         "      age:\n        identities: [" +
                                             other->Encode() + "]\n"))
          .ok());
  CommandResult wrong = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-config", cfg3, "-o", dir.Join("o3.db"), db});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("no identity matches"), std::string::npos)
      << wrong.err;
  EXPECT_EQ(wrong.err.find(other->Encode()), std::string::npos);
}

// Litestream 0.3.13 encrypts its snapshots and WAL segments with age;
// litekeep restores them with the same `age:` map.
TEST(AgeE2ETest, RestoresLitestream03EncryptedReplica) {
  if (Litestream03Bin().empty()) {
    GTEST_SKIP() << "litestream 0.3.13 not installed";
  }
  TempDir dir;
  auto id = base::GenerateAgeIdentity();
  ASSERT_TRUE(id.ok());
  const std::string db = dir.Join("a.db");
  const std::string replica = dir.Join("replica");
  const std::string cfg = dir.Join("litestream.yml");
  ASSERT_TRUE(base::WriteFileAtomic(
                  cfg, "dbs:\n  - path: " + db +
                           "\n    replicas:\n      - path: " + replica +
                           "\n        sync-interval: 200ms\n        age:\n"
                           "          recipients: [" +
                           id->recipient.Encode() +
                           "]\n          identities: [" + id->Encode() + "]\n")
                  .ok());
  WorkloadOptions w;
  w.transactions = 800;
  ASSERT_EQ(ReplicateWithLitestream03(cfg, db, w, dir.Join("litestream.log")),
            "");
  std::vector<std::string> objects = FilesUnder(replica);
  ASSERT_FALSE(objects.empty());
  for (const std::string& f : objects) {
    EXPECT_TRUE(base::LooksLikeAge(ReadFile(f))) << f;
  }
  const std::string out = dir.Join("restored.db");
  CommandResult r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-config", cfg, "-o", out, db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ContentHash(out), ContentHash(db));
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace litekeep::testing
