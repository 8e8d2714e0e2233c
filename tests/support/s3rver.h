// Test harness for S3: starts s3rver (npm) on 127.0.0.1 with a temporary
// data directory and a free port, waits for its ready line, and stops it by
// PID. Also locates the test-only npm packages (installing them once with
// scripts/install-deps.sh --test when missing) and runs node scripts.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

// The source tree root: $LITEKEEP_SOURCE_DIR, else derived from where this
// file was compiled (ctest's ENVIRONMENT may not carry the variable).
std::string TestSourceDir();

// The node_modules directory holding s3rver, @aws-sdk/client-s3 and
// @smithy/signature-v4 ($LITEKEEP_BUILD_DIR/npm/node_modules, else
// <source>/build/npm/node_modules). Runs scripts/install-deps.sh --test once
// when s3rver is missing. Returns "" when it still is not there.
std::string NpmModulesDir();

// True when a `node` executable is on PATH.
bool HaveNode();

// A free TCP port on 127.0.0.1 (bound then released).
int FreePort();

// Sends SIGTERM to pid, waits up to 5 s, then SIGKILL; reaps it.
void StopPid(pid_t pid);

// A running s3rver with one bucket. Credentials S3RVER/S3RVER, path style.
class S3rver {
 public:
  // Starts s3rver; returns nullptr and sets *error when it cannot.
  static std::unique_ptr<S3rver> Start(const std::string& bucket,
                                       std::string* error);
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string endpoint() const;
  const std::string& bucket() const { return bucket_; }
  // Where s3rver keeps objects (for debugging failed tests).
  std::string data_dir() const { return dir_.Join("data"); }
  std::string log_path() const { return dir_.Join("s3rver.log"); }

 private:
  S3rver() = default;
  TempDir dir_;
  std::string bucket_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A test with an s3rver of its own: SetUp starts it (the test is skipped
// when it cannot) and exports its credentials for the litekeep processes
// the test runs.
class S3rverTest : public ::testing::Test {
 protected:
  explicit S3rverTest(std::string bucket) : bucket_(std::move(bucket)) {}
  void SetUp() override;
  // s3://<bucket>/<path>, path style, through endpoint (default: the
  // server's own; a FaultProxy's to count or break requests).
  std::string Url(const std::string& path,
                  const std::string& endpoint = "") const;

  std::string bucket_;
  std::unique_ptr<S3rver> server_;
  TempDir dir_;
};

}  // namespace litekeep::testing
