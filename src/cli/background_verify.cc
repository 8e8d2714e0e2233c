// Periodic -checksums verification of one database's replica.
#include "cli/background_verify.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace litekeep::cli {
namespace {

constexpr size_t kMaxLoggedProblems = 5;

double UnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// One Verify run: ok, or what failed (the first problems, or why it could
// not run).
VerifyPassResult VerifyOnce(storage::ReplicaClient& replica,
                            const BackgroundVerifyOptions& options) {
  restore::VerifyOptions vo;
  vo.depth = restore::VerifyDepth::kChecksums;
  vo.policy.now = Clock::now();
  vo.policy.retention = options.retention;
  vo.policy.snapshot_interval = options.snapshot_interval;
  VerifyPassResult out;
  auto report = restore::Verify(replica, vo);
  if (!report.ok()) {
    out.error = report.status().message();
    return out;
  }
  if (report->ok()) {
    out.ok = true;
    return out;
  }
  for (size_t i = 0; i < report->problems.size() && i < kMaxLoggedProblems;
       ++i) {
    if (i > 0) out.error += "; ";
    out.error += report->problems[i].check + ": " + report->problems[i].message;
  }
  if (report->problems.size() > kMaxLoggedProblems) {
    out.error += "; and " +
                 std::to_string(report->problems.size() - kMaxLoggedProblems) +
                 " more";
  }
  return out;
}

}  // namespace

void DescribeVerifyMetrics(metrics::Registry& r) {
  using metrics::Type;
  r.Describe("litekeep_verify_last_success", Type::kGauge,
             "1 when the last background verify (-checksums) passed, 0 when it "
             "failed.");
  r.Describe("litekeep_verify_last_timestamp_seconds", Type::kGauge,
             "When the last background verify finished (Unix seconds).");
  r.Describe("litekeep_verify_duration_seconds", Type::kGauge,
             "Duration of the last background verify.");
  r.Describe("litekeep_verify_failures_total", Type::kCounter,
             "Background verifies that failed (a problem found, or the replica "
             "could not be read).");
}

VerifyPassResult RunVerifyPass(storage::ReplicaClient& replica,
                               const BackgroundVerifyOptions& options) {
  const TimePoint started = Clock::now();
  VerifyPassResult result = VerifyOnce(replica, options);
  if (!result.ok) {
    // A compaction or retention run may have deleted a listed file while
    // it was read: list again and re-check once before reporting.
    spdlog::debug("{}: background verify of {} failed ({}); re-listing once",
                  options.db, options.replica, result.error);
    result = VerifyOnce(replica, options);
  }
  const TimePoint finished = Clock::now();
  if (!result.ok) {
    spdlog::warn("{}: background verify of {} failed: {}", options.db,
                 options.replica, result.error);
  }
  if (options.metrics != nullptr) {
    DescribeVerifyMetrics(*options.metrics);
    metrics::Labels l = {{"db", options.db}, {"replica", options.replica}};
    options.metrics->Set("litekeep_verify_last_success", l, result.ok ? 1 : 0);
    options.metrics->Set("litekeep_verify_last_timestamp_seconds", l,
                         UnixSeconds(finished));
    options.metrics->Set(
        "litekeep_verify_duration_seconds", l,
        std::chrono::duration<double>(finished - started).count());
    options.metrics->Add("litekeep_verify_failures_total", l,
                         result.ok ? 0 : 1);
  }
  return result;
}

BackgroundVerifier::BackgroundVerifier(
    std::shared_ptr<storage::ReplicaClient> replica,
    BackgroundVerifyOptions options)
    : replica_(std::move(replica)), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    DescribeVerifyMetrics(*options_.metrics);
    options_.metrics->Add("litekeep_verify_failures_total",
                          {{"db", options_.db}, {"replica", options_.replica}},
                          0);
  }
}

BackgroundVerifier::~BackgroundVerifier() { Stop(); }

void BackgroundVerifier::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void BackgroundVerifier::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

void BackgroundVerifier::Loop() {
  spdlog::debug("{}: verifying {} every {} ms", options_.db, options_.replica,
                options_.interval.count());
  while (!stop_.WaitFor(options_.interval)) {
    RunVerifyPass(*replica_, options_);
  }
}

}  // namespace litekeep::cli
