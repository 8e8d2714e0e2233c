// Terminal progress bar.
#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace litekeep::cli {

std::string FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      active_(enabled && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputc('\n', stderr);
}

void ProgressBar::Update(size_t files_done, size_t files_total,
                         int64_t bytes_done, int64_t bytes_total) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool complete = files_done >= files_total;
  if (!complete && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) {
    return;
  }
  last_draw_ = now;
  const double elapsed =
      std::chrono::duration<double>(now - start_).count() + 1e-9;
  const double rate = static_cast<double>(bytes_done) / elapsed;
  const double frac = bytes_total > 0 ? static_cast<double>(bytes_done) /
                                            static_cast<double>(bytes_total)
                      : files_total > 0 ? static_cast<double>(files_done) /
                                              static_cast<double>(files_total)
                                        : 1.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string eta = "--";
  if (rate > 0 && bytes_total >= bytes_done) {
    eta = std::to_string(static_cast<long long>(
              static_cast<double>(bytes_total - bytes_done) / rate)) + "s";
  }
  std::fprintf(stderr, "\r%s [%s] %zu/%zu files  %s/%s  %s/s  ETA %s\x1b[K",
               label_.c_str(), bar.c_str(), files_done, files_total,
               FormatBytes(static_cast<double>(bytes_done)).c_str(),
               FormatBytes(static_cast<double>(bytes_total)).c_str(),
               FormatBytes(rate).c_str(), eta.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace litekeep::cli
