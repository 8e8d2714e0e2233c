// The verify-interval alias, storage request outcomes (RequestCounts' error counters, exported as
// litekeep_storage_requests_total{kind,outcome}) and one background verify
// pass publishing litekeep_verify_* metrics.
#include <gtest/gtest.h>

#include <string>

#include "cli/background_verify.h"
#include "config/config.h"
#include "metrics/registry.h"
#include "storage/file/file_client.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

TEST(RequestOutcomeTest, FileBackendCountsFailedRequestsByKind) {
  TempDir dir;
  storage::FileReplicaClient c(dir.Join("r"));
  std::string data = "hello";
  base::SpanReader in({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  ASSERT_TRUE(c.WriteFile({0, 1, 1, 5, Clock::now()}, in).ok());
  ASSERT_TRUE(c.OpenFile(0, 1, 1, 0, -1).ok());
  EXPECT_FALSE(c.OpenFile(0, 2, 2, 0, -1).ok());  // missing: an error
  EXPECT_FALSE(c.OpenObject("../escape").ok());
  ASSERT_TRUE(c.ListFiles(0).ok());
  ASSERT_TRUE(c.DeleteFiles({{0, 1, 1, 5, {}}}).ok());

  storage::RequestCounts rc = c.request_counts();
  EXPECT_EQ(rc.put, 1u);
  EXPECT_EQ(rc.put_errors, 0u);
  EXPECT_EQ(rc.get, 3u);
  EXPECT_EQ(rc.get_errors, 2u);
  EXPECT_EQ(rc.list, 1u);
  EXPECT_EQ(rc.list_errors, 0u);
  EXPECT_EQ(rc.del, 1u);
  EXPECT_EQ(rc.del_errors, 0u);

  // A write into a replica path that is a file fails and is counted.
  ASSERT_EQ(ExecSql(dir.Join("plain-file"), "CREATE TABLE x(a)"), "");
  storage::FileReplicaClient bad(dir.Join("plain-file/replica"));
  base::SpanReader in2({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  EXPECT_FALSE(bad.WriteFile({0, 1, 1, 5, Clock::now()}, in2).ok());
  EXPECT_EQ(bad.request_counts().put, 1u);
  EXPECT_EQ(bad.request_counts().put_errors, 1u);
}

TEST(BackgroundVerifyTest, FailedPassSetsMetricsAndNamesTheProblem) {
  TempDir dir;
  storage::FileReplicaClient c(dir.Join("empty"));
  metrics::Registry reg;
  cli::BackgroundVerifyOptions o;
  o.db = "/data/app.db";
  o.replica = "file:///r";
  o.metrics = &reg;
  cli::DescribeVerifyMetrics(reg);
  cli::VerifyPassResult r = cli::RunVerifyPass(c, o);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no LTX files"), std::string::npos) << r.error;
  const metrics::Labels l = {{"db", "/data/app.db"}, {"replica", "file:///r"}};
  EXPECT_EQ(reg.Value("litekeep_verify_last_success", l), 0);
  EXPECT_EQ(reg.Value("litekeep_verify_failures_total", l), 1);
  EXPECT_GT(reg.Value("litekeep_verify_last_timestamp_seconds", l), 1.6e9);
  EXPECT_GE(reg.Value("litekeep_verify_duration_seconds", l), 0);
  const std::string text = reg.Render();
  EXPECT_NE(text.find("# TYPE litekeep_verify_failures_total counter"),
            std::string::npos)
      << text;
}

TEST(BackgroundVerifyTest, VerifyIntervalIsAnAliasOfValidationInterval) {
  auto c = config::Parse(R"(validation:
  interval: 1h
dbs:
  - path: /data/a.db
    replica:
      path: /backup/a
      verify-interval: 30s
  - path: /data/b.db
    replica:
      path: /backup/b
)",
                         "test.yml", false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->dbs.size(), 2u);
  EXPECT_EQ(c->dbs[0].replicas.front().validation_interval,
            std::chrono::seconds(30));
  EXPECT_EQ(c->dbs[1].replicas.front().validation_interval,
            std::chrono::hours(1));
}

}  // namespace
}  // namespace litekeep::testing
