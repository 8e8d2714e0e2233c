// The ReplicaClient conformance suite: one set of parameterised tests that
// checks the contract in storage/replica_client.h against any backend.
// A backend test instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(
//       S3, ReplicaConformanceTest,
//       ::testing::Values(ReplicaBackend{"s3rver", [] { return MakeClient();
//       }}), ReplicaBackendName);
//
// Each test gets a fresh client from the factory and calls DeleteAll()
// first, so the factory may hand out clients over the same location.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "storage/replica_client.h"

namespace litekeep::testing {

struct ReplicaBackend {
  std::string name;  // test-name suffix: letters, digits, '_'
  // Returns a client, or nullptr to skip (e.g. the server is not installed).
  std::function<std::unique_ptr<storage::ReplicaClient>()> factory;
  // Size of the "large file" test: above the backend's multipart threshold.
  int64_t large_file_size = 12 << 20;
  // Threads x files per thread in the concurrency test.
  int threads = 8;
  int files_per_thread = 6;
  // Stores objects {name, bytes} in `level`'s folder of the factory's
  // location under exactly those names, bypassing the client (as another
  // tool or a person could); fails the test on an error. Empty: the
  // name-rule test is skipped.
  std::function<void(int level,
                     const std::vector<std::pair<std::string, std::string>>&)>
      put_named{};
  // The backend takes creation times from the LTX header, not from what it
  // stores beside the file (WebDAV): the creation-time test writes files
  // that start with an LTX header carrying that time.
  bool created_from_ltx_header = false;
};

// Prints the backend name in test output (not its bytes).
inline void PrintTo(const ReplicaBackend& backend, std::ostream* os) {
  *os << backend.name;
}

std::string ReplicaBackendName(
    const ::testing::TestParamInfo<ReplicaBackend>& info);

class ReplicaConformanceTest : public ::testing::TestWithParam<ReplicaBackend> {
 protected:
  void SetUp() override;
  std::unique_ptr<storage::ReplicaClient> client_;
};

// Reads a reader to its end; fails the test on an error.
std::string ReadAllOrFail(base::Reader& reader);

// Referenced from this header so the tests in replica_conformance.cc are
// linked into every binary that instantiates the suite.
extern const int kReplicaConformanceLinked;
[[maybe_unused]] inline const int kReplicaConformanceLinkRef =
    kReplicaConformanceLinked;

}  // namespace litekeep::testing
