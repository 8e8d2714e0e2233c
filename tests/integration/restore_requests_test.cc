// Requests `litekeep restore` sends to S3 (s3rver), counted by a proxy in
// front of it (tests/support/fault_proxy.h, no faults), not by litekeep: a
// restore of the newest state sends no HEAD (creation times are not
// compared), and a -timestamp restore asks for exact creation times only
// for the files that decide its target, yet restores exactly the state
// of that time, and follow mode sends no HEAD for the files it applies
// (docs/cli/restore.md, "Requests").
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/rfc3339.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

class RestoreRequestsTest : public S3rverTest {
 protected:
  RestoreRequestsTest() : S3rverTest("requests") {}
};

// Requests whose request line starts with `start`, among the heads the
// proxy saw from index `from`.
int Count(const std::vector<std::string>& heads, size_t from,
          const std::string& start) {
  int n = 0;
  for (size_t i = from; i < heads.size(); ++i) {
    if (heads[i].rfind(start, 0) == 0) ++n;
  }
  return n;
}

TEST_F(RestoreRequestsTest, NoHeadPerFileUnlessATimestampNeedsIt) {
  const std::string db = dir_.Join("app.db");
  const std::string direct = Url("db");

  // Five syncs a little over a second apart, one row each; marks[k] is a
  // moment after sync k and before sync k + 1.
  ASSERT_EQ(ExecSql(db,
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER "
                    "PRIMARY KEY, v BLOB);"),
            "");
  std::vector<std::string> marks;
  for (int k = 0; k < 5; ++k) {
    if (k > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    ASSERT_EQ(ExecSql(db,
                      "INSERT INTO t(v) SELECT randomblob(3000) FROM "
                      "(SELECT 1 UNION ALL SELECT 2);"),
              "");
    auto r = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", db, direct});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    marks.push_back(base::FormatRfc3339(Clock::now()));
  }
  ASSERT_EQ(ExecSql(db, "PRAGMA wal_checkpoint(TRUNCATE)"), "");
  const std::string want = Sha256Hex(ReadFile(db));
  auto listing = litekeep::testing::Run({LitekeepBin(), "ltx", direct});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  // One line per LTX file after the header line.
  int files = -1;
  for (char c : listing.out) files += c == '\n';
  ASSERT_GE(files, 3) << listing.out;

  FaultProxy proxy(server_->port(), FaultRates{});
  // Newest state: no HEAD at all.
  const std::string out = dir_.Join("out.db");
  auto r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", out, Url("db", proxy.endpoint())});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Sha256Hex(ReadFile(out)), want);
  auto heads = proxy.request_heads();
  std::printf("restore (newest): %d LIST, %d GET, %d HEAD for %d LTX files\n",
              Count(heads, 0, "GET /requests?"),
              Count(heads, 0, "GET /requests/"), Count(heads, 0, "HEAD "),
              files);
  EXPECT_GT(Count(heads, 0, "GET /requests/"), 0);
  EXPECT_EQ(Count(heads, 0, "HEAD "), 0);

  // The state after sync 2 (three syncs, six rows), from exact times: at
  // most one HEAD per file, each file once.
  size_t from = heads.size();
  const std::string out2 = dir_.Join("out2.db");
  r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", out2,
                              "-timestamp", marks[2],
                              Url("db", proxy.endpoint())});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryOne(out2, "SELECT count(*) FROM t"), "6");
  EXPECT_EQ(QueryOne(out2, "PRAGMA integrity_check"), "ok");
  heads = proxy.request_heads();
  const int timestamp_heads = Count(heads, from, "HEAD ");
  std::printf("restore -timestamp: %d HEAD for %d LTX files\n", timestamp_heads,
              files);
  EXPECT_GT(timestamp_heads, 0);
  EXPECT_LE(timestamp_heads, files);

  // A time before the first sync names the problem.
  from = heads.size();
  r = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-o", dir_.Join("out3.db"), "-timestamp",
       "2001-01-01T00:00:00Z", Url("db", proxy.endpoint())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("at or before the requested time"), std::string::npos)
      << r.err;

  // Follow mode: its lag figure takes the listing's time of the newest file
  // (S3 LastModified), so following new files sends no HEAD either.
  from = proxy.request_heads().size();
  const std::string follower = dir_.Join("follow.db");
  {
    ChildProcess p({LitekeepBin(), "restore", "-f", "-follow-interval", "100ms",
                    "-o", follower, Url("db", proxy.endpoint())},
                   dir_.Join("follow.log"));
    auto rows = [&](const char* n) {
      return WaitUntil([&] {
        return std::filesystem::exists(follower + "-litekeep-follow") &&
               QueryOne(follower, "SELECT count(*) FROM t") == n;
      });
    };
    ASSERT_TRUE(rows("10")) << p.Log();
    ASSERT_EQ(ExecSql(db, "INSERT INTO t(v) VALUES (randomblob(100));"), "");
    r = litekeep::testing::Run(
        {LitekeepBin(), "replicate", "-once", db, direct});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(rows("11")) << p.Log();
  }
  heads = proxy.request_heads();
  std::printf(
      "restore -f (fresh, then one new file): %d LIST, %d GET, %d HEAD\n",
      Count(heads, from, "GET /requests?"),
      Count(heads, from, "GET /requests/"), Count(heads, from, "HEAD "));
  EXPECT_EQ(Count(heads, from, "HEAD "), 0);
}

}  // namespace
}  // namespace litekeep::testing
