// Many databases in one `replicate` (docs/architecture.md, "Idle
// databases"): a watched directory of databases written at random, left
// idle long enough to be suspended, written again (resumed), the replicator
// killed with SIGKILL at a random moment, restarted, and every database
// restored and compared with its source. LITEKEEP_SCALE_DBS sets the count
// (default 300, which took 60-70 s on the shared 2-core test machine; the
// restores and the wait for every database to go idle grow with it).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/test_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;

size_t ScaleDbs() {
  const char* v = std::getenv("LITEKEEP_SCALE_DBS");
  if (v != nullptr && std::atoi(v) > 0)
    return static_cast<size_t>(std::atoi(v));
  return 300;
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

class Databases {
 public:
  Databases(const std::string& dir, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      paths_.push_back(dir + "/db" + std::to_string(i) + ".db");
      sqlite3* db = nullptr;
      sqlite3_open(paths_.back().c_str(), &db);
      sqlite3_busy_timeout(db, 10000);
      sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY "
                   "KEY, v TEXT); INSERT INTO t(v) VALUES('first')",
                   nullptr, nullptr, nullptr);
      dbs_.push_back(db);
    }
  }
  ~Databases() { CloseAll(); }
  void CloseAll() {
    for (sqlite3* db : dbs_) sqlite3_close(db);
    dbs_.clear();
  }
  // One small transaction on database i; false on an SQLite error.
  bool Write(size_t i, uint64_t n) {
    const std::string sql = "BEGIN; INSERT INTO t(v) VALUES('row " +
                            std::to_string(n) + "-" + std::string(100, 'x') +
                            "'); COMMIT";
    return sqlite3_exec(dbs_[i], sql.c_str(), nullptr, nullptr, nullptr) ==
           SQLITE_OK;
  }
  size_t size() const { return paths_.size(); }
  const std::string& path(size_t i) const { return paths_[i]; }

 private:
  std::vector<std::string> paths_;
  std::vector<sqlite3*> dbs_;
};

TEST(ScaleTest, ManyDatabasesRandomWritesKillRestoreEach) {
  const size_t n = ScaleDbs();
  TempDir dir;
  fs::create_directories(dir.Join("data"));
  Databases dbs(dir.Join("data"), n);
  const std::string cfg = dir.Join("litekeep.yml");
  std::ofstream(cfg) << "logging:\n  level: debug\n"
                     << "dbs:\n  - dir: " << dir.Join("data") << "\n"
                     << "    pattern: \"*.db\"\n    watch: true\n"
                     << "    replica:\n      path: " << dir.Join("replica")
                     << "\n      sync-interval: 200ms\n";
  std::mt19937_64 rng(std::random_device{}());
  uint64_t seq = 0;
  auto write_random = [&](std::chrono::milliseconds for_how_long) {
    const auto until = std::chrono::steady_clock::now() + for_how_long;
    while (std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(dbs.Write(rng() % n, ++seq));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    }
  };
  {
    ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                     dir.Join("log1"));
    ASSERT_TRUE(
        WaitUntil([&] { return CountOf(rep.Log(), "replicating ") >= n; },
                  std::chrono::seconds(120)))
        << CountOf(rep.Log(), "replicating ") << " of " << n;
    // Idle long enough for databases to be suspended, then write again:
    // the writes resume them.
    ASSERT_TRUE(WaitUntil(
        [&] { return CountOf(rep.Log(), "idle: read transaction ended") >= n; },
        std::chrono::seconds(60)))
        << "suspended: " << CountOf(rep.Log(), "idle: read transaction ended");
    std::uniform_int_distribution<int> kill_after(200, 2500);
    std::atomic<bool> killed{false};
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_after(rng)));
      rep.Signal(SIGKILL);
      killed = true;
    });
    write_random(std::chrono::milliseconds(3000));
    killer.join();
    EXPECT_GE(CountOf(rep.Log(), "resumed (database file"), 1u);
    EXPECT_EQ(rep.Wait(), 128 + SIGKILL);
  }
  // Written while nothing replicates; then a new process ships it all.
  write_random(std::chrono::milliseconds(500));
  ChildProcess rep({LitekeepBin(), "replicate", "-config", cfg},
                   dir.Join("log2"));
  ASSERT_TRUE(WaitUntil([&] { return CountOf(rep.Log(), "replicating ") >= n; },
                        std::chrono::seconds(120)));
  write_random(std::chrono::milliseconds(1000));
  rep.Signal(SIGTERM);
  ASSERT_EQ(rep.Wait(std::chrono::seconds(120)), 0) << rep.log_path();
  dbs.CloseAll();

  // Restore every database and compare (a few restores at a time).
  std::atomic<size_t> next{0};
  std::atomic<size_t> failures{0};
  std::mutex mu;
  std::string first_failure;
  auto restorer = [&] {
    for (size_t i = next++; i < n; i = next++) {
      const std::string out = dir.Join("out" + std::to_string(i) + ".db");
      const std::string replica =
          dir.Join("replica/db" + std::to_string(i) + ".db");
      auto r = litekeep::testing::Run(
          {LitekeepBin(), "restore", "-force", "-o", out, replica});
      std::string why;
      if (r.exit_code != 0) {
        why = "restore failed: " + r.err;
      } else if (ContentHash(out) != ContentHash(dbs.path(i))) {
        why = "restored content differs";
      }
      if (!why.empty()) {
        ++failures;
        std::lock_guard<std::mutex> lock(mu);
        if (first_failure.empty()) first_failure = dbs.path(i) + ": " + why;
      }
      fs::remove(out);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(restorer);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0u) << first_failure;
}

}  // namespace
}  // namespace litekeep::testing
