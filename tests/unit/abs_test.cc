// Azure Blob backend without a server: the Shared Key string-to-sign
// against the examples Microsoft publishes in "Authorize with Shared Key",
// the signature against an independent HMAC-SHA256 (Python's hmac), RFC
// 1123 dates, abs:// URLs, settings and the choice of credentials. The
// proof against a server that checks signatures is
// tests/integration/abs_replica_test.cc (Azurite).
#include <gtest/gtest.h>
#include <stdlib.h>

#include "storage/abs/options.h"
#include "storage/abs/shared_key.h"
#include "storage/registry.h"
#include "storage/url.h"

namespace litekeep::storage::abs {
namespace {

constexpr char kKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
    "K1SZFPTOtr/KBHBeksoGMGw==";

// Microsoft's example: Get Container Metadata, version 2015-02-21.
SharedKeyRequest ContainerMetadataExample() {
  SharedKeyRequest r;
  r.method = "GET";
  r.account = "myaccount";
  r.path = "/mycontainer";
  r.query = {{"restype", "container"}, {"comp", "metadata"}, {"timeout", "20"}};
  r.headers = {{"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
               {"x-ms-version", "2015-02-21"}};
  return r;
}

TEST(AbsSharedKeyTest, PublishedStringToSign) {
  EXPECT_EQ(StringToSign(ContainerMetadataExample()),
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 "
            "GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:"
            "metadata\nrestype:container\ntimeout:20");
}

TEST(AbsSharedKeyTest, PublishedCanonicalizedResources) {
  SharedKeyRequest r;
  r.method = "GET";
  r.account = "myaccount";
  r.path = "/mycontainer";
  r.query = {{"restype", "container"},
             {"comp", "list"},
             {"include", "snapshots"},
             {"include", "metadata"},
             {"include", "uncommittedblobs"}};
  std::string s = StringToSign(r);
  EXPECT_EQ(s.substr(s.find("/myaccount")),
            "/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,"
            "uncommittedblobs\nrestype:container");
  r.path = "/mycontainer/myblob";
  r.query.clear();
  s = StringToSign(r);
  EXPECT_EQ(s.substr(s.find("/myaccount")), "/myaccount/mycontainer/myblob");
}

TEST(AbsSharedKeyTest, StandardHeadersInTheirSlotsAndXmsSorted) {
  SharedKeyRequest r;
  r.method = "PUT";
  r.account = "acct";
  r.path = "/acct/c/b";  // path style: the account appears twice
  r.headers = {{"X-Ms-Version", "2021-08-06"},
               {"Content-MD5", "md5=="},
               {"Content-Length", "3"},
               {"Content-Type", "application/octet-stream"},
               {"If-None-Match", "*"},
               {"x-ms-meta-litestreamtimestamp", " 2026-01-02T03:04:05Z "},
               {"x-ms-blob-type", "BlockBlob"},
               {"x-ms-date", "Tue, 01 Dec 2026 12:00:00 GMT"}};
  EXPECT_EQ(StringToSign(r),
            "PUT\n\n\n3\nmd5==\napplication/octet-stream\n\n\n\n*\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 01 Dec 2026 12:00:00 "
            "GMT\nx-ms-meta-litestreamtimestamp:2026-01-02T03:04:05Z\n"
            "x-ms-version:2021-08-06\n/acct/acct/c/b");
  // A zero Content-Length is signed as the empty string (2015-02-21+).
  r.headers = {{"Content-Length", "0"}};
  EXPECT_EQ(StringToSign(r), "PUT\n\n\n\n\n\n\n\n\n\n\n\n/acct/acct/c/b");
}

TEST(AbsSharedKeyTest, SignatureMatchesIndependentHmac) {
  auto key = Base64Decode(kKey);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 64u);
  // python3: base64(hmac.new(b64decode(kKey), s, sha256).digest())
  EXPECT_EQ(SharedKeySignature(*key, StringToSign(ContainerMetadataExample())),
            "1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=");
  EXPECT_EQ(SharedKeyAuthorization("myaccount", *key,
                                   StringToSign(ContainerMetadataExample())),
            "SharedKey myaccount:1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=");
}

TEST(AbsSharedKeyTest, Base64DecodeRejectsGarbageWithoutEchoingIt) {
  EXPECT_EQ(*Base64Decode("YWJj"), "abc");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  auto bad = Base64Decode("not-base64-secret!");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("secret"), std::string::npos);
}

TEST(AbsSharedKeyTest, Rfc1123RoundTrip) {
  TimePoint t = std::chrono::system_clock::from_time_t(1435361952);
  EXPECT_EQ(Rfc1123Date(t), "Fri, 26 Jun 2015 23:39:12 GMT");
  EXPECT_EQ(ParseRfc1123("Fri, 26 Jun 2015 23:39:12 GMT"), t);
  EXPECT_FALSE(ParseRfc1123("Fri, 26 Foo 2015 23:39:12 GMT").has_value());
  EXPECT_FALSE(ParseRfc1123("2015-06-26T23:39:12Z").has_value());
}

TEST(AbsUrlTest, AccountAtContainerSlashPath) {
  std::set<std::string> keys;
  auto r = ParseReplicaUrl("abs://acct@my-container/db/app", &keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, "abs");
  EXPECT_EQ(r->account_name, "acct");
  EXPECT_EQ(r->bucket, "my-container");
  EXPECT_EQ(r->path, "db/app");
  EXPECT_TRUE(keys.count("account-name"));
  EXPECT_EQ(Describe(*r), "abs://acct@my-container/db/app");

  auto e = ParseReplicaUrl(
      "abs://devstoreaccount1@c/p?endpoint=127.0.0.1:10000/devstoreaccount1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->endpoint, "http://127.0.0.1:10000/devstoreaccount1");

  // No account in the URL: account-name comes from the config.
  auto n = ParseReplicaUrl("abs://c/p");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->account_name, "");
  EXPECT_FALSE(abs::CheckSettings(&*n).ok());
}

TEST(AbsUrlTest, CredentialsInTheUrlAreRefusedWithoutEchoingThem) {
  auto r = ParseReplicaUrl("abs://acct@c/p?sas-token=sv%3Dsecretvalue");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("LITESTREAM_AZURE_SAS_TOKEN"),
            std::string::npos);
  EXPECT_EQ(r.status().message().find("secretvalue"), std::string::npos);
  auto k = ParseReplicaUrl("abs://acct@c/p?account-key=c2VjcmV0a2V5");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message().find("c2VjcmV0a2V5"), std::string::npos);
  EXPECT_NE(k.status().message().find("LITESTREAM_AZURE_ACCOUNT_KEY"),
            std::string::npos);
  EXPECT_FALSE(ParseReplicaUrl("abs://acct:pw@c/p").ok());
  EXPECT_FALSE(ParseReplicaUrl("abs://acct@c/p?region=x").ok());
}

class AbsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("LITESTREAM_AZURE_ACCOUNT_KEY");
    ::unsetenv("LITESTREAM_AZURE_SAS_TOKEN");
    s_.type = "abs";
    s_.account_name = "acct";
    s_.bucket = "c";
  }
  void TearDown() override { SetUp(); }
  ReplicaSettings s_;
};

TEST_F(AbsCredentialsTest, NoneIsAnErrorNamingEveryPlace) {
  ASSERT_TRUE(abs::CheckSettings(&s_).ok());
  auto o = OptionsFromSettings(s_);
  ASSERT_FALSE(o.ok());
  for (const char* where :
       {"sas-token", "account-key", "LITESTREAM_AZURE_SAS_TOKEN",
        "LITESTREAM_AZURE_ACCOUNT_KEY"}) {
    EXPECT_NE(o.status().message().find(where), std::string::npos) << where;
  }
}

TEST_F(AbsCredentialsTest, OrderSasThenKeyConfigBeforeEnvironment) {
  ::setenv("LITESTREAM_AZURE_ACCOUNT_KEY", "ZW52a2V5", 1);  // "envkey"
  auto env_key = OptionsFromSettings(s_);
  ASSERT_TRUE(env_key.ok()) << env_key.status().ToString();
  EXPECT_EQ(env_key->auth, Auth::kSharedKey);
  EXPECT_EQ(env_key->account_key, "envkey");
  s_.account_key = "Y2Zna2V5";  // "cfgkey"
  EXPECT_EQ(OptionsFromSettings(s_)->account_key, "cfgkey");
  ::setenv("LITESTREAM_AZURE_SAS_TOKEN", "?sv=2019-12-12&sig=ENV", 1);
  auto env_sas = OptionsFromSettings(s_);
  ASSERT_TRUE(env_sas.ok());
  EXPECT_EQ(env_sas->auth, Auth::kSas);
  EXPECT_EQ(env_sas->sas_token, "sv=2019-12-12&sig=ENV");
  s_.sas_token = "sv=2019-12-12&sig=CFG";
  EXPECT_EQ(OptionsFromSettings(s_)->sas_token, "sv=2019-12-12&sig=CFG");
}

TEST_F(AbsCredentialsTest, BadValuesAreRefusedWithoutEchoingThem) {
  s_.account_key = "not base64 secret";
  auto k = OptionsFromSettings(s_);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("account-key"), std::string::npos);
  EXPECT_EQ(k.status().message().find("secret"), std::string::npos);
  s_.sas_token = "just-a-secret";
  auto t = OptionsFromSettings(s_);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("sas-token"), std::string::npos);
  EXPECT_EQ(t.status().message().find("just-a-secret"), std::string::npos);
}

TEST_F(AbsCredentialsTest, SettingsAreCheckedAndBackendIsBuilt) {
  EXPECT_TRUE(FindBuiltBackend("abs").ok());
  ReplicaSettings no_container = s_;
  no_container.bucket.clear();
  EXPECT_FALSE(abs::CheckSettings(&no_container).ok());
  ReplicaSettings small = s_;
  small.part_size = 1000;
  EXPECT_FALSE(abs::CheckSettings(&small).ok());
  ReplicaSettings ep = s_;
  ep.endpoint = "localhost:10000/devstoreaccount1";
  ASSERT_TRUE(abs::CheckSettings(&ep).ok());
  EXPECT_EQ(ep.endpoint, "http://localhost:10000/devstoreaccount1");
}

}  // namespace
}  // namespace litekeep::storage::abs
