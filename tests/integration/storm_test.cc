// A 500/503 storm for a whole run: `litekeep replicate` ships a steady
// write load (with a table dropped and recreated and a VACUUM) to s3rver
// through the fault proxy, which answers 10 % of all requests, drawn at
// random from a fixed seed, with 503 SlowDown or 500 InternalError; the
// replicator compacts and snapshots meanwhile, stops with its final sync
// under the storm, and the restore runs under it too. The restore must
// equal the source byte for byte, nothing may hang, and memory and disk
// stay bounded (docs/reliability.md, "Hostile storage").
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
constexpr char kBucket[] = "storm";

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int64_t kMemoryFactor = 4;  // shadow memory
#else
constexpr int64_t kMemoryFactor = 1;
#endif

// VmHWM (peak resident set) of a running process, in KiB; -1 if unknown.
int64_t PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

uint64_t TreeBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

TEST(StormTest, ReplicateUnderLoadAndRestoreThroughTenPercentErrors) {
  std::string error;
  auto server = S3rver::Start(kBucket, &error);
  if (!server) GTEST_SKIP() << error;
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  FaultRates storm;
  storm.slow_down_503 = 0.05;
  storm.internal_500 = 0.05;
  FaultProxy proxy(server->port(), storm, 20261201);

  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "levels:\n  - interval: 1s\n  - interval: 3s\n"
                     << "snapshot:\n  interval: 4s\n  retention: 1h\n"
                     << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      type: s3\n      bucket: " << kBucket << "\n"
                     << "      path: app\n"
                     << "      endpoint: " << proxy.endpoint() << "\n"
                     << "      region: us-east-1\n"
                     << "      force-path-style: true\n"
                     << "      sync-interval: 50ms\n";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE seed(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  WorkloadOptions w;
  w.transactions = 4000;
  w.drop_recreate_at = 1500;
  w.vacuum_at = 3000;
  w.after_commit = [](int) {
    std::this_thread::sleep_for(std::chrono::microseconds(1500));
  };
  ASSERT_EQ(RunWorkload(db, w), "");
  // A storm of a fixed size however slowly the machine syncs: the faults
  // are drawn in request order from the fixed seed, so the first 300
  // requests hold 11 503s and 20 500s (the counts asserted below), where
  // the workload alone makes 170 requests in the plain build and 125
  // under ThreadSanitizer.
  for (int i = 0; proxy.counts().requests < 300; ++i) {
    ASSERT_LT(i, 3000) << proxy.counts().requests << " requests\n" << rep.Log();
    ASSERT_EQ(ExecSql(db, "INSERT INTO seed VALUES(" + std::to_string(i) + ")"),
              "");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  std::this_thread::sleep_for(std::chrono::seconds(5));  // compaction, snapshot
  ASSERT_TRUE(rep.running()) << rep.Log();
  const int64_t replicate_peak_kib = PeakRssKib(rep.pid());
  // The final sync runs under the storm as well.
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(120)), 0) << rep.Log();

  const std::string out_dir = dir.Join("out");
  fs::create_directories(out_dir);
  const std::string out = out_dir + "/app.db";
  ChildProcess restore(
      {LitekeepBin(), "restore", "-o", out,
       "s3://" + std::string(kBucket) + "/app?endpoint=" + proxy.endpoint() +
           "&forcePathStyle=true&region=us-east-1"},
      dir.Join("restore.log"));
  ASSERT_EQ(restore.Wait(std::chrono::seconds(120)), 0) << restore.Log();
  // Nothing is left beside the restored file but its lineage record.
  for (const auto& e : fs::directory_iterator(out_dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "app.db" || name == ".app.db-litekeep") << name;
  }

  const FaultCounts c = proxy.counts();
  std::printf("storm: %llu requests, %llu answered 503, %llu answered 500\n",
              static_cast<unsigned long long>(c.requests),
              static_cast<unsigned long long>(c.slow_down_503),
              static_cast<unsigned long long>(c.internal_500));
  EXPECT_GT(c.requests, 100u) << "too few requests to make a storm";
  const double rate = static_cast<double>(c.injected()) / c.requests;
  EXPECT_GT(rate, 0.05);
  EXPECT_LT(rate, 0.16);
  EXPECT_GT(c.slow_down_503, 5u);
  EXPECT_GT(c.internal_500, 5u);

  // The restore is the source, byte for byte, once the source is
  // checkpointed.
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(ContentHash(out), ContentHash(db));
  EXPECT_TRUE(ReadFile(out) == ReadFile(db)) << "restored bytes differ";

  // Bounded: the replicator's and the restore's peak memory and the local
  // state.
  struct rusage children {};
  ::getrusage(RUSAGE_CHILDREN, &children);
  std::printf("storm: peak RSS replicate %lld KiB, largest child %ld KiB\n",
              static_cast<long long>(replicate_peak_kib), children.ru_maxrss);
  EXPECT_GT(replicate_peak_kib, 0);
  EXPECT_LT(replicate_peak_kib, kMemoryFactor * 200 * 1024);
  EXPECT_LT(children.ru_maxrss, kMemoryFactor * 200 * 1024);
  const uint64_t db_bytes = fs::file_size(db);
  EXPECT_LT(TreeBytes(dir.Join(".app.db-litekeep")), 2 * db_bytes + (4 << 20));
}

}  // namespace
}  // namespace litekeep::testing
