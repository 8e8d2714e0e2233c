// The application of bench/write_overhead_bench.sh: a tight insert loop
// against the system SQLite with its defaults (wal_autocheckpoint 1000,
// synchronous=NORMAL, WAL mode), one 200-byte row per commit. It times every
// commit and prints one line of figures: rate, commit latency p50/p99, the
// longest stall, and the process's own CPU seconds.
//
// Usage: overhead_writer DB COMMITS [START_AT_EPOCH_MS]
//   START_AT_EPOCH_MS: wait until this wall-clock moment before the first
//   commit (the burst shape starts a fixed time after the replicator).
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "overhead_writer: %s: %s\n", sql,
                 err != nullptr ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return false;
  }
  return true;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: overhead_writer DB COMMITS [START_AT_MS]\n");
    return 2;
  }
  const long commits = std::atol(argv[2]);
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
    std::fprintf(stderr, "overhead_writer: open %s: %s\n", argv[1],
                 sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_busy_timeout(db, 5000);
  if (!Exec(db, "PRAGMA journal_mode=WAL") ||
      !Exec(db, "PRAGMA synchronous=NORMAL") ||
      !Exec(db,
            "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)")) {
    return 1;
  }
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?)", -1, &ins,
                         nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "overhead_writer: prepare: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  if (argc > 3) {
    const auto start_at = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(std::atoll(argv[3])));
    std::this_thread::sleep_until(start_at);
  }
  std::string row(200, 'x');
  std::vector<double> lat;
  lat.reserve(commits);
  // OVERHEAD_STALLS=MS: print each commit slower than MS milliseconds with
  // its wall-clock time, to match stalls against the replicator's log.
  const char* stalls_env = std::getenv("OVERHEAD_STALLS");
  const double stall_ms = stalls_env ? std::atof(stalls_env) : 0;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < commits; ++i) {
    for (size_t j = 0; j < 8; ++j)
      row[j] = static_cast<char>('a' + (i >> (j * 3)) % 26);
    const auto c0 = std::chrono::steady_clock::now();
    // Autocommit: each INSERT is its own transaction (BEGIN..COMMIT).
    sqlite3_bind_blob(ins, 1, row.data(), static_cast<int>(row.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc != SQLITE_DONE) {
      std::fprintf(stderr, "overhead_writer: commit %ld: %s\n", i,
                   sqlite3_errmsg(db));
      return 1;
    }
    lat.push_back(std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - c0)
                      .count());
    if (stall_ms > 0 && lat.back() > stall_ms) {
      const auto now = std::chrono::system_clock::now();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          now.time_since_epoch())
                          .count();
      std::fprintf(stderr, "stall %.1f ms ending at %lld.%03lld (commit %ld)\n",
                   lat.back(), static_cast<long long>(ms / 1000),
                   static_cast<long long>(ms % 1000), i);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  const double cpu = CpuSeconds() - cpu0;
  sqlite3_finalize(ins);
  sqlite3_close(db);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    return lat[std::min(lat.size() - 1,
                        static_cast<size_t>(q * (lat.size() - 1) + 0.5))];
  };
  std::printf(
      "commits=%ld seconds=%.4f rate=%.0f p50_ms=%.4f p99_ms=%.4f "
      "max_ms=%.3f cpu_s=%.3f\n",
      commits, secs, commits / secs, pct(0.5), pct(0.99), lat.back(), cpu);
  return 0;
}
