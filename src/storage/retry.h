// RetryPolicy: the one retry rule of the HTTP backends, S3 and Azure Blob
// (docs/s3.md "Retries"): how many attempts, the backoff between them
// (exponential with jitter), which failures are worth retrying, and an overall
// deadline per request. RetryBudget is one request's (or one object reader's)
// share of it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace litekeep::storage {

struct RetryPolicy {
  int max_attempts = 8;  // per request, first try included
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{8000};
  // Time one request may spend on all its attempts and backoffs together;
  // for an object reader, the time from its first failure. 0 = no deadline.
  std::chrono::milliseconds deadline{std::chrono::minutes(5)};

  // True when an S3 answer is worth retrying: 5xx, 429, and the S3 error
  // codes that mean "try again" (SlowDown, RequestTimeout, InternalError,
  // OperationAborted, ConditionalRequestConflict).
  static bool RetryableStatus(long http_status, std::string_view code);
  // True when a transport or translated error is worth retrying
  // (kUnavailable).
  static bool Retryable(const base::Status& status) {
    return status.retryable();
  }
  // The pause before retry number `retry` (0 = the first retry): base * 2^retry
  // capped at backoff_max, then a uniform jitter in [half, full].
  std::chrono::milliseconds Backoff(int retry) const;
};

// Counts the attempts of one request against the policy. Not reset by
// progress: a reader that gets a few bytes per attempt still runs out.
class RetryBudget {
 public:
  // The deadline clock starts now, or (clock_from_first_failure) at the
  // first failure: an object reader streaming a large body for a long time
  // is not failing.
  explicit RetryBudget(const RetryPolicy& policy,
                       bool clock_from_first_failure = false);

  // Records a failed attempt. Returns true after sleeping the backoff when
  // another attempt is allowed; false when the attempts or the deadline are
  // spent (the caller then reports GiveUp()).
  bool RetryAfterFailure(const base::Status& failure);

  int failures() const { return failures_; }
  // An kUnavailable error "<what>: gave up after N attempts in Xs: <last>".
  base::Status GiveUp(std::string_view what) const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  const RetryPolicy& policy_;
  bool clock_started_;
  SteadyClock::time_point start_;
  int failures_ = 0;
  base::Status last_;
  bool deadline_hit_ = false;
};

}  // namespace litekeep::storage
