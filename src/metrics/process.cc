// Process CPU and memory from /proc/self.
#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace litekeep::metrics {
namespace {

double ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;  // NOLINT(runtime/int): the proc format
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE))
                : 0;
}

double CpuSeconds() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

}  // namespace

int RegisterProcessMetrics(Registry& registry) {
  registry.Describe("litekeep_process_cpu_seconds_total", Type::kCounter,
                    "User and system CPU time spent by litekeep, in seconds.");
  registry.Describe("litekeep_process_resident_memory_bytes", Type::kGauge,
                    "Resident memory size of litekeep, in bytes.");
  registry.Describe("litekeep_process_start_time_seconds", Type::kGauge,
                    "Start time of the process, seconds since the Unix epoch.");
  const double start = std::chrono::duration<double>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  registry.Set("litekeep_process_start_time_seconds", {}, start);
  return registry.AddCollector([](Registry& r) {
    r.Set("litekeep_process_cpu_seconds_total", {}, CpuSeconds());
    r.Set("litekeep_process_resident_memory_bytes", {}, ResidentBytes());
  });
}

}  // namespace litekeep::metrics
