// The HTTP backends' retry policy: retryable answers, backoff with jitter,
// budgets.
#include "storage/retry.h"

#include <algorithm>
#include <random>
#include <thread>

namespace litekeep::storage {

bool RetryPolicy::RetryableStatus(long http_status, std::string_view code) {
  if (http_status >= 500 || http_status == 429) return true;
  return code == "SlowDown" || code == "RequestTimeout" ||
         code == "InternalError" || code == "OperationAborted" ||
         code == "ConditionalRequestConflict";
}

std::chrono::milliseconds RetryPolicy::Backoff(int retry) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double d = static_cast<double>(backoff_base.count()) *
             static_cast<double>(1u << std::clamp(retry, 0, 16));
  d = std::min(d, static_cast<double>(backoff_max.count()));
  std::uniform_real_distribution<double> jitter(d / 2, d);
  return std::chrono::milliseconds(static_cast<int64_t>(jitter(rng)));
}

RetryBudget::RetryBudget(const RetryPolicy& policy,
                         bool clock_from_first_failure)
    : policy_(policy),
      clock_started_(!clock_from_first_failure),
      start_(SteadyClock::now()) {}

bool RetryBudget::RetryAfterFailure(const base::Status& failure) {
  if (!clock_started_) {
    clock_started_ = true;
    start_ = SteadyClock::now();
  }
  last_ = failure;
  ++failures_;
  if (failures_ >= std::max(1, policy_.max_attempts)) return false;
  auto pause = policy_.Backoff(failures_ - 1);
  if (policy_.deadline.count() > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        start_ + policy_.deadline - SteadyClock::now());
    if (left <= pause) {
      deadline_hit_ = true;
      return false;
    }
  }
  std::this_thread::sleep_for(pause);
  return true;
}

base::Status RetryBudget::GiveUp(std::string_view what) const {
  auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
      SteadyClock::now() - start_);
  std::string why = deadline_hit_
                        ? " (retry deadline of " +
                              std::to_string(policy_.deadline.count()) +
                              " ms reached)"
                        : "";
  return base::UnavailableError(
      std::string(what) + ": gave up after " + std::to_string(failures_) +
      " failed attempts in " + std::to_string(spent.count()) + " ms" + why +
      ": " + last_.message());
}

}  // namespace litekeep::storage
