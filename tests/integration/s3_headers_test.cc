// What the S3 client sends and how it ends when a store misbehaves, seen
// through the fault proxy in front of s3rver: storage class and server-side
// encryption headers (s3rver ignores them, so the recorded requests are the
// proof), the SSE-C key never in a message, a listing whose continuation
// token repeats, listings with junk and `../` keys or sizes that are not
// byte counts, and a server that sends a few bytes and then stalls.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "storage/registry.h"
#include "storage/s3/client.h"
#include "storage/s3/sigv4.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using storage::FileInfo;

constexpr char kSecret[] = "wJalrXUtnFEMI-never-printed";
// A 32-byte SSE-C key (raw form).
constexpr char kCustomerKey[] = "CustomerKey-0123456789abcdefghij";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

Status Put(storage::ReplicaClient& c, TxId id, const std::string& data) {
  FileInfo f{0, id, id, static_cast<int64_t>(data.size()), Clock::now()};
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(f, r);
}

Result<std::string> Get(storage::ReplicaClient& c, TxId id) {
  LK_ASSIGN_OR_RETURN(auto r, c.OpenFile(0, id, id));
  std::string out;
  uint8_t buf[4096];
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t n, r->Read(buf));
    if (n == 0) break;
    out.append(reinterpret_cast<char*>(buf), n);
  }
  return out;
}

// The recorded request heads whose request line starts with `method` and
// contains `needle`, lower-cased.
std::vector<std::string> Heads(const FaultProxy& proxy,
                               const std::string& method,
                               const std::string& needle = "") {
  std::vector<std::string> out;
  for (const std::string& h : proxy.request_heads()) {
    std::string line = h.substr(0, h.find("\r\n"));
    if (line.rfind(method + " ", 0) != 0) continue;
    if (!needle.empty() && line.find(needle) == std::string::npos) continue;
    out.push_back(Lower(h));
  }
  return out;
}

bool HasHeader(const std::string& lower_head, const std::string& name,
               const std::string& value) {
  return lower_head.find("\r\n" + Lower(name) + ": " + Lower(value) + "\r\n") !=
             std::string::npos ||
         lower_head.ends_with("\r\n" + Lower(name) + ": " + Lower(value));
}

// A ListObjectsV2 answer for prefix db/0000/ holding `contents`.
std::string Listing(const std::string& contents) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>"
      "<Name>headers</Name><Prefix>db/0000/</Prefix>"
      "<IsTruncated>false</IsTruncated>" +
      contents + "</ListBucketResult>";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::string Entry(const std::string& key, const std::string& size = "100") {
  return "<Contents><Key>" + key + "</Key><Size>" + size +
         "</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
         "</Contents>";
}

class S3HeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = S3rver::Start("headers", &error);
    if (!server_) GTEST_SKIP() << error;
    proxy_ = std::make_unique<FaultProxy>(server_->port(), FaultRates{});
  }

  // Settings as the config loader would fill them, through the backend
  // table (storage/registry.h).
  storage::ReplicaSettings Settings(const std::string& path) {
    storage::ReplicaSettings s;
    s.type = "s3";
    s.bucket = "headers";
    s.path = path;
    s.endpoint = proxy_->endpoint();
    s.force_path_style = true;
    s.access_key_id = "S3RVER";
    s.secret_access_key = kSecret;
    s.part_size = 5 << 20;
    return s;
  }

  std::unique_ptr<storage::ReplicaClient> Client(storage::ReplicaSettings s) {
    auto c = storage::NewReplicaClient(std::move(s));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<S3rver> server_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(S3HeadersTest, StorageClassAndSseS3OnEveryWrite) {
  storage::ReplicaSettings s = Settings("sse-s3");
  s.storage_class = "STANDARD_IA";
  s.sse = "AES256";
  auto client = Client(s);
  ASSERT_NE(client, nullptr);
  const std::string small = Bytes(1000, 1);
  const std::string large = Bytes((5 << 20) + 12345, 2);  // multipart
  ASSERT_TRUE(Put(*client, 1, small).ok());
  ASSERT_TRUE(Put(*client, 2, large).ok());
  EXPECT_EQ(*Get(*client, 1), small);
  EXPECT_EQ(*Get(*client, 2), large);

  auto creates = Heads(*proxy_, "PUT", "0000000000000001.ltx");
  auto initiate = Heads(*proxy_, "POST", "?uploads");
  ASSERT_EQ(creates.size(), 1u);
  ASSERT_EQ(initiate.size(), 1u);
  creates.push_back(initiate[0]);
  for (const std::string& h : creates) {
    EXPECT_TRUE(HasHeader(h, "x-amz-storage-class", "STANDARD_IA")) << h;
    EXPECT_TRUE(HasHeader(h, "x-amz-server-side-encryption", "AES256")) << h;
    // Signed, so a proxy cannot strip them unnoticed.
    EXPECT_NE(h.find("x-amz-server-side-encryption;x-amz-storage-class"),
              std::string::npos)
        << h;
  }
}

TEST_F(S3HeadersTest, SseKmsWithKeyId) {
  storage::ReplicaSettings s = Settings("sse-kms");
  s.sse_kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/abcd";
  auto client = Client(s);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(Put(*client, 1, "kms").ok());
  auto puts = Heads(*proxy_, "PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_TRUE(HasHeader(puts[0], "x-amz-server-side-encryption", "aws:kms"))
      << puts[0];
  EXPECT_TRUE(HasHeader(puts[0], "x-amz-server-side-encryption-aws-kms-key-id",
                        "arn:aws:kms:us-east-1:111122223333:key/abcd"))
      << puts[0];
}

TEST_F(S3HeadersTest, SseCustomerKeyOnPutGetHeadAndParts) {
  storage::ReplicaSettings s = Settings("sse-c");
  s.sse_customer_algorithm = "AES256";
  s.sse_customer_key = kCustomerKey;
  auto client = Client(s);
  ASSERT_NE(client, nullptr);
  const std::string small = Bytes(2000, 3);
  const std::string large = Bytes((5 << 20) + 1, 4);
  ASSERT_TRUE(Put(*client, 1, small).ok());
  ASSERT_TRUE(Put(*client, 2, large).ok());
  EXPECT_EQ(*Get(*client, 1), small);
  EXPECT_EQ(*Get(*client, 2), large);
  // A second client lists (HEADs for timestamps it has not seen).
  auto other = Client(s);
  auto files = other->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 2u);

  const std::string key_b64 = Lower(storage::s3::Base64Encode(
      {reinterpret_cast<const uint8_t*>(kCustomerKey), 32}));
  const std::string md5_b64 = Lower(storage::s3::Md5Base64(kCustomerKey));
  std::vector<std::string> need;
  for (const char* m : {"PUT", "GET", "HEAD"}) {
    for (auto& h : Heads(*proxy_, m)) {
      if (h.find("?list-type") != std::string::npos) continue;  // listing
      need.push_back(h);
    }
  }
  auto initiate = Heads(*proxy_, "POST", "?uploads");
  need.insert(need.end(), initiate.begin(), initiate.end());
  // 1 PUT + 2 parts, 2 GETs, 2 HEADs, 1 initiate at least.
  ASSERT_GE(need.size(), 8u);
  EXPECT_EQ(Heads(*proxy_, "PUT", "partnumber").size() +
                Heads(*proxy_, "PUT", "partNumber").size(),
            2u);
  for (const std::string& h : need) {
    EXPECT_TRUE(HasHeader(h, "x-amz-server-side-encryption-customer-algorithm",
                          "AES256"))
        << h;
    EXPECT_TRUE(
        HasHeader(h, "x-amz-server-side-encryption-customer-key", key_b64))
        << h;
    EXPECT_TRUE(
        HasHeader(h, "x-amz-server-side-encryption-customer-key-md5", md5_b64))
        << h;
  }
  // The key is in no message: Describe, and an error from the store.
  EXPECT_EQ(client->Describe().find("CustomerKey"), std::string::npos);
  proxy_->set_canned_response(
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: "
      "close\r\n\r\n");
  Status st = Put(*client, 3, "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("CustomerKey"), std::string::npos)
      << st.message();
  EXPECT_EQ(Lower(st.message()).find(key_b64), std::string::npos)
      << st.message();
}

TEST_F(S3HeadersTest, BadEncryptionSettingsAreRefusedWithoutTheKey) {
  storage::ReplicaSettings s = Settings("bad");
  s.sse_customer_key = "short-SecretValue";
  auto c = storage::NewReplicaClient(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("32 bytes"), std::string::npos);
  EXPECT_EQ(c.status().message().find("SecretValue"), std::string::npos);

  s = Settings("bad");
  s.sse = "AES256";
  s.sse_customer_key = kCustomerKey;
  c = storage::NewReplicaClient(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cannot be combined"), std::string::npos)
      << c.status().message();

  s = Settings("bad");
  s.endpoint = "http://user:PassSecret@127.0.0.1:1";
  c = storage::NewReplicaClient(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("carries credentials"), std::string::npos)
      << c.status().message();
  EXPECT_EQ(c.status().message().find("PassSecret"), std::string::npos)
      << c.status().message();
}

storage::s3::S3Options FastOptions(const std::string& endpoint) {
  storage::s3::S3Options o;
  o.bucket = "headers";
  o.path = "db";
  o.endpoint = endpoint;
  o.access_key_id = "S3RVER";
  o.secret_access_key = kSecret;
  o.retry.max_attempts = 3;
  o.retry.backoff_base = std::chrono::milliseconds(5);
  o.retry.backoff_max = std::chrono::milliseconds(50);
  o.stall_timeout = std::chrono::milliseconds(1000);
  return o;
}

// A store that answers every page with the same continuation token would
// be listed forever; the client stops at the repeat and says where.
TEST_F(S3HeadersTest, RepeatedContinuationTokenIsAnError) {
  auto c = storage::s3::NewS3ReplicaClient(FastOptions(proxy_->endpoint()));
  ASSERT_TRUE(c.ok());
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>"
      "<Name>headers</Name><Prefix>db/0000/</Prefix><KeyCount>1</KeyCount>"
      "<IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>SAME</NextContinuationToken>"
      "<Contents><Key>db/0000/0000000000000001-0000000000000001.ltx</Key>"
      "<Size>3</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
      "</Contents></ListBucketResult>";
  proxy_->set_canned_response(
      "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  auto start = std::chrono::steady_clock::now();
  auto files = (*c)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_NE(files.status().message().find("s3://headers/db/0000/"),
            std::string::npos)
      << files.status().message();
  EXPECT_NE(files.status().message().find("repeated continuation token"),
            std::string::npos)
      << files.status().message();
  EXPECT_EQ(proxy_->counts().requests, 2u);
}

// A server that sends the headers and a few bytes, then stalls, every time:
// the reader's retry budget is not renewed by those bytes, so it ends.
TEST_F(S3HeadersTest, FewBytesThenStallEndsTheReader) {
  auto c = storage::s3::NewS3ReplicaClient(FastOptions(proxy_->endpoint()));
  ASSERT_TRUE(c.ok());
  const std::string data = Bytes(100000, 5);
  ASSERT_TRUE(Put(**c, 1, data).ok());
  FaultRates rates;
  rates.dribble = 1.0;
  rates.stall_time = std::chrono::milliseconds(2500);
  proxy_->set_rates(rates);
  auto start = std::chrono::steady_clock::now();
  auto got = Get(**c, 1);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), base::Code::kUnavailable);
  EXPECT_NE(got.status().message().find("gave up after 3 failed attempts"),
            std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find(
                "s3://headers/db/0000/0000000000000001-0000000000000001.ltx"),
            std::string::npos)
      << got.status().message();
  // 3 attempts of ~1-2 s each (curl's stall detection has 1 s granularity).
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  EXPECT_GE(proxy_->counts().dribble, 3u);
  proxy_->set_rates(FaultRates{});
}

// Keys that are not a canonical LTX name directly under the level prefix
// (parent references, other prefixes, sub-"directories", upper case, other
// suffixes, junk) are never listed as files; only the one good key is.
TEST_F(S3HeadersTest, JunkAndDotDotKeysInAListingAreSkipped) {
  proxy_->set_canned_response(Listing(
      Entry("db/0000/0000000000000001-0000000000000001.ltx") +
      Entry("db/0000/../0000000000000002-0000000000000002.ltx") +
      Entry("db/0000/../../../etc/0000000000000003-0000000000000003.ltx") +
      Entry("other/0000/0000000000000004-0000000000000004.ltx") +
      Entry("xx/0000/0000000000000012-0000000000000012.ltx") +
      Entry("db/0000/0000000000000005-0000000000000005.LTX") +
      Entry("db/0000/0000000000000006-000000000000000A.ltx") +
      Entry("db/0000/sub/0000000000000007-0000000000000007.ltx") +
      Entry("db/0000/0000000000000008-0000000000000008.ltx.tmp") +
      Entry("db/0000/%2e%2e%2f0000000000000009-0000000000000009.ltx") +
      Entry("db/0000/0000000000000011-0000000000000010.ltx") +
      Entry("db/0000/") + Entry("") + Entry("db/0000/junk") +
      Entry("db/0000/\x01\x02\xff") + Entry(std::string(5000, 'k')) +
      "<Contents><Size>7</Size></Contents><Contents/>"));
  auto client =
      storage::s3::NewS3ReplicaClient(FastOptions(proxy_->endpoint()));
  ASSERT_TRUE(client.ok());
  auto files = (*client)->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].min_txid, 1u);
  EXPECT_EQ((*files)[0].max_txid, 1u);
  EXPECT_EQ((*files)[0].size, 100);
}

// A listed size that is not a byte count (negative, junk, past int64) is
// refused naming the key: a restore would otherwise read with a bound that
// is not one.
TEST_F(S3HeadersTest, ListedSizeThatIsNotAByteCountIsRefused) {
  const std::string key = "db/0000/0000000000000001-0000000000000001.ltx";
  for (const char* size : {"-5", "", "12abc", "0x10", "99999999999999999999"}) {
    SCOPED_TRACE(size);
    proxy_->set_canned_response(Listing(Entry(key, size)));
    auto client =
        storage::s3::NewS3ReplicaClient(FastOptions(proxy_->endpoint()));
    ASSERT_TRUE(client.ok());
    auto files = (*client)->ListFiles(0);
    ASSERT_FALSE(files.ok());
    EXPECT_EQ(files.status().code(), base::Code::kCorrupt);
    EXPECT_NE(files.status().message().find(key), std::string::npos)
        << files.status().message();
    EXPECT_NE(files.status().message().find("without a valid size"),
              std::string::npos)
        << files.status().message();
  }
}

}  // namespace
}  // namespace litekeep::testing
