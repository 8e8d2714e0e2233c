// metrics::Registry exposition format, listen-address parsing, the HTTP
// endpoint, and verify's pure listing checks.
#include <gtest/gtest.h>

#include "metrics/registry.h"
#include "metrics/server.h"
#include "restore/verify.h"

namespace litekeep {
namespace {

TEST(MetricsRegistryTest, RendersPrometheusText) {
  metrics::Registry r;
  r.Describe("litekeep_uploaded_bytes_total", metrics::Type::kCounter,
             "Bytes.");
  r.Add("litekeep_uploaded_bytes_total", {{"db", "/a \"b\"\n"}}, 10);
  r.Add("litekeep_uploaded_bytes_total", {{"db", "/a \"b\"\n"}}, 5);
  r.Set("litekeep_lag_seconds", {}, 0.25);
  int calls = 0;
  int id = r.AddCollector([&](metrics::Registry& reg) {
    ++calls;
    reg.Set("litekeep_wal_size_bytes", {{"db", "x"}}, 4096);
  });
  std::string text = r.Render();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(
      text.find("# HELP litekeep_uploaded_bytes_total Bytes.\n"
                "# TYPE litekeep_uploaded_bytes_total counter\n"
                "litekeep_uploaded_bytes_total{db=\"/a \\\"b\\\"\\n\"} 15\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("litekeep_lag_seconds 0.25\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("litekeep_wal_size_bytes{db=\"x\"} 4096\n"),
            std::string::npos);
  r.RemoveCollector(id);
  r.Render();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.Value("litekeep_uploaded_bytes_total", {{"db", "/a \"b\"\n"}}),
            15);
  r.RemoveSeries("db", "x");
  EXPECT_EQ(r.Series("litekeep_wal_size_bytes").size(), 0u);
}

TEST(MetricsRegistryTest, RendersHistogramsCumulatively) {
  metrics::Registry r;
  r.DescribeHistogram("op_seconds", "Op time.", {0.1, 1});
  const metrics::Labels l = {{"operation", "PUT"}};
  for (double v : {0.05, 0.5, 0.5, 3.0}) r.Observe("op_seconds", l, v);
  r.Observe("undeclared", l, 1);  // ignored: not a histogram
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE op_seconds histogram\n"
                      "op_seconds_bucket{operation=\"PUT\",le=\"0.1\"} 1\n"
                      "op_seconds_bucket{operation=\"PUT\",le=\"1\"} 3\n"
                      "op_seconds_bucket{operation=\"PUT\",le=\"+Inf\"} 4\n"
                      "op_seconds_sum{operation=\"PUT\"} 4.05\n"
                      "op_seconds_count{operation=\"PUT\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("undeclared"), std::string::npos) << text;
  r.RemoveSeries("operation", "PUT");
  EXPECT_EQ(r.Render().find("op_seconds"), std::string::npos);
}

TEST(MetricsRegistryTest, DroppedPrefixIsNeverRendered) {
  metrics::Registry r;
  r.Describe("litestream_sync_count", metrics::Type::kCounter, "Syncs.");
  r.Add("litestream_sync_count", {{"db", "a"}}, 1);
  r.DropPrefix("litestream_");
  r.Add("litestream_sync_count", {{"db", "a"}}, 1);
  r.Set("litestream_txid", {{"db", "a"}}, 3);
  r.Set("litekeep_local_txid", {{"db", "a"}}, 3);
  const std::string text = r.Render();
  EXPECT_EQ(text.find("litestream_"), std::string::npos) << text;
  EXPECT_NE(text.find("litekeep_local_txid"), std::string::npos) << text;
}

TEST(MetricsServerTest, ParsesListenAddresses) {
  auto a = metrics::ParseListenAddr(":9090");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "");
  EXPECT_EQ(a->port, 9090);
  a = metrics::ParseListenAddr("127.0.0.1:9091");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  a = metrics::ParseListenAddr("[::1]:80");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_FALSE(metrics::ParseListenAddr("9090x").ok());
  EXPECT_FALSE(metrics::ParseListenAddr(":99999").ok());
}

storage::FileInfo F(int level, TxId min, TxId max, TimePoint created = {}) {
  storage::FileInfo f;
  f.level = level;
  f.min_txid = min;
  f.max_txid = max;
  f.size = 100;
  f.created = created;
  return f;
}

TEST(VerifyListingTest, CompactedLevelsAreContiguous) {
  restore::ListingPolicy p;
  p.now = Clock::now();
  p.retention = std::chrono::hours(24);
  // L9 snapshot, L1 compaction, L0 tail overlapping L1 across levels: fine.
  auto problems = restore::CheckListing(
      {F(9, 1, 10, p.now), F(1, 11, 20, p.now), F(0, 15, 15, p.now),
       F(0, 16, 16, p.now), F(0, 21, 21, p.now)},
      p);
  EXPECT_TRUE(problems.empty()) << problems.front().message;
}

TEST(VerifyListingTest, ReportsGapOverlapAndMissingSnapshot) {
  restore::ListingPolicy p;
  p.now = Clock::now();
  auto problems = restore::CheckListing(
      {F(0, 1, 1), F(0, 2, 3), F(0, 3, 3), F(0, 5, 5)}, p);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].check, "overlap");
  EXPECT_EQ(problems[0].object,
            "level 0 file 0000000000000003-0000000000000003.ltx");
  EXPECT_EQ(problems[1].check, "gap");
  EXPECT_EQ(problems[1].object,
            "level 0 file 0000000000000004-0000000000000004.ltx");
  EXPECT_EQ(problems[2].check, "orphan");
  problems = restore::CheckListing({F(0, 2, 2)}, p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].check, "snapshot");
}

}  // namespace
}  // namespace litekeep
