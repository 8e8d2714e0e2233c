// The S3 RetryPolicy and RetryBudget: which answers are retried, the
// attempt limit, the overall deadline, and a reader's budget whose clock
// starts at its first failure.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "storage/retry.h"

namespace litekeep::storage::s3 {
namespace {

using std::chrono::milliseconds;

TEST(S3RetryPolicy, RetryableAnswers) {
  EXPECT_TRUE(RetryPolicy::RetryableStatus(500, ""));
  EXPECT_TRUE(RetryPolicy::RetryableStatus(503, "SlowDown"));
  EXPECT_TRUE(RetryPolicy::RetryableStatus(429, ""));
  EXPECT_TRUE(RetryPolicy::RetryableStatus(400, "RequestTimeout"));
  EXPECT_TRUE(RetryPolicy::RetryableStatus(409, "OperationAborted"));
  EXPECT_FALSE(RetryPolicy::RetryableStatus(403, "AccessDenied"));
  EXPECT_FALSE(RetryPolicy::RetryableStatus(404, "NoSuchKey"));
  EXPECT_FALSE(RetryPolicy::RetryableStatus(200, ""));
  EXPECT_TRUE(RetryPolicy::Retryable(base::UnavailableError("reset")));
  EXPECT_FALSE(RetryPolicy::Retryable(base::NotFoundError("gone")));
}

TEST(S3RetryPolicy, BackoffGrowsWithJitterAndCap) {
  RetryPolicy p;
  p.backoff_base = milliseconds(100);
  p.backoff_max = milliseconds(1000);
  for (int i = 0; i < 50; ++i) {
    auto first = p.Backoff(0);
    EXPECT_GE(first, milliseconds(50));
    EXPECT_LE(first, milliseconds(100));
    auto third = p.Backoff(2);
    EXPECT_GE(third, milliseconds(200));
    EXPECT_LE(third, milliseconds(400));
    auto capped = p.Backoff(30);
    EXPECT_GE(capped, milliseconds(500));
    EXPECT_LE(capped, milliseconds(1000));
  }
}

TEST(S3RetryBudget, StopsAfterMaxAttemptsNamingTheLastFailure) {
  RetryPolicy p;
  p.max_attempts = 3;
  p.backoff_base = milliseconds(1);
  p.backoff_max = milliseconds(2);
  RetryBudget b(p);
  EXPECT_TRUE(b.RetryAfterFailure(base::UnavailableError("first")));
  EXPECT_TRUE(b.RetryAfterFailure(base::UnavailableError("second")));
  EXPECT_FALSE(b.RetryAfterFailure(base::UnavailableError("HTTP 503 third")));
  base::Status s = b.GiveUp("get s3://b/k");
  EXPECT_EQ(s.code(), base::Code::kUnavailable);
  EXPECT_NE(s.message().find("get s3://b/k: gave up after 3 failed attempts"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("HTTP 503 third"), std::string::npos);
}

TEST(S3RetryBudget, DeadlineEndsRetriesEarly) {
  RetryPolicy p;
  p.max_attempts = 1000;
  p.backoff_base = milliseconds(40);
  p.backoff_max = milliseconds(40);
  p.deadline = milliseconds(150);
  RetryBudget b(p);
  auto start = std::chrono::steady_clock::now();
  int retries = 0;
  while (b.RetryAfterFailure(base::UnavailableError("stalled"))) ++retries;
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(retries, 10);
  EXPECT_LT(elapsed, milliseconds(1000));
  EXPECT_NE(b.GiveUp("list").message().find("retry deadline"),
            std::string::npos)
      << b.GiveUp("list").message();
}

TEST(S3RetryBudget, ReaderClockStartsAtFirstFailure) {
  RetryPolicy p;
  p.max_attempts = 5;
  p.backoff_base = milliseconds(5);
  p.backoff_max = milliseconds(5);
  p.deadline = milliseconds(100);
  RetryBudget b(p, /*clock_from_first_failure=*/true);
  // A long healthy download: longer than the deadline, no failure yet.
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_TRUE(b.RetryAfterFailure(base::UnavailableError("reset")));
  EXPECT_EQ(b.failures(), 1);
}

}  // namespace
}  // namespace litekeep::storage::s3
