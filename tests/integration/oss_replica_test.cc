// Alibaba OSS (oss://) through the S3 client with OSS's defaults (region
// cn-hangzhou, endpoint https://oss-<region>.aliyuncs.com, virtual-hosted
// bucket names, OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET). No OSS server
// runs here: the URL forms and defaults are checked offline, and the replica
// contract against s3rver through an oss:// URL with an endpoint override
// (docs/config.md "Alibaba OSS" says what this does and does not prove).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>

#include "base/io.h"
#include "storage/registry.h"
#include "storage/url.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

constexpr char kBucket[] = "oss-test";

S3rver* Server() {
  static std::unique_ptr<S3rver> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = S3rver::Start(kBucket, &error);
    if (!server)
      std::fprintf(stderr, "s3rver unavailable: %s\n", error.c_str());
  }
  return server.get();
}

// An oss:// replica on s3rver (path style: s3rver has no virtual hosts),
// credentials from OSS's own environment variables.
std::unique_ptr<storage::ReplicaClient> OssClient(const std::string& path) {
  if (Server() == nullptr) return nullptr;
  ::setenv("OSS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("OSS_ACCESS_KEY_SECRET", "S3RVER", 1);
  auto s = storage::ParseReplicaUrl("oss://" + std::string(kBucket) + "/" +
                                    path + "?endpoint=" + Server()->endpoint() +
                                    "&forcePathStyle=true");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  auto c = storage::NewReplicaClient(*s);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::string UniquePath(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(n.fetch_add(1));
}

ReplicaBackend OssBackend() {
  const std::string path = UniquePath("conf");
  return ReplicaBackend{"oss_via_s3rver", [path] { return OssClient(path); }};
}

INSTANTIATE_TEST_SUITE_P(Oss, ReplicaConformanceTest,
                         ::testing::Values(OssBackend()), ReplicaBackendName);

// Litestream's URL forms: a bare bucket, and the region in the host
// (public and internal endpoints); the defaults fill region and endpoint.
TEST(OssUrlTest, FormsAndDefaults) {
  auto a = storage::ParseReplicaUrl("oss://my-bucket/db/app");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->type, "oss");
  EXPECT_EQ(a->bucket, "my-bucket");
  EXPECT_EQ(a->path, "db/app");
  storage::ReplicaSettings checked = *a;
  ASSERT_TRUE(storage::CheckSettings(&checked).ok());
  EXPECT_EQ(checked.region, "cn-hangzhou");
  EXPECT_EQ(checked.endpoint, "https://oss-cn-hangzhou.aliyuncs.com");
  EXPECT_FALSE(checked.force_path_style);

  auto b = storage::ParseReplicaUrl(
      "oss://my-bucket.oss-cn-beijing.aliyuncs.com/db");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->bucket, "my-bucket");
  EXPECT_EQ(b->region, "cn-beijing");
  checked = *b;
  ASSERT_TRUE(storage::CheckSettings(&checked).ok());
  EXPECT_EQ(checked.endpoint, "https://oss-cn-beijing.aliyuncs.com");

  auto c = storage::ParseReplicaUrl(
      "oss://bkt.oss-cn-shanghai-internal.aliyuncs.com/db");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bucket, "bkt");
  EXPECT_EQ(c->region, "cn-shanghai");

  EXPECT_FALSE(storage::ParseReplicaUrl("oss:///db").ok());
  EXPECT_FALSE(storage::ParseReplicaUrl("oss://me@bkt/db").ok());
  storage::ReplicaSettings nobucket;
  nobucket.type = "oss";
  EXPECT_NE(storage::CheckSettings(&nobucket).message().find("bucket"),
            std::string::npos);
}

// The secret from the environment never shows in what is printed.
TEST(OssUrlTest, DescribeHasNoSecret) {
  ::setenv("OSS_ACCESS_KEY_ID", "LTAIexample", 1);
  ::setenv("OSS_ACCESS_KEY_SECRET", "OssSecretNeverPrinted", 1);
  auto s = storage::ParseReplicaUrl("oss://bkt/db");
  ASSERT_TRUE(s.ok());
  auto c = storage::NewReplicaClient(*s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->Describe().find("OssSecretNeverPrinted"), std::string::npos);
  EXPECT_NE((*c)->Describe().find("oss-cn-hangzhou.aliyuncs.com"),
            std::string::npos)
      << (*c)->Describe();
  ::unsetenv("OSS_ACCESS_KEY_ID");
  ::unsetenv("OSS_ACCESS_KEY_SECRET");
}

}  // namespace
}  // namespace litekeep::testing
