// Azure Blob backend against a real Azurite on 127.0.0.1 (strict: it checks
// Shared Key and SAS signatures, conditions and Content-MD5): the
// ReplicaClient conformance suite with Shared Key and with a SAS token,
// block uploads, paged listings, conditional writes, the errors a user sees
// (wrong key, read-only SAS, missing container, a store that repeats its
// marker), faults injected by a proxy, and no credential in any message.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "base/io.h"
#include "storage/abs/client.h"
#include "storage/layout.h"
#include "storage/s3/sigv4.h"
#include "tests/support/azurite.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using storage::FileInfo;
using storage::abs::AbsOptions;
using storage::abs::NewAbsReplicaClient;

constexpr char kContainer[] = "litekeep-test";

// One Azurite for the whole binary, started on first use.
Azurite* SharedServer() {
  static std::unique_ptr<Azurite> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = Azurite::Start(kContainer, &error);
    if (!server) {
      std::fprintf(stderr, "azurite unavailable: %s\n", error.c_str());
    }
  }
  return server.get();
}

std::string UniquePath(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(n.fetch_add(1));
}

std::unique_ptr<storage::ReplicaClient> MustOpen(const AbsOptions& o) {
  auto c = NewAbsReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

AbsOptions SmallBlocks(const std::string& path) {
  AbsOptions o = SharedServer()->Options(path);
  o.block_size = 1 << 20;  // 12 MiB -> 12 blocks
  return o;
}

void PutNamed(const std::string& path, int level,
              const std::vector<std::pair<std::string, std::string>>& objs) {
  for (const auto& [name, bytes] : objs) {
    std::string blob = storage::LtxLevelDir(path, level) + "/" + name;
    ASSERT_EQ(SharedServer()->RawRequest("PUT", blob, bytes,
                                         {{"x-ms-blob-type", "BlockBlob"}}),
              201)
        << blob;
  }
}

ReplicaBackend SharedKeyBackend() {
  const std::string path = UniquePath("conf");
  ReplicaBackend b{"azurite_shared_key", [path]() {
                     if (SharedServer() == nullptr) {
                       return std::unique_ptr<storage::ReplicaClient>();
                     }
                     return MustOpen(SmallBlocks(path));
                   }};
  b.put_named = [path](int level, const auto& objs) {
    PutNamed(path, level, objs);
  };
  return b;
}

ReplicaBackend SasBackend() {
  const std::string path = UniquePath("sas");
  ReplicaBackend b{"azurite_sas", [path]() {
                     if (SharedServer() == nullptr) {
                       return std::unique_ptr<storage::ReplicaClient>();
                     }
                     AbsOptions o = SmallBlocks(path);
                     o.auth = storage::abs::Auth::kSas;
                     o.account_key.clear();
                     o.sas_token = AccountSas(kAzuriteAccount, kAzuriteKey,
                                              "rwdlac", "2099-01-01T00:00:00Z");
                     return MustOpen(o);
                   }};
  b.put_named = [path](int level, const auto& objs) {
    PutNamed(path, level, objs);
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Abs, ReplicaConformanceTest,
                         ::testing::Values(SharedKeyBackend(), SasBackend()),
                         ReplicaBackendName);

class AbsReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedServer() == nullptr) GTEST_SKIP() << "azurite not installed";
  }
};

Status Write(storage::ReplicaClient& c, int level, TxId min, TxId max,
             const std::string& bytes) {
  FileInfo info;
  info.level = level;
  info.min_txid = min;
  info.max_txid = max;
  info.size = static_cast<int64_t>(bytes.size());
  info.created = Clock::now();
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return c.WriteFile(info, r);
}

std::string ReadFileBytes(storage::ReplicaClient& c, int level, TxId min,
                          TxId max, int64_t offset = 0, int64_t length = -1) {
  auto r = c.OpenFile(level, min, max, offset, length);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ReadAllOrFail(**r) : "";
}

// Blocks: a file above the block size goes up as Put Block x N + Put Block
// List, reads back exactly, and carries the whole-blob MD5.
TEST_F(AbsReplicaTest, LargeFileUsesBlocksAndStoresItsMd5) {
  AbsOptions o = SmallBlocks(UniquePath("blocks"));
  o.block_size = 256 << 10;
  auto c = MustOpen(o);
  std::string data(1000000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(Write(*c, 0, 1, 1, data).ok());
  // 4 blocks (3 x 256 KiB + rest) and one block list.
  EXPECT_EQ(c->request_counts().put, 5u);
  EXPECT_EQ(ReadFileBytes(*c, 0, 1, 1), data);
  EXPECT_EQ(ReadFileBytes(*c, 0, 1, 1, 300000, 1000),
            data.substr(300000, 1000));
  // The blob's stored Content-MD5 (sent as x-ms-blob-content-md5 with the
  // block list) is the MD5 of the whole data.
  std::string blob = storage::LtxFilePath(o.path, 0, 1, 1);
  std::vector<std::pair<std::string, std::string>> headers;
  ASSERT_EQ(SharedServer()->RawRequest("HEAD", blob, "", {}, nullptr, &headers),
            200);
  std::string md5;
  for (const auto& [k, v] : headers) {
    if (k == "content-md5") md5 = v;
  }
  EXPECT_EQ(md5, storage::s3::Md5Base64(data));
}

// Azurite checks Content-MD5: a wrong one is refused, so the one the client
// sends on every write is checked by the store.
TEST_F(AbsReplicaTest, StoreChecksContentMd5) {
  std::string body;
  EXPECT_EQ(
      SharedServer()->RawRequest("PUT", UniquePath("md5") + "/x", "hello",
                                 {{"x-ms-blob-type", "BlockBlob"},
                                  {"Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="}},
                                 &body),
      400)
      << body;
  // Azure says Md5Mismatch; Azurite 3.35 InvalidOperation with this text.
  EXPECT_TRUE(body.find("Md5Mismatch") != std::string::npos ||
              body.find("contentMD5 doesn't match") != std::string::npos)
      << body;
}

TEST_F(AbsReplicaTest, ListingFollowsMarkersAndCapsPages) {
  AbsOptions o = SharedServer()->Options(UniquePath("pages"));
  o.list_page_size = 2;
  auto c = MustOpen(o);
  for (TxId t = 1; t <= 7; ++t) ASSERT_TRUE(Write(*c, 1, t, t, "x").ok());
  auto before = c->request_counts().list;
  auto files = c->ListFiles(1);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 7u);
  EXPECT_EQ(c->request_counts().list - before, 4u);  // 2+2+2+1
  for (TxId t = 1; t <= 7; ++t) EXPECT_EQ((*files)[t - 1].min_txid, t);

  o.max_list_pages = 2;
  auto capped = MustOpen(o)->ListFiles(1);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.status().message().find("more than 2 pages"),
            std::string::npos)
      << capped.status().ToString();
}

TEST_F(AbsReplicaTest, RepeatedMarkerIsAnErrorNotALoop) {
  FaultProxy proxy(SharedServer()->port(), FaultRates{});
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults>"
      "<Blobs><Blob><Name>p/ltx/0/0000000000000001-0000000000000001.ltx</Name>"
      "<Properties><Content-Length>1</Content-Length></Properties></Blob>"
      "</Blobs><NextMarker>same</NextMarker></EnumerationResults>";
  proxy.set_canned_response(
      "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
      std::to_string(xml.size()) + "\r\nConnection: close\r\n\r\n" + xml);
  AbsOptions o = SharedServer()->Options("p");
  o.endpoint = proxy.endpoint() + "/" + kAzuriteAccount;
  auto files = MustOpen(o)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("repeated marker"), std::string::npos)
      << files.status().ToString();
}

// If-None-Match: * (create-only): Azurite refuses to replace a blob; the
// client accepts an identical blob and refuses a different one.
TEST_F(AbsReplicaTest, CreateOnlyWritesAcceptSameContentOnly) {
  for (int64_t block : {int64_t{4} << 20, int64_t{64} << 10}) {
    AbsOptions o = SharedServer()->Options(UniquePath("cond"));
    o.if_none_match = true;
    o.block_size = block;
    auto c = MustOpen(o);
    std::string a(200000, 'a');
    ASSERT_TRUE(Write(*c, 0, 5, 5, a).ok());
    EXPECT_TRUE(Write(*c, 0, 5, 5, a).ok()) << "same content is accepted";
    std::string b(200000, 'b');
    Status s = Write(*c, 0, 5, 5, b);
    EXPECT_EQ(s.code(), base::Code::kAlreadyExists) << s.ToString();
    EXPECT_EQ(ReadFileBytes(*c, 0, 5, 5), a) << "never replaced";
  }
}

TEST_F(AbsReplicaTest, WrongKeyIsPermissionDeniedWithoutTheKey) {
  AbsOptions o = SharedServer()->Options(UniquePath("badkey"));
  o.account_key = std::string(64, 'k');
  auto c = MustOpen(o);
  Status s = Write(*c, 0, 1, 1, "x");
  EXPECT_EQ(s.code(), base::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("account-key"), std::string::npos);
  EXPECT_EQ(s.message().find(std::string(64, 'k')), std::string::npos);
  auto l = c->ListFiles(0);
  EXPECT_EQ(l.status().code(), base::Code::kPermissionDenied);
}

TEST_F(AbsReplicaTest, ReadOnlySasCannotWriteAndIsNeverPrinted) {
  const std::string sas =
      AccountSas(kAzuriteAccount, kAzuriteKey, "rl", "2099-01-01T00:00:00Z");
  AbsOptions o = SharedServer()->Options(UniquePath("rosas"));
  o.auth = storage::abs::Auth::kSas;
  o.sas_token = sas;
  auto c = MustOpen(o);
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  Status s = Write(*c, 0, 1, 1, "x");
  EXPECT_EQ(s.code(), base::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("SAS token"), std::string::npos);
  const std::string sig = sas.substr(sas.find("sig=") + 4);
  EXPECT_EQ(s.message().find(sig), std::string::npos);
  EXPECT_EQ(c->Describe().find("sig"), std::string::npos);
  // An expired token is refused too.
  o.sas_token =
      AccountSas(kAzuriteAccount, kAzuriteKey, "rl", "2001-01-01T00:00:00Z");
  EXPECT_EQ(MustOpen(o)->ListFiles(0).status().code(),
            base::Code::kPermissionDenied);
}

TEST_F(AbsReplicaTest, MissingContainerNamesIt) {
  AbsOptions o = SharedServer()->Options("p");
  o.container = "no-such-container";
  auto files = MustOpen(o)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kFailedPrecondition);
  EXPECT_NE(files.status().message().find("no-such-container"),
            std::string::npos)
      << files.status().ToString();
  EXPECT_NE(files.status().message().find("does not exist"), std::string::npos);
}

TEST_F(AbsReplicaTest, UnreachableEndpointIsUnavailableAfterRetries) {
  AbsOptions o = SharedServer()->Options("p");
  o.endpoint = "http://127.0.0.1:" + std::to_string(FreePort()) + "/acct";
  o.retry.max_attempts = 3;
  auto files = MustOpen(o)->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kUnavailable);
  EXPECT_NE(files.status().message().find("gave up after 3"), std::string::npos)
      << files.status().ToString();
}

// Every request through a proxy that answers 503/500, resets connections,
// truncates bodies, answers slowly or stalls mid-body: writes, listings and
// reads still come out exact, every write carried Content-MD5, and no
// request head carries the key.
TEST_F(AbsReplicaTest, FaultsAreRetriedAndNothingIsLost) {
  FaultRates rates;
  rates.slow_down_503 = 0.15;
  rates.internal_500 = 0.05;
  rates.reset = 0.1;
  rates.truncate = 0.1;
  rates.delay = 0.1;     // slow answers
  rates.dribble = 0.03;  // a few bytes, then silence until the stall timeout
  rates.stall_time = std::chrono::milliseconds(2500);
  FaultProxy proxy(SharedServer()->port(), rates, 11);
  AbsOptions o = SharedServer()->Options(UniquePath("faults"));
  o.endpoint = proxy.endpoint() + "/" + kAzuriteAccount;
  o.block_size = 64 << 10;
  o.retry.max_attempts = 20;
  o.stall_timeout = std::chrono::milliseconds(1000);
  auto c = MustOpen(o);
  std::vector<std::string> bodies;
  for (TxId t = 1; t <= 12; ++t) {
    bodies.push_back(std::string(static_cast<size_t>(t) * 30000,
                                 static_cast<char>('a' + t)));
    ASSERT_TRUE(Write(*c, 0, t, t, bodies.back()).ok()) << t;
  }
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 12u);
  for (TxId t = 1; t <= 12; ++t) {
    EXPECT_EQ(ReadFileBytes(*c, 0, t, t), bodies[t - 1]) << t;
  }
  EXPECT_GE(proxy.counts().injected(), 10u);
  const std::string key_b64 = kAzuriteKey;
  for (const std::string& head : proxy.request_heads()) {
    EXPECT_EQ(head.find(key_b64), std::string::npos);
    if (head.rfind("PUT ", 0) == 0) {
      EXPECT_NE(head.find("Content-MD5:"), std::string::npos) << head;
    }
  }
  ASSERT_TRUE(c->DeleteAll().ok());
  EXPECT_TRUE(c->ListFiles(0)->empty());
}

TEST_F(AbsReplicaTest, GenericObjectsListAndOpen) {
  const std::string path = UniquePath("objects");
  ASSERT_EQ(
      SharedServer()->RawRequest("PUT", path + "/generations/a/wal/x", "wal!",
                                 {{"x-ms-blob-type", "BlockBlob"}}),
      201);
  auto c = MustOpen(SharedServer()->Options(path));
  auto objs = c->ListObjects("generations/");
  ASSERT_TRUE(objs.ok()) << objs.status().ToString();
  ASSERT_EQ(objs->size(), 1u);
  EXPECT_EQ((*objs)[0].key, "generations/a/wal/x");
  EXPECT_EQ((*objs)[0].size, 4);
  auto r = c->OpenObject("generations/a/wal/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAllOrFail(**r), "wal!");
  EXPECT_EQ(c->OpenObject("nope").status().code(), base::Code::kNotFound);
}

}  // namespace
}  // namespace litekeep::testing
