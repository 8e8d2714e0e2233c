// A one-line progress bar on stderr for long restores and verifications
// (files, bytes, rate, ETA). It prints only when stderr is a terminal and
// the command is not in -json mode; otherwise it prints nothing at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace litekeep::cli {

class ProgressBar {
 public:
  // enabled: the caller's wish (e.g. !json); the bar also needs a TTY.
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();  // ends the line if anything was drawn
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool active() const { return active_; }
  // Redraws (at most ~10 times a second, and always at completion).
  void Update(size_t files_done, size_t files_total, int64_t bytes_done,
              int64_t bytes_total);

 private:
  std::string label_;
  bool active_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1.5 MiB" style sizes.
std::string FormatBytes(double bytes);

}  // namespace litekeep::cli
