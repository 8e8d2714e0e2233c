// The replica lease end to end with real processes (docs/architecture.md,
// "Replica lease"): two `replicate` processes on two databases with their
// own local state (as on two hosts) against one replica. The second is
// refused naming the first; with -wait-lease it takes over once the first
// stops; a holder whose lease expired and was taken over stops uploading;
// the replica then restores exactly the new holder's database. On a file
// replica (link/flock conditional writes), on Azurite (real If-None-Match
// / If-Match with ETags) and on rclone's WebDAV server (MOVE without
// overwrite, LOCK).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "storage/s3/client.h"
#include "storage/s3/options.h"
#include "tests/support/azurite.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/rclone_webdav.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Where a test's replica lives: the lines of a `replica:` map (indented
// six spaces) and the URL that restore takes.
struct Target {
  std::string replica_lines;
  std::string url;
};

std::string Rows(const std::string& db) {
  return QueryOne(db, "SELECT count(*) || ':' || total(x) FROM t");
}

void Insert(const std::string& db, int from, int to) {
  ASSERT_EQ(
      ExecSql(db, "WITH RECURSIVE c(i) AS (SELECT " + std::to_string(from) +
                      " UNION ALL SELECT i+1 "
                      "FROM c WHERE i<" +
                      std::to_string(to) + ") INSERT INTO t SELECT i FROM c;"),
      "");
}

// A config replicating db with its own local state directory (meta).
std::string WriteConfig(const TempDir& dir, const std::string& name,
                        const std::string& db, const std::string& meta,
                        const Target& target, const std::string& ttl) {
  const std::string cfg = dir.Join(name + ".yml");
  std::ofstream(cfg) << "shutdown-sync-timeout: 1s\n"
                     << "dbs:\n  - path: " << db << "\n"
                     << "    meta-path: " << meta << "\n"
                     << "    replica:\n"
                     << target.replica_lines << "      sync-interval: 100ms\n"
                     << "      lease-ttl: " << ttl << "\n";
  return cfg;
}

// Restores the replica's newest state; returns Rows of it or an error.
std::string RestoredRows(const TempDir& dir, const Target& target) {
  const std::string out = dir.Join("restored.db");
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-force", "-o", out, target.url});
  if (r.exit_code != 0) return "restore failed: " + r.err;
  return Rows(out);
}

bool WaitForRows(const TempDir& dir, const Target& target,
                 const std::string& want) {
  return WaitUntil([&] { return RestoredRows(dir, target) == want; },
                   seconds(30));
}

class LeaseScenarios {
 public:
  explicit LeaseScenarios(Target target) : target_(std::move(target)) {}

  // A replicates a.db (100 rows) with a lease of ttl; b.db is the
  // replica's state restored on "another host".
  // env: "NAME=value" settings for A's process.
  void StartFirst(const TempDir& dir, const std::string& ttl,
                  std::unique_ptr<ChildProcess>* rep_a,
                  const std::vector<std::string>& env = {}) {
    const std::string a = dir.Join("a.db");
    ASSERT_EQ(ExecSql(a, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    Insert(a, 1, 100);
    std::vector<std::string> argv;
    if (!env.empty()) {
      argv.push_back("/usr/bin/env");  // execs litekeep: the same pid
      argv.insert(argv.end(), env.begin(), env.end());
    }
    for (const std::string& arg :
         {LitekeepBin(), std::string("replicate"), std::string("-config"),
          WriteConfig(dir, "a", a, dir.Join("meta-a"), target_, ttl)}) {
      argv.push_back(arg);
    }
    *rep_a = std::make_unique<ChildProcess>(argv, dir.Join("a.log"));
    ASSERT_TRUE(WaitForRows(dir, target_, Rows(a))) << (*rep_a)->Log();
    auto restored = litekeep::testing::Run(
        {LitekeepBin(), "restore", "-o", dir.Join("b.db"), target_.url});
    ASSERT_EQ(restored.exit_code, 0) << restored.err;
  }

  // A replicates a.db; B (b.db, restored from the replica: a second host)
  // is refused naming A, with a config and on the command line.
  void SecondIsRefusedNamingTheFirst() {
    TempDir dir;
    const std::string a = dir.Join("a.db"), b = dir.Join("b.db");
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(StartFirst(dir, "30s", &first));
    ChildProcess& rep_a = *first;
    EXPECT_NE(rep_a.Log().find("replica lease"), std::string::npos);
    auto refused = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-config",
         WriteConfig(dir, "b", b, dir.Join("meta-b"), target_, "30s")});
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    for (const std::string& part :
         {std::string("leased to another replicator"),
          "pid " + std::to_string(rep_a.pid()), a, std::string("-wait-lease"),
          std::string("expires")}) {
      EXPECT_NE(refused.err.find(part), std::string::npos)
          << part << " missing in: " << refused.err;
    }
    if (target_.url.rfind("abs://", 0) != 0) {  // URL form: no credentials
      auto cli =
          litekeep::testing::Run({LitekeepBin(), "replicate", b, target_.url});
      EXPECT_EQ(cli.exit_code, 1) << cli.err;
      EXPECT_NE(cli.err.find("pid " + std::to_string(rep_a.pid())),
                std::string::npos)
          << cli.err;
    }
    // A keeps replicating, undisturbed.
    Insert(a, 101, 150);
    EXPECT_TRUE(WaitForRows(dir, target_, Rows(a))) << rep_a.Log();
    rep_a.Signal(SIGTERM);
    EXPECT_EQ(rep_a.Wait(), 0) << rep_a.Log();
    EXPECT_NE(rep_a.Log().find("released"), std::string::npos) << rep_a.Log();
  }

  // Blue/green: B waits (-wait-lease) while A runs, takes over when A
  // stops, and continues the history; the replica restores B's database.
  void WaitLeaseTakesOverWhenTheFirstStops() {
    TempDir dir;
    const std::string a = dir.Join("a.db"), b = dir.Join("b.db");
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(StartFirst(dir, "30s", &first));
    ChildProcess& rep_a = *first;
    ChildProcess rep_b(
        {LitekeepBin(), "replicate", "-wait-lease", "-config",
         WriteConfig(dir, "b", b, dir.Join(".b.db-litekeep"), target_, "30s")},
        dir.Join("b.log"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep_b.Log().find("waiting for the replica lease") !=
             std::string::npos;
    })) << rep_b.Log();
    std::this_thread::sleep_for(seconds(1));
    EXPECT_TRUE(rep_b.running()) << rep_b.Log();
    EXPECT_EQ(rep_b.Log().find("replicating " + b), std::string::npos);
    rep_a.Signal(SIGTERM);
    EXPECT_EQ(rep_a.Wait(), 0) << rep_a.Log();
    ASSERT_TRUE(WaitUntil([&] {
      return rep_b.Log().find("replicating " + b) != std::string::npos;
    })) << rep_b.Log();
    Insert(b, 1000, 1200);
    EXPECT_TRUE(WaitForRows(dir, target_, Rows(b))) << rep_b.Log();
    rep_b.Signal(SIGTERM);
    EXPECT_EQ(rep_b.Wait(), 0) << rep_b.Log();
    EXPECT_EQ(RestoredRows(dir, target_), Rows(b));
  }

  // A is frozen (SIGSTOP) past its lease; B (-wait-lease) takes the expired
  // lease and replicates; A, thawed with new commits, uploads nothing, says
  // why, and the replica restores exactly B's database.
  void StolenLeaseStopsTheOldHolder() {
    TempDir dir;
    const std::string a = dir.Join("a.db");
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(StartFirst(dir, "2s", &first));
    ChildProcess& rep_a = *first;
    rep_a.Signal(SIGSTOP);
    // The application keeps writing a.db; then A wakes up.
    TakeOverFromFrozen(dir, rep_a, [&] { Insert(a, -50, -1); });
  }

  // The window a local check cannot close (docs/architecture.md,
  // "Fencing"): A passed its lease check for an upload and is frozen right
  // then (it stops itself: LITEKEEP_TEST_STOP_BEFORE_UPLOAD), past its
  // lease; B takes over and replicates; A is thawed and finishes that
  // upload. The fenced publish refuses it: no file of A's lands, A says it
  // lost the lease, and the replica restores exactly B's database.
  void StoppedInsideAnUploadPublishesNothing() {
    TempDir dir;
    const std::string a = dir.Join("a.db");
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(
        StartFirst(dir, "2s", &first, {"LITEKEEP_TEST_STOP_BEFORE_UPLOAD=2"}));
    ChildProcess& rep_a = *first;
    ASSERT_EQ(rep_a.Log().find("test: stopping"), std::string::npos)
        << rep_a.Log();
    Insert(a, -50, -1);  // A's next upload: it stops inside it
    auto stopped = [&] {
      std::string stat =
          ReadFile("/proc/" + std::to_string(rep_a.pid()) + "/stat");
      size_t paren = stat.rfind(')');
      return paren != std::string::npos && paren + 2 < stat.size() &&
             stat[paren + 2] == 'T';
    };
    ASSERT_TRUE(WaitUntil(stopped)) << rep_a.Log();
    EXPECT_NE(rep_a.Log().find("test: stopping before upload 2"),
              std::string::npos)
        << rep_a.Log();
    // A's frozen upload is an L0 file of the next TXID, which B's history
    // has too (here as a snapshot in L9): without the fence it lands in L0
    // beside B's files, where a restore by time or a compaction would take
    // it. B writes no L0 file while A thaws, so L0 must stay as it was.
    const std::string l0 = target_.url.substr(strlen("file://")) + "/ltx/0";
    auto level0 = [&] {
      std::map<std::string, std::string> files;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(l0, ec)) {
        files[e.path().filename()] = ReadFile(e.path());
      }
      return files;
    };
    std::map<std::string, std::string> before;
    TakeOverFromFrozen(
        dir, rep_a, [&] { before = level0(); },
        [&] {
          for (const auto& [name, bytes] : level0()) {
            auto it = before.find(name);
            EXPECT_TRUE(it != before.end() && it->second == bytes)
                << "A published ltx/0/" << name << "\n"
                << rep_a.Log();
          }
        });
  }

 private:
  // A (rep_a, replicating a.db with a 2 s lease) is frozen. B (b.db, the
  // replica's state restored in StartFirst) takes the expired lease with
  // -wait-lease and replicates; then before_thaw runs and A is thawed: A
  // says it lost the lease to another replicator and uploads nothing, so
  // the replica restores exactly B's database, then and after B's next
  // writes, and verifies.
  void TakeOverFromFrozen(
      const TempDir& dir, ChildProcess& rep_a,
      const std::function<void()>& before_thaw,
      const std::function<void()>& after_lost = [] {}) {
    const std::string b = dir.Join("b.db");
    ChildProcess rep_b(
        {LitekeepBin(), "replicate", "-wait-lease", "-config",
         WriteConfig(dir, "b", b, dir.Join(".b.db-litekeep"), target_, "2s")},
        dir.Join("b.log"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep_b.Log().find("replicating " + b) != std::string::npos;
    })) << rep_b.Log();
    Insert(b, 1000, 1100);
    ASSERT_TRUE(WaitForRows(dir, target_, Rows(b))) << rep_b.Log();
    before_thaw();
    rep_a.Signal(SIGCONT);
    ASSERT_TRUE(WaitUntil([&] {
      return rep_a.Log().find("lost") != std::string::npos;
    })) << rep_a.Log();
    EXPECT_NE(rep_a.Log().find("taken over by another replicator"),
              std::string::npos)
        << rep_a.Log();
    std::this_thread::sleep_for(seconds(2));
    after_lost();
    EXPECT_EQ(RestoredRows(dir, target_), Rows(b))
        << rep_a.Log() << rep_b.Log();
    Insert(b, 2000, 2050);
    EXPECT_TRUE(WaitForRows(dir, target_, Rows(b))) << rep_b.Log();
    rep_a.Signal(SIGTERM);
    rep_a.Wait();
    rep_b.Signal(SIGTERM);
    EXPECT_EQ(rep_b.Wait(), 0) << rep_b.Log();
    EXPECT_EQ(RestoredRows(dir, target_), Rows(b));
    auto verify =
        litekeep::testing::Run({LitekeepBin(), "verify", target_.url});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }

  Target target_;
};

// ---- file replica ----

Target FileTarget(const TempDir& dir) {
  const std::string path = dir.Join("replica");
  return {"      url: file://" + path + "\n", "file://" + path};
}

TEST(LeaseFileTest, SecondIsRefusedNamingTheFirst) {
  TempDir replica;
  LeaseScenarios(FileTarget(replica)).SecondIsRefusedNamingTheFirst();
}

TEST(LeaseFileTest, WaitLeaseTakesOverWhenTheFirstStops) {
  TempDir replica;
  LeaseScenarios(FileTarget(replica)).WaitLeaseTakesOverWhenTheFirstStops();
}

TEST(LeaseFileTest, StolenLeaseStopsTheOldHolder) {
  TempDir replica;
  LeaseScenarios(FileTarget(replica)).StolenLeaseStopsTheOldHolder();
}

TEST(LeaseFileTest, StoppedInsideAnUploadPublishesNothing) {
  TempDir replica;
  LeaseScenarios(FileTarget(replica)).StoppedInsideAnUploadPublishesNothing();
}

TEST(LeaseFileTest, LeaseTtlZeroTakesNoLease) {
  TempDir dir;
  const std::string a = dir.Join("a.db");
  ASSERT_EQ(ExecSql(a, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  Insert(a, 1, 10);
  const Target target = FileTarget(dir);
  auto once = litekeep::testing::Run(
      {LitekeepBin(), "replicate", "-once", "-config",
       WriteConfig(dir, "a", a, dir.Join("meta-a"), target, "0")});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_FALSE(fs::exists(dir.Join("replica/lock.json")));
  EXPECT_EQ(RestoredRows(dir, target), Rows(a));
}

// ---- Azurite ----

constexpr char kContainer[] = "lease";

Azurite* Server() { return SharedServer<Azurite>(kContainer); }

class LeaseAbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "azurite not installed";
    ::setenv("LITESTREAM_AZURE_ACCOUNT_KEY", kAzuriteKey, 1);
  }
  void TearDown() override { ::unsetenv("LITESTREAM_AZURE_ACCOUNT_KEY"); }
  Target AbsTarget(const std::string& path) {
    return {std::string("      type: abs\n      account-name: ") +
                kAzuriteAccount + "\n      bucket: " + kContainer +
                "\n      path: " + path +
                "\n      endpoint: " + Server()->endpoint() + "\n",
            std::string("abs://") + kAzuriteAccount + "@" + kContainer + "/" +
                path + "?endpoint=" + Server()->endpoint()};
  }
};

TEST_F(LeaseAbsTest, SecondIsRefusedNamingTheFirst) {
  LeaseScenarios(AbsTarget("refused")).SecondIsRefusedNamingTheFirst();
}

TEST_F(LeaseAbsTest, WaitLeaseTakesOverWhenTheFirstStops) {
  LeaseScenarios(AbsTarget("wait")).WaitLeaseTakesOverWhenTheFirstStops();
}

TEST_F(LeaseAbsTest, StolenLeaseStopsTheOldHolder) {
  LeaseScenarios(AbsTarget("stolen")).StolenLeaseStopsTheOldHolder();
}

// ---- S3: s3rver ignores If-None-Match / If-Match, so the requests go
// through the fault proxy in its conformant-shim mode, which enforces
// them (docs/storage_layout.md, "Replica lease object"). This proves
// the client sends the conditions and handles 412 answers; not AWS's
// own enforcement.

S3rver* S3Server() { return SharedServer<S3rver>("lease"); }

FaultProxy* Shim() {
  static std::unique_ptr<FaultProxy> proxy;
  if (!proxy && S3Server() != nullptr) {
    proxy = std::make_unique<FaultProxy>(S3Server()->port(), FaultRates{});
    proxy->set_conditional_puts(true);
  }
  return proxy.get();
}

class LeaseS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shim() == nullptr) GTEST_SKIP() << "s3rver not installed";
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  }
  void TearDown() override {
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
  }
  Target S3Target(const std::string& path) {
    const std::string url = "s3://lease/" + path +
                            "?endpoint=" + Shim()->endpoint() +
                            "&forcePathStyle=true";
    return {"      url: " + url + "\n", url};
  }
};

TEST_F(LeaseS3Test, ConditionalPutsThroughTheShim) {
  storage::s3::S3Options o;
  o.bucket = "lease";
  o.path = "cond";
  o.endpoint = Shim()->endpoint();
  o.force_path_style = true;
  o.region = "us-east-1";
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  auto client = storage::s3::NewS3ReplicaClient(o);
  ASSERT_TRUE(client.ok()) << client.status().message();
  const uint64_t refused = Shim()->conditional_refusals();
  auto v1 = (*client)->WriteIf("lock.json", "one", "");
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ((*client)->WriteIf("lock.json", "two", "").status().code(),
            base::Code::kAlreadyExists);
  auto v2 = (*client)->WriteIf("lock.json", "two", *v1);
  ASSERT_TRUE(v2.ok()) << v2.status().message();
  EXPECT_EQ((*client)->WriteIf("lock.json", "three", *v1).status().code(),
            base::Code::kFailedPrecondition);
  auto read = (*client)->ReadVersioned("lock.json");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->data, "two");
  EXPECT_EQ(read->version, *v2);
  EXPECT_EQ(Shim()->conditional_refusals(), refused + 2);
  bool saw_if_none = false, saw_if_match = false;
  for (const auto& head : Shim()->request_heads()) {
    saw_if_none |= head.find("If-None-Match: *") != std::string::npos;
    saw_if_match |= head.find("If-Match: ") != std::string::npos;
  }
  EXPECT_TRUE(saw_if_none);
  EXPECT_TRUE(saw_if_match);
}

TEST_F(LeaseS3Test, SecondIsRefusedNamingTheFirst) {
  LeaseScenarios(S3Target("refused")).SecondIsRefusedNamingTheFirst();
}

TEST_F(LeaseS3Test, StolenLeaseStopsTheOldHolder) {
  LeaseScenarios(S3Target("stolen")).StolenLeaseStopsTheOldHolder();
}

// ---- WebDAV: rclone serve webdav (create: MOVE with Overwrite: F;
// replace: under a WebDAV LOCK) ----

class LeaseWebdavTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedRcloneWebdav() == nullptr) GTEST_SKIP() << "rclone not installed";
  }
  Target WebdavTarget(const std::string& path) {
    const std::string url = SharedRcloneWebdav()->Url("lease/" + path);
    return {"      url: " + url + "\n", url};
  }
};

TEST_F(LeaseWebdavTest, SecondIsRefusedNamingTheFirst) {
  LeaseScenarios(WebdavTarget("refused")).SecondIsRefusedNamingTheFirst();
}

TEST_F(LeaseWebdavTest, WaitLeaseTakesOverWhenTheFirstStops) {
  LeaseScenarios(WebdavTarget("wait")).WaitLeaseTakesOverWhenTheFirstStops();
}

TEST_F(LeaseWebdavTest, StolenLeaseStopsTheOldHolder) {
  LeaseScenarios(WebdavTarget("stolen")).StolenLeaseStopsTheOldHolder();
}

}  // namespace
}  // namespace litekeep::testing
