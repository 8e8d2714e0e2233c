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
#include <optional>
#include <thread>

#include "base/rfc3339.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/s3/client.h"
#include "storage/s3/options.h"
#include "tests/support/azurite.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/rclone_webdav.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"

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

// True while process pid is stopped (SIGSTOP).
bool Stopped(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'T';
}

// The LTX header of a listed file.
ltx::Header HeaderOf(storage::ReplicaClient& store,
                     const storage::FileInfo& f) {
  uint8_t head[ltx::kHeaderSize];
  auto r = store.OpenFile(f.level, f.min_txid, f.max_txid, 0, sizeof(head));
  if (!r.ok() || !(*r)->ReadFull({head, sizeof(head)}).ok()) return {};
  auto h = ltx::Header::Decode({head, sizeof(head)});
  return h.ok() ? *h : ltx::Header{};
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

  // StartFirst with a 2 s lease, then a.db gets new rows (x < 0) and A
  // stops itself (SIGSTOP) right after the lease check of that upload
  // (LITEKEEP_TEST_STOP_BEFORE_UPLOAD): an upload in hand.
  void FreezeInsideAnUpload(const TempDir& dir,
                            std::unique_ptr<ChildProcess>* first) {
    ASSERT_NO_FATAL_FAILURE(
        StartFirst(dir, "2s", first, {"LITEKEEP_TEST_STOP_BEFORE_UPLOAD=2"}));
    ChildProcess& rep_a = **first;
    ASSERT_EQ(rep_a.Log().find("test: stopping"), std::string::npos)
        << rep_a.Log();
    Insert(dir.Join("a.db"), -50, -1);  // A's next upload: it stops inside it
    ASSERT_TRUE(WaitUntil([&] { return Stopped(rep_a.pid()); })) << rep_a.Log();
    EXPECT_NE(rep_a.Log().find("test: stopping before upload 2"),
              std::string::npos)
        << rep_a.Log();
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

  // Fencing that readers check (docs/architecture.md, "Fencing"), where no
  // condition spans two objects (S3): A is frozen inside an upload past its
  // lease, B takes the lease over (a fence entry in lock.json) and writes,
  // A thawed lands its stale L0 file (node_id = A's generation 1). Every
  // reader leaves it out: restore of the newest state, by -txid of the
  // stale file's TXID and by a -timestamp between the stale file and B's
  // files give B's history (never A's rows, integrity ok); verify names it
  // as written by a replicator that had lost its lease; B, restarted,
  // removes it (its index, which compaction plans from, never holds it).
  void StaleFileIsSkippedByEveryReader(storage::ReplicaClient& store) {
    TempDir dir;
    const std::string b = dir.Join("b.db");
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(FreezeInsideAnUpload(dir, &first));
    ChildProcess& rep_a = *first;
    const std::string cfg_b =
        WriteConfig(dir, "b", b, dir.Join(".b.db-litekeep"), target_, "2s");
    auto rep_b = std::make_unique<ChildProcess>(
        std::vector<std::string>{LitekeepBin(), "replicate", "-wait-lease",
                                 "-config", cfg_b},
        dir.Join("b.log"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep_b->Log().find("replicating " + b) != std::string::npos;
    })) << rep_b->Log();
    Insert(b, 1000, 1100);
    ASSERT_TRUE(WaitForRows(dir, target_, Rows(b))) << rep_b->Log();
    rep_a.Signal(SIGCONT);
    ASSERT_TRUE(WaitUntil([&] {
      return rep_a.Log().find("lost") != std::string::npos;
    })) << rep_a.Log();
    // A's stale file landed (nothing spans lock.json and the LTX PUT).
    std::optional<storage::FileInfo> stale;
    ltx::Header stale_header;
    auto l0 = store.ListFiles(0);
    ASSERT_TRUE(l0.ok()) << l0.status().message();
    for (const auto& f : *l0) {
      ltx::Header h = HeaderOf(store, f);
      EXPECT_TRUE(h.node_id == 1 || h.node_id == 2) << h.node_id;
      if (h.node_id == 1) {
        stale = f;
        stale_header = h;
      }
    }
    ASSERT_TRUE(stale.has_value()) << "A's upload did not land\n"
                                   << rep_a.Log();
    const std::string stale_name =
        ltx::FormatFileName(stale->min_txid, stale->max_txid);
    auto lock = store.ReadVersioned("lock.json");
    ASSERT_TRUE(lock.ok());
    EXPECT_NE(lock->data.find("\"fences\":[{\"generation\":2,"),
              std::string::npos)
        << lock->data;

    // Readers: never A's rows (x < 0), integrity checked by restore.
    const std::string out = dir.Join("restored.db");
    auto restore = [&](std::vector<std::string> extra) {
      std::vector<std::string> argv = {LitekeepBin(), "restore", "-force", "-o",
                                       out};
      argv.insert(argv.end(), extra.begin(), extra.end());
      argv.push_back(target_.url);
      return litekeep::testing::Run(argv);
    };
    auto latest = restore({});
    ASSERT_EQ(latest.exit_code, 0) << latest.err;
    EXPECT_EQ(Rows(out), Rows(b));
    EXPECT_NE(latest.err.find("skipping"), std::string::npos) << latest.err;
    EXPECT_NE(latest.err.find(stale_name), std::string::npos) << latest.err;
    auto by_txid = restore({"-txid", ltx::FormatTxId(stale->max_txid)});
    ASSERT_EQ(by_txid.exit_code, 0) << by_txid.err;
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t WHERE x < 0"), "0");
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t WHERE x <= 100"), "100");
    const TimePoint stale_time{
        std::chrono::milliseconds(stale_header.timestamp_ms + 1)};
    auto by_time = restore({"-timestamp", base::FormatRfc3339Nano(stale_time)});
    ASSERT_EQ(by_time.exit_code, 0) << by_time.err;
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t WHERE x < 0"), "0");
    EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
    auto verify = litekeep::testing::Run(
        {LitekeepBin(), "verify", "-checksums", target_.url});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("written by a replicator that had lost its "
                              "lease"),
              std::string::npos)
        << verify.out;
    EXPECT_NE(verify.out.find(stale_name), std::string::npos) << verify.out;

    {  // The VFS (read mode) opening the replica: B's rows.
      Db vfs(VfsUri(target_.url, "&poll_interval=600s"));
      ASSERT_TRUE(vfs.ok()) << vfs.error();
      EXPECT_EQ(vfs.Query("SELECT count(*) || ':' || total(x) FROM t"),
                Rows(b) + "\n");
    }

    // B restarted lists the replica again: it removes the stale file.
    rep_a.Signal(SIGTERM);
    rep_a.Wait();
    rep_b->Signal(SIGTERM);
    EXPECT_EQ(rep_b->Wait(), 0) << rep_b->Log();
    // Compacting into L1 every second: its plan comes from the index.
    const std::string cfg_b2 = dir.Join("b2.yml");
    std::ofstream(cfg_b2) << "levels:\n  - interval: 1s\n" << ReadFile(cfg_b);
    rep_b = std::make_unique<ChildProcess>(
        std::vector<std::string>{LitekeepBin(), "replicate", "-config", cfg_b2},
        dir.Join("b2.log"));
    ASSERT_TRUE(WaitUntil([&] {
      return rep_b->Log().find("replicating " + b) != std::string::npos;
    })) << rep_b->Log();
    EXPECT_NE(rep_b->Log().find("removing"), std::string::npos) << rep_b->Log();
    auto after = store.ListFiles(0);
    ASSERT_TRUE(after.ok());
    for (const auto& f : *after) {
      EXPECT_FALSE(f.min_txid == stale->min_txid &&
                   f.max_txid == stale->max_txid)
          << "stale file still there";
    }
    Insert(b, 2000, 2050);
    EXPECT_TRUE(WaitForRows(dir, target_, Rows(b))) << rep_b->Log();
    auto compacted = [&] {
      auto l1 = store.ListFiles(1);
      auto l0 = store.ListFiles(0);
      return l1.ok() && l0.ok() && !l1->empty() && !l0->empty() &&
             l1->back().max_txid >= l0->back().max_txid;
    };
    EXPECT_TRUE(WaitUntil(compacted)) << rep_b->Log();  // B's newest in L1
    rep_b->Signal(SIGTERM);
    EXPECT_EQ(rep_b->Wait(), 0) << rep_b->Log();
    EXPECT_EQ(RestoredRows(dir, target_), Rows(b));
    // Every L1 file is B's (never a merge with A's stale file).
    auto l1 = store.ListFiles(1);
    ASSERT_TRUE(l1.ok());
    for (const auto& f : *l1) {
      EXPECT_NE(HeaderOf(store, f).node_id, 1u)
          << ltx::FormatFileName(f.min_txid, f.max_txid);
    }
    // Without L0 (as after l0-retention) the L1 files restore B's rows.
    ASSERT_TRUE(store.DeleteFiles(*store.ListFiles(0)).ok());
    auto from_l1 = restore({});
    ASSERT_EQ(from_l1.exit_code, 0) << from_l1.err;
    EXPECT_EQ(Rows(out), Rows(b));
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t WHERE x < 0"), "0");
  }

  // The window a local check cannot close (docs/architecture.md,
  // "Fencing"): A passed its lease check for an upload and is frozen right
  // then (it stops itself: LITEKEEP_TEST_STOP_BEFORE_UPLOAD), past its
  // lease; B takes over and replicates; A is thawed and finishes that
  // upload. The fenced publish refuses it: no file of A's lands, A says it
  // lost the lease, and the replica restores exactly B's database.
  void StoppedInsideAnUploadPublishesNothing() {
    TempDir dir;
    std::unique_ptr<ChildProcess> first;
    ASSERT_NO_FATAL_FAILURE(FreezeInsideAnUpload(dir, &first));
    ChildProcess& rep_a = *first;
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
  // A client of s3://lease/<path> through the shim.
  static Result<std::shared_ptr<storage::ReplicaClient>> S3Client(
      const std::string& path) {
    storage::s3::S3Options o;
    o.bucket = "lease";
    o.path = path;
    o.endpoint = Shim()->endpoint();
    o.force_path_style = true;
    o.region = "us-east-1";
    o.access_key_id = "S3RVER";
    o.secret_access_key = "S3RVER";
    LK_ASSIGN_OR_RETURN(auto c, storage::s3::NewS3ReplicaClient(o));
    return std::shared_ptr<storage::ReplicaClient>(std::move(c));
  }
};

TEST_F(LeaseS3Test, ConditionalPutsThroughTheShim) {
  auto client = S3Client("cond");
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

TEST_F(LeaseS3Test, StaleFileIsSkippedByEveryReader) {
  auto store = S3Client("stale");
  ASSERT_TRUE(store.ok()) << store.status().message();
  LeaseScenarios(S3Target("stale")).StaleFileIsSkippedByEveryReader(**store);
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
