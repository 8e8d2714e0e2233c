// End to end with the real binary: scrape /metrics while an application
// writes (lag, TXIDs and byte counters move; lag returns to zero when the
// writes stop), watch /healthz turn 503 while the replica is unwritable and
// 200 again once it is fixed, and check `status` reports the same.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

// The value of the first sample of `name` (any labels); -1 when absent.
double Metric(const std::string& text, const std::string& name) {
  std::regex re("(^|\n)" + name + "(\\{[^}]*\\})? ([-+0-9.eE]+)");
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[3].str());
}

TEST(MetricsTest, MetricsMoveWithWritesAndHealthFollowsTheReplica) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                     << "health-max-sync-age: 1s\n"
                     << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(port, "/healthz").first == 200; }))
      << rep.Log();

  std::string m0 = HttpGet(port, "/metrics").second;
  const double txid0 = Metric(m0, "litekeep_replicated_txid");
  const double bytes0 = Metric(m0, "litekeep_uploaded_bytes_total");
  ASSERT_GE(txid0, 1) << m0;
  EXPECT_GT(Metric(m0, "litekeep_process_resident_memory_bytes"), 0) << m0;
  EXPECT_GE(Metric(m0, "litekeep_process_cpu_seconds_total"), 0) << m0;
  EXPECT_NE(m0.find("# TYPE litekeep_uploaded_bytes_total counter"),
            std::string::npos);
  EXPECT_NE(m0.find("litekeep_replica_requests_total{db=\"" + db),
            std::string::npos)
      << m0;

  // Writes for two seconds while scraping.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing) {
      ExecSql(db, "INSERT INTO t VALUES (randomblob(500))");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  double max_lag = 0, max_lag_txids = 0, max_wal = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until) {
    std::string m = HttpGet(port, "/metrics").second;
    max_lag = std::max(max_lag, Metric(m, "litekeep_replica_lag_seconds"));
    max_lag_txids =
        std::max(max_lag_txids, Metric(m, "litekeep_replica_lag_txids"));
    max_wal = std::max(max_wal, Metric(m, "litekeep_wal_size_bytes"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  writing = false;
  writer.join();
  EXPECT_GT(max_lag, 0);
  EXPECT_GT(max_lag_txids, 0);
  EXPECT_GT(max_wal, 0);
  std::string m1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        m1 = HttpGet(port, "/metrics").second;
        return Metric(m1, "litekeep_replica_lag_seconds") == 0 &&
               Metric(m1, "litekeep_replica_lag_txids") == 0;
      },
      std::chrono::seconds(10)))
      << m1;
  EXPECT_GT(Metric(m1, "litekeep_replicated_txid"), txid0 + 3) << m1;
  EXPECT_EQ(Metric(m1, "litekeep_replicated_txid"),
            Metric(m1, "litekeep_local_txid"));
  EXPECT_GT(Metric(m1, "litekeep_uploaded_bytes_total"), bytes0) << m1;
  EXPECT_GT(Metric(m1, "litekeep_uploaded_files_total"), 3) << m1;

  // Make the replica unwritable: replace its directory with a file.
  fs::rename(replica, replica + ".bak");
  std::ofstream(replica) << "not a directory";
  std::atomic<bool> trickle{true};
  std::thread writer2([&] {
    while (trickle) {
      ExecSql(db, "INSERT INTO t VALUES (1)");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(port, "/healthz").first == 503; },
                        std::chrono::seconds(10)))
      << HttpGet(port, "/healthz").second;
  const std::string m2 = HttpGet(port, "/metrics").second;
  EXPECT_GT(Metric(m2, "litekeep_sync_errors_total"), 0) << m2;
  EXPECT_GT(Metric(m2, "litekeep_replica_lag_seconds"), 0.5) << m2;
  auto st = litekeep::testing::Run(
      {LitekeepBin(), "status", "-json", "-config", cfg});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("\"replicating\":true"), std::string::npos) << st.out;
  EXPECT_EQ(st.out.find("\"last_error\":\"\""), std::string::npos) << st.out;

  // Fix it.
  fs::remove(replica);
  fs::rename(replica + ".bak", replica);
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(port, "/healthz").first == 200; },
                        std::chrono::seconds(40)))
      << HttpGet(port, "/healthz").second << rep.Log();
  trickle = false;
  writer2.join();
  ASSERT_TRUE(WaitUntil([&] {
    return Metric(HttpGet(port, "/metrics").second,
                  "litekeep_replica_lag_txids") == 0;
  }));
  st = litekeep::testing::Run(
      {LitekeepBin(), "status", "-json", "-config", cfg});
  EXPECT_NE(st.out.find("\"last_error\":\"\""), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("\"lag_seconds\":0.0"), std::string::npos) << st.out;

  EXPECT_EQ(HttpGet(port, "/nothing").first, 404);
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
  // Every log line of the replication thread names the database and replica.
  const std::string log = rep.Log();
  EXPECT_NE(log.find("db=" + db + " replica="), std::string::npos) << log;
  auto verify = litekeep::testing::Run(
      {LitekeepBin(), "verify", "-checksums", "file://" + replica});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

double MetricWith(const std::string& text, const std::string& name,
                  const std::string& fragment);

// Every litekeep_/litestream_ series name in a file (a rule or dashboard).
std::set<std::string> NamedMetrics(const std::string& path) {
  const std::string text = ReadFile(path);
  std::set<std::string> names;
  static const std::regex re("\\b(litekeep|litestream)_[a-z0-9_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re);
       it != std::sregex_iterator(); ++it) {
    names.insert(it->str());
  }
  return names;
}

// The shipped alert rules and Grafana dashboard (etc/) name only series a
// running `replicate` exports — through a sync error and a background
// verify, so every family has appeared at least once — and
// `litestream-metrics: false` turns Litestream's series off.
TEST(MetricsTest, DashboardAndAlertsNameExportedMetrics) {
  std::set<std::string> wanted;
  for (const char* f : {"etc/prometheus/litekeep-alerts.yml",
                        "etc/grafana/litekeep-dashboard.json"}) {
    auto names = NamedMetrics(SourceDir() + "/" + f);
    EXPECT_GT(names.size(), 5u) << f;
    wanted.insert(names.begin(), names.end());
  }
  for (const char* n :
       {"litestream_sync_count", "litestream_txid",
        "litestream_replica_operation_total", "litestream_checkpoint_seconds",
        "litestream_checkpoint_error_count"}) {
    wanted.insert(n);  // what Litestream users' dashboards query most
  }
  for (bool litestream : {true, false}) {
    SCOPED_TRACE(litestream ? "litestream-metrics: true"
                            : "litestream-metrics: false");
    TempDir dir;
    const std::string db = dir.Join("app.db");
    const std::string replica = dir.Join("replica");
    const int port = FreePort();
    const std::string cfg = dir.Join("litekeep.yml");
    std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                       << "litestream-metrics: "
                       << (litestream ? "true" : "false") << "\n"
                       << "dbs:\n  - path: " << db << "\n    replica:\n"
                       << "      path: " << replica << "\n"
                       << "      sync-interval: 100ms\n"
                       << "      validation-interval: 1s\n";
    ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("replicate.log"));
    ASSERT_TRUE(WaitUntil([&] {
      return HttpGet(port, "/healthz").first == 200;
    })) << rep.Log();
    std::string seen = HttpGet(port, "/metrics").second;
    std::string last;  // the final scrape
    // A sync error: the replica directory replaced by a file.
    fs::rename(replica, replica + ".bak");
    std::ofstream(replica) << "not a directory";
    ASSERT_TRUE(WaitUntil(
        [&] {
          ExecSql(db, "INSERT INTO t VALUES (1)");
          const std::string m = HttpGet(port, "/metrics").second;
          seen += m;
          return Metric(m, "litekeep_sync_errors_total") > 0;
        },
        std::chrono::seconds(20)))
        << rep.Log();
    fs::remove(replica);
    fs::rename(replica + ".bak", replica);
    ASSERT_TRUE(WaitUntil(
        [&] {
          last = HttpGet(port, "/metrics").second;
          seen += last;
          return HttpGet(port, "/healthz").first == 200 &&
                 Metric(last, "litekeep_verify_last_success") == 1 &&
                 Metric(last, "litekeep_replica_lag_txids") == 0;
        },
        std::chrono::seconds(40)))
        << rep.Log();
    rep.Signal(SIGTERM);
    ASSERT_EQ(rep.Wait(), 0) << rep.Log();
    for (const std::string& name : wanted) {
      const bool exported =
          std::regex_search(seen, std::regex("(^|\n)" + name + "[{ ]"));
      if (litestream || name.rfind("litekeep_", 0) == 0) {
        EXPECT_TRUE(exported) << name << " is not exported";
      } else {
        EXPECT_FALSE(exported) << name << " is exported although turned off";
      }
    }
    if (litestream) {
      EXPECT_NE(
          seen.find("# TYPE litestream_replica_operation_duration_seconds "
                    "histogram"),
          std::string::npos);
      EXPECT_GT(MetricWith(last, "litestream_replica_operation_total",
                           "operation=\"PUT\""),
                0)
          << last;
      EXPECT_GT(Metric(last, "litestream_total_wal_bytes"), 0) << last;
      EXPECT_EQ(Metric(last, "litestream_txid"),
                Metric(last, "litekeep_replicated_txid"))
          << last;
    }
  }
}

// The sample of `name` whose labels contain `fragment`; -1 when absent.
double MetricWith(const std::string& text, const std::string& name,
                  const std::string& fragment) {
  size_t pos = 0;
  while ((pos = text.find(name + "{", pos)) != std::string::npos) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end;
    if ((line.find(fragment) == std::string::npos)) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// validation-interval: the background -checksums verify passes on a good
// replica, then fails (gauge 0, failure counted, object named in the log)
// once a byte of an L0 file is flipped. Compaction is off (`levels: []`) so
// the L0 files stay as written.
TEST(MetricsTest, BackgroundVerifyFeedsMetricsAndCatchesAFlippedByte) {
  TempDir dir;
  const std::string db = dir.Join("app.db");
  const std::string replica = dir.Join("replica");
  const int port = FreePort();
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "addr: 127.0.0.1:" << port << "\n"
                     << "levels: []\n"
                     << "dbs:\n  - path: " << db << "\n    replica:\n"
                     << "      path: " << replica << "\n"
                     << "      sync-interval: 100ms\n"
                     << "      validation-interval: 300ms\n";
  ASSERT_EQ(ExecSql(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);"), "");
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("replicate.log"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(ExecSql(db, "INSERT INTO t VALUES (randomblob(3000))"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::string m;
  ASSERT_TRUE(WaitUntil(
      [&] {
        m = HttpGet(port, "/metrics").second;
        return Metric(m, "litekeep_verify_last_success") == 1 &&
               Metric(m, "litekeep_replicated_txid") >= 3;
      },
      std::chrono::seconds(20)))
      << m << rep.Log();
  EXPECT_EQ(Metric(m, "litekeep_verify_failures_total"), 0) << m;
  EXPECT_GT(Metric(m, "litekeep_verify_last_timestamp_seconds"), 1.6e9) << m;
  EXPECT_GE(Metric(m, "litekeep_verify_duration_seconds"), 0) << m;
  EXPECT_NE(m.find("litekeep_verify_last_success{db=\"" + db + "\",replica=\""),
            std::string::npos)
      << m;
  EXPECT_GT(MetricWith(m, "litekeep_storage_requests_total",
                       "kind=\"get\",outcome=\"ok\""),
            0)
      << m;
  EXPECT_EQ(MetricWith(m, "litekeep_storage_requests_total",
                       "kind=\"put\",outcome=\"error\""),
            0)
      << m;

  // Flip a byte in the middle of the second L0 file.
  std::vector<std::string> l0;
  for (const auto& e : fs::directory_iterator(replica + "/ltx/0")) {
    if (e.path().extension() == ".ltx") l0.push_back(e.path().string());
  }
  std::sort(l0.begin(), l0.end());
  ASSERT_GE(l0.size(), 2u);
  const std::string victim = l0[1];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    const auto mid = static_cast<std::streamoff>(fs::file_size(victim) / 2);
    f.seekg(mid);
    char c = 0;
    f.get(c);
    f.seekp(mid);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        m = HttpGet(port, "/metrics").second;
        return Metric(m, "litekeep_verify_last_success") == 0;
      },
      std::chrono::seconds(20)))
      << m << rep.Log();
  EXPECT_GE(Metric(m, "litekeep_verify_failures_total"), 1) << m;
  const std::string name = fs::path(victim).filename().string();
  EXPECT_TRUE(WaitUntil([&] {
    return rep.Log().find("background verify") != std::string::npos &&
           rep.Log().find("level 0 file " + name) != std::string::npos;
  })) << rep.Log();
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(), 0) << rep.Log();
}

}  // namespace
}  // namespace litekeep::testing
