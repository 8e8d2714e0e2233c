// `litekeep restore` from S3 (s3rver) when the connection drops mid-file: a
// fault proxy between the restore and s3rver cuts responses after half the
// body (and resets some connections). The restore must resume each cut
// object with a ranged GET from the byte where it stopped, pinned to the
// same object version (If-Match), and the restored database must equal the
// source byte for byte (docs/reliability.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "tests/support/fault_proxy.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

class S3ResumeTest : public S3rverTest {
 protected:
  S3ResumeTest() : S3rverTest("resume") {}
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The value of header `name` (lower case) in a request head, "" if absent.
std::string HeaderValue(const std::string& head, const std::string& name) {
  const std::string low = Lower(head);
  auto at = low.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 3;
  auto end = head.find("\r\n", at);
  std::string v = head.substr(at, end == std::string::npos ? end : end - at);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

// The first byte of a "bytes=N-" or "bytes=N-M" range, -1 when none.
int64_t RangeStart(const std::string& range) {
  if (range.rfind("bytes=", 0) != 0) return -1;
  return std::strtoll(range.c_str() + 6, nullptr, 10);
}

TEST_F(S3ResumeTest, RestoreResumesCutDownloadsWithRangedGets) {
  const std::string db = dir_.Join("app.db");
  const std::string direct = Url("db");

  // A snapshot of ~6 MiB of incompressible pages, then two large
  // incremental files.
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER "
                    "PRIMARY KEY, v BLOB);"
                    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                    "FROM s WHERE n < 1500) INSERT INTO t(v) SELECT "
                    "randomblob(4000) FROM s;"),
            "");
  auto r =
      litekeep::testing::Run({LitekeepBin(), "replicate", "-once", db, direct});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(ExecSql(db, "UPDATE t SET v = randomblob(4000) WHERE id % 2 = " +
                              std::to_string(i) + ";"),
              "");
    r = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", db, direct});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  const std::string want = Sha256Hex(ReadFile(db));

  FaultRates rates;
  rates.truncate = 0.35;
  rates.reset = 0.05;
  FaultProxy proxy(server_->port(), rates, 20261201);
  const std::string out = dir_.Join("out.db");
  r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", out, Url("db", proxy.endpoint())});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(out)), want);
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");

  // Some GETs of LTX objects were cut mid-body and resumed: a GET for the
  // same object that starts past byte 0 and names the version it resumes.
  const FaultCounts counts = proxy.counts();
  EXPECT_GT(counts.truncate, 0u);
  int resumed = 0;
  for (const auto& head : proxy.request_heads()) {
    if (head.rfind("GET ", 0) != 0) continue;
    const std::string line = head.substr(0, head.find("\r\n"));
    if (line.find(".ltx") == std::string::npos) continue;
    const int64_t start = RangeStart(HeaderValue(head, "range"));
    if (start > 0 && !HeaderValue(head, "if-match").empty()) ++resumed;
  }
  EXPECT_GT(resumed, 0) << counts.requests << " requests, " << counts.truncate
                        << " truncated";
  std::printf(
      "s3 resume: %llu requests, %llu truncated, %llu reset, %d "
      "resumed GETs\n",
      static_cast<unsigned long long>(counts.requests),
      static_cast<unsigned long long>(counts.truncate),
      static_cast<unsigned long long>(counts.reset), resumed);
}

}  // namespace
}  // namespace litekeep::testing
