// S3 backend against a real S3-compatible server (s3rver on 127.0.0.1):
// the ReplicaClient conformance suite, the object layout, request counting,
// and the errors a user sees for a missing bucket, an unreachable endpoint
// and bad options.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "storage/s3/client.h"
#include "storage/s3/keys.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using storage::FileInfo;
using storage::s3::NewS3ReplicaClient;
using storage::s3::S3Options;

constexpr char kBucket[] = "litekeep-test";

// One s3rver for the whole binary, started on first use.
S3rver* SharedServer() {
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

S3Options BaseOptions(const std::string& path) {
  S3Options o;
  o.bucket = kBucket;
  o.path = path;
  o.endpoint = SharedServer()->endpoint();
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  o.part_size = 5 << 20;
  o.retry.backoff_base = std::chrono::milliseconds(20);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  // s3rver answers 500 to some concurrent deletes in one folder; allow for
  // several rounds of that in the 1100-key DeleteAll.
  o.retry.max_attempts = 12;
  return o;
}

std::unique_ptr<storage::ReplicaClient> MakeClient(const std::string& path) {
  if (SharedServer() == nullptr) return nullptr;
  auto c = NewS3ReplicaClient(BaseOptions(path));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// Stores objects under raw keys "<path>/<level:04x>/<name>" with the AWS SDK
// for JavaScript, bypassing litekeep's client.
void PutNamed(const std::string& path, int level,
              const std::vector<std::pair<std::string, std::string>>& objects) {
  ASSERT_NE(SharedServer(), nullptr);
  TempDir dir;
  const std::string script = dir.Join("put.js");
  std::ofstream(script) << R"JS(
const path = require("path");
const { S3Client, PutObjectCommand } =
    require(path.join(process.argv[2], "@aws-sdk/client-s3"));
(async () => {
  const s3 = new S3Client({ endpoint: process.argv[3], region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  for (let i = 5; i + 1 < process.argv.length; i += 2) {
    await s3.send(new PutObjectCommand({ Bucket: process.argv[4], Key: process.argv[i],
                                         Body: process.argv[i + 1] }));
  }
})().catch((e) => { console.error(e); process.exit(1); });
)JS";
  std::vector<std::string> argv = {"node", script, NpmModulesDir(),
                                   SharedServer()->endpoint(), kBucket};
  for (const auto& [name, bytes] : objects) {
    argv.push_back(storage::s3::LevelPrefix(path, level) + name);
    argv.push_back(bytes);
  }
  auto result = litekeep::testing::Run(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

ReplicaBackend S3Backend() {
  ReplicaBackend b{"s3rver", [] { return MakeClient("conformance/db"); },
                   12 << 20};
  b.put_named = [](int level, const auto& objects) {
    PutNamed("conformance/db", level, objects);
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(S3, ReplicaConformanceTest,
                         ::testing::Values(S3Backend()), ReplicaBackendName);

Status WriteBytes(storage::ReplicaClient& c, int level, TxId min, TxId max,
                  const std::string& data, TimePoint created = Clock::now()) {
  FileInfo f{level, min, max, static_cast<int64_t>(data.size()), created};
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(f, r);
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedServer() == nullptr) GTEST_SKIP() << "s3rver not available";
  }
};

// The keys are Litestream 0.5's: <path>/<level:04x>/<min:016x>-<max:016x>.ltx.
TEST_F(S3ClientTest, ObjectLayoutMatchesLitestream) {
  auto c = MakeClient("layout/db");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  ASSERT_TRUE(WriteBytes(*c, 0, 1, 1, "zero").ok());
  ASSERT_TRUE(WriteBytes(*c, 9, 1, 0xab, "snapshot").ok());
  ASSERT_TRUE(WriteBytes(*c, 10, 2, 3, "ten").ok());
  EXPECT_EQ(storage::s3::ObjectKey("layout/db", 10, 2, 3),
            "layout/db/000a/0000000000000002-0000000000000003.ltx");
  // s3rver keeps each object as a file under
  // <data>/<bucket>/<key>._S3rver_object.
  const std::string root =
      SharedServer()->data_dir() + "/" + kBucket + "/layout/db/";
  EXPECT_TRUE(std::filesystem::exists(
      root + "0000/0000000000000001-0000000000000001.ltx._S3rver_object"))
      << "objects under " << root;
  EXPECT_TRUE(std::filesystem::exists(
      root + "0009/0000000000000001-00000000000000ab.ltx._S3rver_object"));
  EXPECT_TRUE(std::filesystem::exists(
      root + "000a/0000000000000002-0000000000000003.ltx._S3rver_object"));
}

TEST_F(S3ClientTest, CountsRequestsByKind) {
  auto c = MakeClient("counts/db");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  auto before = c->request_counts();
  ASSERT_TRUE(WriteBytes(*c, 0, 1, 1, "x").ok());
  ASSERT_TRUE(WriteBytes(*c, 0, 2, 2, "y").ok());
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  auto r = c->OpenFile(0, 1, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAllOrFail(**r), "x");
  ASSERT_TRUE(c->DeleteFiles(*files).ok());
  auto after = c->request_counts();
  EXPECT_EQ(after.put - before.put, 2u);
  EXPECT_EQ(after.list - before.list, 1u);
  EXPECT_EQ(after.head - before.head, 0u)
      << "files this client wrote need no HEAD";
  EXPECT_EQ(after.get - before.get, 1u);
  // One DeleteObjects batch; s3rver sometimes answers 500 when it deletes
  // the last two objects of a directory at once (ENOENT on scandir), and the
  // retry counts as a second request.
  EXPECT_GE(after.del - before.del, 1u);
  EXPECT_LE(after.del - before.del, 2u);

  // A fresh client HEADs each file once, then remembers.
  ASSERT_TRUE(WriteBytes(*c, 0, 3, 3, "z").ok());
  auto fresh = MakeClient("counts/db");
  ASSERT_TRUE(fresh->ListFiles(0).ok());
  ASSERT_TRUE(fresh->ListFiles(0).ok());
  EXPECT_EQ(fresh->request_counts().head, 1u);
  EXPECT_EQ(fresh->request_counts().list, 2u);
}

TEST_F(S3ClientTest, ListingPagesPastOneThousandKeys) {
  auto c = MakeClient("paging/db");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  constexpr int kFiles = 1100;
  std::atomic<int> next{1};
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) <= kFiles;) {
        if (!WriteBytes(*c, 0, static_cast<TxId>(i), static_cast<TxId>(i), "p")
                 .ok())
          ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto before = c->request_counts();
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), static_cast<size_t>(kFiles));
  for (int i = 0; i < kFiles; ++i)
    EXPECT_EQ((*files)[static_cast<size_t>(i)].min_txid,
              static_cast<TxId>(i + 1));
  EXPECT_EQ(c->request_counts().list - before.list, 2u);
  ASSERT_TRUE(c->DeleteAll().ok());
  auto empty = c->ListFiles(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(S3ClientTest, MissingBucketNamesTheBucket) {
  S3Options o = BaseOptions("db");
  o.bucket = "no-such-bucket";
  auto c = NewS3ReplicaClient(o);
  ASSERT_TRUE(c.ok());
  auto files = (*c)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().code(), base::Code::kUnavailable);
  EXPECT_NE(files.status().message().find("no-such-bucket"), std::string::npos)
      << files.status().message();
  EXPECT_NE(files.status().message().find("NoSuchBucket"), std::string::npos);
  EXPECT_EQ(files.status().message().find("S3RVER\n"), std::string::npos);
}

TEST_F(S3ClientTest, UnreachableEndpointIsUnavailable) {
  S3Options o = BaseOptions("db");
  o.endpoint = "http://127.0.0.1:" + std::to_string(FreePort());
  o.retry.max_attempts = 2;
  o.secret_access_key = "very-secret-value";
  auto c = NewS3ReplicaClient(o);
  ASSERT_TRUE(c.ok());
  auto files = (*c)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kUnavailable);
  EXPECT_NE(files.status().message().find("litekeep-test"), std::string::npos)
      << files.status().message();
  EXPECT_EQ(files.status().message().find("very-secret-value"),
            std::string::npos);
}

TEST_F(S3ClientTest, BadOptionsAreInvalidArgument) {
  S3Options o = BaseOptions("db");
  o.bucket.clear();
  EXPECT_EQ(NewS3ReplicaClient(o).status().code(),
            base::Code::kInvalidArgument);
  o = BaseOptions("db");
  o.endpoint = "ftp://example.com";
  EXPECT_EQ(NewS3ReplicaClient(o).status().code(),
            base::Code::kInvalidArgument);
  o = BaseOptions("db");
  o.secret_access_key.clear();
  auto st = NewS3ReplicaClient(o).status();
  EXPECT_EQ(st.code(), base::Code::kInvalidArgument);
}

TEST_F(S3ClientTest, CredentialChain) {
  TempDir dir;
  const std::string file = dir.Join("credentials");
  std::ofstream(file)
      << "[default]\naws_access_key_id = DEF\naws_secret_access_key = "
         "defsecret\n"
         "[profile "
         "other]\naws_access_key_id=OTHER\naws_secret_access_key=othersecret\n"
         "aws_session_token = tok\n";
  auto clear = [] {
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
          "LITESTREAM_ACCESS_KEY_ID", "LITESTREAM_SECRET_ACCESS_KEY",
          "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"}) {
      ::unsetenv(v);
    }
  };
  clear();
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
  S3Options o;
  o.bucket = "b";
  auto c = storage::s3::ResolveCredentials(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "DEF");
  ::setenv("AWS_PROFILE", "other", 1);
  c = storage::s3::ResolveCredentials(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "OTHER");
  EXPECT_EQ(c->session_token, "tok");
  ::setenv("LITESTREAM_ACCESS_KEY_ID", "LS", 1);
  ::setenv("LITESTREAM_SECRET_ACCESS_KEY", "lssecret", 1);
  c = storage::s3::ResolveCredentials(o);
  EXPECT_EQ(c->access_key_id, "LS");
  ::setenv("AWS_ACCESS_KEY_ID", "AWS", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "awssecret", 1);
  c = storage::s3::ResolveCredentials(o);
  EXPECT_EQ(c->access_key_id, "AWS");
  o.access_key_id = "CFG";
  o.secret_access_key = "cfgsecret";
  c = storage::s3::ResolveCredentials(o);
  EXPECT_EQ(c->access_key_id, "CFG");
  clear();
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", dir.Join("none").c_str(), 1);
  S3Options none;
  none.bucket = "b";
  auto missing = storage::s3::ResolveCredentials(none);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AWS_ACCESS_KEY_ID"),
            std::string::npos);
  clear();
}

// If-None-Match: s3rver ignores it, so the content check after a 412 cannot
// run here; what we can check is that the header does not break uploads.
TEST_F(S3ClientTest, IfNoneMatchFlagStillWrites) {
  S3Options o = BaseOptions("ifnonematch/db");
  o.if_none_match = true;
  auto c = NewS3ReplicaClient(o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->DeleteAll().ok());
  ASSERT_TRUE(WriteBytes(**c, 0, 1, 1, "abc").ok());
  auto files = (*c)->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
}

// An independent client (the AWS SDK for JavaScript) lists and downloads
// what litekeep wrote: keys, sizes, contents and the timestamp metadata.
TEST_F(S3ClientTest, AwsSdkForJavaScriptReadsWhatWeWrote) {
  auto c = MakeClient("sdk/db");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  struct Obj {
    int level;
    TxId min, max;
    std::string data;
  };
  std::vector<Obj> objs;
  std::mt19937_64 rng(5);
  for (int i = 1; i <= 5; ++i) {
    std::string d(static_cast<size_t>(100 * i), '\0');
    for (auto& ch : d) ch = static_cast<char>(rng());
    objs.push_back({0, static_cast<TxId>(i), static_cast<TxId>(i), d});
  }
  std::string big(11 << 20, '\0');
  for (auto& ch : big) ch = static_cast<char>(rng());
  objs.push_back({9, 1, 5, big});
  const TimePoint created = TimePoint(std::chrono::milliseconds(1700000000123));
  for (const auto& o : objs)
    ASSERT_TRUE(WriteBytes(*c, o.level, o.min, o.max, o.data, created).ok());

  TempDir dir;
  const std::string script = dir.Join("list.js");
  std::ofstream(script) << R"JS(
const path = require("path");
const crypto = require("crypto");
const { S3Client, ListObjectsV2Command, GetObjectCommand, HeadObjectCommand } =
    require(path.join(process.argv[2], "@aws-sdk/client-s3"));
(async () => {
  const s3 = new S3Client({ endpoint: process.argv[3], region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  const out = [];
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: process.argv[4], Prefix: "sdk/db/", ContinuationToken: token }));
    for (const o of page.Contents || []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: process.argv[4], Key: o.Key }));
      const bytes = Buffer.from(await got.Body.transformToByteArray());
      const head = await s3.send(new HeadObjectCommand({ Bucket: process.argv[4], Key: o.Key }));
      out.push([o.Key, o.Size, bytes.length, crypto.createHash("sha256").update(bytes).digest("hex"),
                (head.Metadata || {})["litestream-timestamp"] || ""].join(" "));
    }
    token = page.NextContinuationToken;
  } while (token);
  console.log(out.sort().join("\n"));
})().catch((e) => { console.error(e); process.exit(1); });
)JS";
  auto result = litekeep::testing::Run(
      {"node", script, NpmModulesDir(), SharedServer()->endpoint(), kBucket});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> want;
  for (const auto& o : objs) {
    std::string size = std::to_string(o.data.size());
    want.push_back(storage::s3::ObjectKey("sdk/db", o.level, o.min, o.max) +
                   " " + size + " " + size + " " + Sha256Hex(o.data) +
                   " 2023-11-14T22:13:20.123Z");
  }
  std::sort(want.begin(), want.end());
  std::string joined;
  for (const auto& w : want) joined += w + "\n";
  EXPECT_EQ(result.out, joined);
}

}  // namespace
}  // namespace litekeep::testing
