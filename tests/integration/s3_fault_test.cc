// The S3 client under injected faults: a proxy between it and s3rver
// answers 503 SlowDown and 500, delays and stalls responses, resets
// connections and truncates bodies. Every operation must still succeed
// (retries) and every byte read back must be exact; when the faults stop,
// the client works without retries.
#include <gtest/gtest.h>

#include <random>

#include "storage/s3/client.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using storage::FileInfo;

constexpr char kSecret[] = "wJalrXUtnFEMI-never-printed";

std::string Bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class S3FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = S3rver::Start("faults", &error);
    if (!server_) GTEST_SKIP() << error;
  }

  std::unique_ptr<storage::ReplicaClient> Client(const std::string& endpoint) {
    storage::s3::S3Options o;
    o.bucket = "faults";
    o.path = "db";
    o.endpoint = endpoint;
    o.access_key_id = "S3RVER";
    o.secret_access_key = kSecret;  // s3rver accepts any secret
    o.part_size = 5 << 20;
    o.retry.max_attempts = 12;
    o.retry.backoff_base = std::chrono::milliseconds(5);
    o.retry.backoff_max = std::chrono::milliseconds(100);
    o.stall_timeout = std::chrono::milliseconds(1000);
    auto c = storage::s3::NewS3ReplicaClient(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

  std::unique_ptr<S3rver> server_;
};

Status Put(storage::ReplicaClient& c, int level, TxId id,
           const std::string& data) {
  FileInfo f{level, id, id, static_cast<int64_t>(data.size()), Clock::now()};
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(f, r);
}

Result<std::string> Get(storage::ReplicaClient& c, int level, TxId id,
                        int64_t offset = 0, int64_t length = -1) {
  LK_ASSIGN_OR_RETURN(auto r, c.OpenFile(level, id, id, offset, length));
  std::string out;
  uint8_t buf[7000];  // odd size: resumes land mid-buffer
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t n, r->Read(buf));
    if (n == 0) break;
    out.append(reinterpret_cast<char*>(buf), n);
  }
  return out;
}

TEST_F(S3FaultTest, RetriesKeepDataExact) {
  FaultRates rates;
  rates.slow_down_503 = 0.08;
  rates.internal_500 = 0.06;
  rates.delay = 0.05;
  rates.stall = 0.02;
  rates.reset = 0.06;
  rates.truncate = 0.08;
  rates.delay_time = std::chrono::milliseconds(50);
  rates.stall_time = std::chrono::milliseconds(2500);
  FaultProxy proxy(server_->port(), rates, 12345);
  auto client = Client(proxy.endpoint());

  // Small files, a few large (multipart) ones.
  std::map<TxId, std::string> files;
  for (TxId id = 1; id <= 40; ++id) {
    size_t size = id % 13 == 0 ? (11u << 20) + static_cast<size_t>(id)
                               : 1000 + static_cast<size_t>(id) * 997;
    files[id] = Bytes(size, id);
  }
  for (const auto& [id, data] : files) {
    Status st = Put(*client, 0, id, data);
    ASSERT_TRUE(st.ok()) << "put " << id << ": " << st.ToString();
  }
  auto listed = client->ListFiles(0);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), files.size());
  for (size_t i = 0; i < listed->size(); ++i) {
    const auto& f = (*listed)[i];
    EXPECT_EQ(f.size, static_cast<int64_t>(files[f.min_txid].size()));
  }
  for (const auto& [id, data] : files) {
    auto got = Get(*client, 0, id);
    ASSERT_TRUE(got.ok()) << "get " << id << ": " << got.status().ToString();
    EXPECT_TRUE(*got == data)
        << "content of " << id << " differs (" << got->size() << " vs "
        << data.size() << " bytes)";
    auto part = Get(*client, 0, id, 100, 5000);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    EXPECT_EQ(*part, data.substr(100, 5000));
  }
  std::vector<FileInfo> to_delete(listed->begin(), listed->begin() + 10);
  ASSERT_TRUE(client->DeleteFiles(to_delete).ok());

  FaultCounts c = proxy.counts();
  std::printf(
      "fault proxy: %llu requests, 503=%llu 500=%llu delay=%llu stall=%llu "
      "reset=%llu truncate=%llu\n",
      (unsigned long long)c.requests, (unsigned long long)c.slow_down_503,
      (unsigned long long)c.internal_500, (unsigned long long)c.delay,
      (unsigned long long)c.stall, (unsigned long long)c.reset,
      (unsigned long long)c.truncate);
  EXPECT_GT(c.slow_down_503, 0u);
  EXPECT_GT(c.internal_500, 0u);
  EXPECT_GT(c.reset, 0u);
  EXPECT_GT(c.truncate, 0u);
  EXPECT_GT(c.stall, 0u);

  // Faults stop: everything works and no request is repeated.
  proxy.set_rates(FaultRates{});
  auto before = client->request_counts();
  auto after_delete = client->ListFiles(0);
  ASSERT_TRUE(after_delete.ok());
  EXPECT_EQ(after_delete->size(), files.size() - 10);
  for (const auto& f : *after_delete) {
    auto got = Get(*client, 0, f.min_txid);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got == files[f.min_txid]);
  }
  auto now = client->request_counts();
  EXPECT_EQ(now.list - before.list, 1u);
  EXPECT_EQ(now.get - before.get, after_delete->size());
}

TEST_F(S3FaultTest, PersistentFailureIsUnavailableNamingTheObject) {
  FaultRates rates;
  rates.slow_down_503 = 1.0;
  FaultProxy proxy(server_->port(), rates);
  storage::s3::S3Options o;
  auto client = Client(proxy.endpoint());
  Status st = Put(*client, 0, 1, "abc");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), base::Code::kUnavailable);
  EXPECT_NE(st.message().find(
                "s3://faults/db/0000/0000000000000001-0000000000000001.ltx"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("SlowDown"), std::string::npos) << st.message();
  EXPECT_EQ(proxy.counts().requests, 12u);
}

std::string Canned(int status, const std::string& reason,
                   const std::string& code,
                   const std::string& extra_header = "") {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
      "</Code><Message>canned</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\n" + extra_header +
         "Content-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// Permanent store errors stop at once (one request) with a message naming
// the bucket, the key id and what to check — never the secret.
TEST_F(S3FaultTest, PermanentErrorsSayWhatToCheck) {
  FaultProxy proxy(server_->port(), FaultRates{});
  struct Case {
    std::string response;
    base::Code code;
    std::string must_say;
  };
  const Case cases[] = {
      {Canned(403, "Forbidden", "InvalidAccessKeyId"),
       base::Code::kPermissionDenied, "AWS_ACCESS_KEY_ID"},
      {Canned(403, "Forbidden", "SignatureDoesNotMatch"),
       base::Code::kPermissionDenied, "secret access key"},
      {Canned(403, "Forbidden", "AccessDenied"), base::Code::kPermissionDenied,
       "permissions"},
      {Canned(403, "Forbidden", "RequestTimeTooSkewed"),
       base::Code::kFailedPrecondition, "system time"},
      {Canned(301, "Moved Permanently", "PermanentRedirect",
              "x-amz-bucket-region: eu-west-3\r\n"),
       base::Code::kFailedPrecondition, "region: eu-west-3"},
      {Canned(404, "Not Found", "NoSuchBucket"),
       base::Code::kFailedPrecondition, "does not exist"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.must_say);
    proxy.set_canned_response(c.response);
    auto client = Client(proxy.endpoint());
    uint64_t before = proxy.counts().requests;
    Status st = Put(*client, 0, 1, "abc");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), c.code) << st.message();
    EXPECT_EQ(proxy.counts().requests - before, 1u)
        << "a permanent error was retried";
    EXPECT_NE(st.message().find("faults"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.must_say), std::string::npos) << st.message();
    if (c.code == base::Code::kPermissionDenied) {
      EXPECT_NE(st.message().find("S3RVER"), std::string::npos)
          << "names the key id";
    }
    EXPECT_EQ(st.message().find(kSecret), std::string::npos) << st.message();
    auto listed = client->ListFiles(0);
    EXPECT_FALSE(listed.ok());
  }
}

}  // namespace
}  // namespace litekeep::testing
