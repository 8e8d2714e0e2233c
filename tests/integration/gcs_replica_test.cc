// Google Cloud Storage backend against the GCS JSON-API test server
// (tests/support/gcs_server.py) on 127.0.0.1: the server is first held to
// Google's official Node client (@google-cloud/storage: upload, paged list,
// ranged download, delete, with the same results as litekeep's client); then
// the ReplicaClient conformance suite (unauthenticated as with
// STORAGE_EMULATOR_HOST, and with metadata-server tokens), resumable
// uploads, paged listings, conditional create, Application Default
// Credentials (a service-account JWT the server verifies with the test's
// public key; the metadata server), token refresh, faults (503s, truncated
// bodies, failed resumable chunks), the errors a user sees, and no token or
// key in any message.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/io.h"
#include "base/rfc3339.h"
#include "storage/gcs/client.h"
#include "storage/gcs/options.h"
#include "storage/hash.h"
#include "storage/layout.h"
#include "storage/registry.h"
#include "storage/url.h"
#include "tests/support/gcs_server.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using json = nlohmann::json;
using storage::FileInfo;
using storage::gcs::GcsOptions;
using storage::gcs::NewGcsReplicaClient;

// Sets environment variables for one scope and restores them after.
class ScopedEnv {
 public:
  ScopedEnv& Set(const std::string& name, const std::string& value) {
    Save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
    return *this;
  }
  ScopedEnv& Unset(const std::string& name) {
    Save(name);
    ::unsetenv(name.c_str());
    return *this;
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  void Save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Only the metadata server is left for Application Default Credentials.
void MetadataOnly(ScopedEnv& env, const TempDir& empty, const GcsServer& s) {
  env.Unset("GOOGLE_APPLICATION_CREDENTIALS")
      .Unset("STORAGE_EMULATOR_HOST")
      .Set("CLOUDSDK_CONFIG", empty.path())
      .Set("GCE_METADATA_HOST", s.host());
}

GcsServer* Shared() {
  static std::unique_ptr<GcsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = GcsServer::Start(GcsServer::Config{}, &error);
    if (!server) std::fprintf(stderr, "gcs server: %s\n", error.c_str());
  }
  return server.get();
}

// A server that wants a bearer token on every storage request.
GcsServer* Authed() {
  static std::unique_ptr<GcsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    GcsServer::Config c;
    c.require_token = true;
    c.service_account = true;
    server = GcsServer::Start(c, &error);
    if (!server) std::fprintf(stderr, "gcs server: %s\n", error.c_str());
  }
  return server.get();
}

std::string UniquePath(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(n.fetch_add(1));
}

std::unique_ptr<storage::ReplicaClient> MustOpen(const GcsOptions& o) {
  auto c = NewGcsReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

Status Write(storage::ReplicaClient& c, int level, TxId min, TxId max,
             const std::string& bytes, TimePoint created = Clock::now()) {
  FileInfo info;
  info.level = level;
  info.min_txid = min;
  info.max_txid = max;
  info.size = static_cast<int64_t>(bytes.size());
  info.created = created;
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return c.WriteFile(info, r);
}

std::string ReadBytes(storage::ReplicaClient& c, int level, TxId min, TxId max,
                      int64_t offset = 0, int64_t length = -1) {
  auto r = c.OpenFile(level, min, max, offset, length);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? ReadAllOrFail(**r) : "";
}

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

void PutNamed(GcsServer* s, const std::string& path, int level,
              const std::vector<std::pair<std::string, std::string>>& objs) {
  for (const auto& [name, bytes] : objs) {
    ASSERT_EQ(s->PutRaw(storage::LtxLevelDir(path, level) + "/" + name, bytes),
              200)
        << name;
  }
}

ReplicaBackend AnonymousBackend() {
  const std::string path = UniquePath("conf");
  ReplicaBackend b{"gcs_emulator", [path]() {
                     if (Shared() == nullptr) {
                       return std::unique_ptr<storage::ReplicaClient>();
                     }
                     GcsOptions o = Shared()->Options(path);
                     o.chunk_size = 1 << 20;  // 12 MiB -> 12 chunks
                     return MustOpen(o);
                   }};
  b.put_named = [path](int level, const auto& objs) {
    PutNamed(Shared(), path, level, objs);
  };
  return b;
}

// Conformance with a bearer token from the metadata server on every request
// (GCE_METADATA_HOST set for the whole test binary run of this suite).
ReplicaBackend MetadataBackend() {
  const std::string path = UniquePath("meta");
  ReplicaBackend b{"gcs_metadata_token", [path]() {
                     if (Authed() == nullptr) {
                       return std::unique_ptr<storage::ReplicaClient>();
                     }
                     static TempDir empty;
                     ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
                     ::unsetenv("STORAGE_EMULATOR_HOST");
                     ::setenv("CLOUDSDK_CONFIG", empty.path().c_str(), 1);
                     ::setenv("GCE_METADATA_HOST", Authed()->host().c_str(), 1);
                     GcsOptions o = Authed()->Options(path);
                     o.anonymous = false;
                     o.chunk_size = 1 << 20;
                     return MustOpen(o);
                   }};
  b.put_named = [path](int level, const auto& objs) {
    PutNamed(Authed(), path, level, objs);
  };
  return b;
}

INSTANTIATE_TEST_SUITE_P(Gcs, ReplicaConformanceTest,
                         ::testing::Values(AnonymousBackend(),
                                           MetadataBackend()),
                         ReplicaBackendName);

class GcsReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Shared() == nullptr || Authed() == nullptr) {
      GTEST_SKIP() << "gcs test server cannot run (python3 cryptography)";
    }
  }
};

// Google's Node client and litekeep's client agree about one server: what
// one writes the other lists (paged) and reads (whole and ranged) with the
// same bytes, sizes and metadata, and deletes are seen by both.
TEST_F(GcsReplicaTest, GoogleNodeClientAgreesWithLitekeep) {
  const std::string path = UniquePath("node");
  GcsOptions o = Shared()->Options(path);
  o.chunk_size = 256 << 10;
  auto c = MustOpen(o);
  TempDir dir;

  // litekeep writes a small (multipart) and a large (resumable) file.
  const std::string small = Pattern(5000, 1);
  const std::string large = Pattern(700000, 2);
  const TimePoint created =
      base::ParseRfc3339("2024-05-06T07:08:09.123Z").value();
  ASSERT_TRUE(Write(*c, 0, 1, 1, small, created).ok());
  ASSERT_TRUE(Write(*c, 0, 2, 3, large, created).ok());

  // Google's client uploads one file each way, with Litestream's metadata.
  const std::string node_small = Pattern(3000, 3);
  const std::string node_large = Pattern(900000, 4);
  {
    std::ofstream(dir.Join("ns.bin"), std::ios::binary) << node_small;
    std::ofstream(dir.Join("nl.bin"), std::ios::binary) << node_large;
  }
  const std::string level0 = storage::LtxLevelDir(path, 0) + "/";
  const std::string n4 = level0 + "0000000000000004-0000000000000004.ltx";
  const std::string n5 = level0 + "0000000000000005-0000000000000006.ltx";
  const json meta = {{"litestream-timestamp", "2024-05-06T07:08:10Z"}};
  std::string error;
  json up = Shared()->RunNodeClient(
      json::array({{{"op", "upload"},
                    {"name", n4},
                    {"file", dir.Join("ns.bin")},
                    {"metadata", meta}},
                   {{"op", "upload"},
                    {"name", n5},
                    {"file", dir.Join("nl.bin")},
                    {"metadata", meta},
                    {"resumable", true},
                    {"chunkSize", 262144}},
                   {{"op", "list"}, {"prefix", level0}, {"maxResults", 2}},
                   {{"op", "download"},
                    {"name", storage::LtxFilePath(path, 0, 2, 3)},
                    {"file", dir.Join("whole.bin")}},
                   {{"op", "download"},
                    {"name", storage::LtxFilePath(path, 0, 2, 3)},
                    {"file", dir.Join("range.bin")},
                    {"start", 1000},
                    {"end", 250999}}}),
      &error);
  if (up.is_null() && error.find("missing") != std::string::npos) {
    GTEST_SKIP() << error;
  }
  ASSERT_TRUE(up.is_array()) << error;
  ASSERT_EQ(up.size(), 5u) << up.dump();
  EXPECT_EQ(up[0], json({{"ok", true}})) << up.dump();
  EXPECT_EQ(up[1], json({{"ok", true}})) << up.dump();
  // Node's paged list shows litekeep's files with litekeep's metadata...
  const json& listed = up[2];
  ASSERT_TRUE(listed.is_array()) << up.dump();
  ASSERT_EQ(listed.size(), 4u) << listed.dump();
  EXPECT_EQ(listed[0]["name"], storage::LtxFilePath(path, 0, 1, 1));
  EXPECT_EQ(listed[0]["size"], 5000);
  EXPECT_EQ(listed[0]["md5"], storage::Md5Base64(small));
  EXPECT_EQ(listed[0]["metadata"]["litestream-timestamp"],
            base::FormatRfc3339Nano(created));
  EXPECT_EQ(listed[1]["size"], 700000);
  EXPECT_EQ(listed[1]["md5"], storage::Md5Base64(large));
  // ... and reads litekeep's resumable upload whole and by range.
  EXPECT_EQ(ReadFile(dir.Join("whole.bin")), large);
  EXPECT_EQ(ReadFile(dir.Join("range.bin")), large.substr(1000, 250000));

  // litekeep lists Node's uploads with their sizes and creation times and
  // reads them whole and by range.
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[2].min_txid, 4u);
  EXPECT_EQ((*files)[2].size, 3000);
  EXPECT_EQ((*files)[3].size, 900000);
  EXPECT_EQ((*files)[3].created,
            base::ParseRfc3339("2024-05-06T07:08:10Z").value());
  EXPECT_EQ(ReadBytes(*c, 0, 4, 4), node_small);
  EXPECT_EQ(ReadBytes(*c, 0, 5, 6), node_large);
  EXPECT_EQ(ReadBytes(*c, 0, 5, 6, 1000, 250000),
            node_large.substr(1000, 250000));
  // Both clients list the same names and sizes.
  auto objs = c->ListObjects("ltx/0/");
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), listed.size());
  for (size_t i = 0; i < objs->size(); ++i) {
    EXPECT_EQ(path + "/" + (*objs)[i].key, listed[i]["name"]);
    EXPECT_EQ((*objs)[i].size, listed[i]["size"].get<int64_t>());
  }

  // Deletes: Node deletes one of litekeep's, litekeep one of Node's.
  ASSERT_TRUE(c->DeleteFiles({(*files)[2]}).ok());
  json del = Shared()->RunNodeClient(
      json::array(
          {{{"op", "delete"}, {"name", storage::LtxFilePath(path, 0, 1, 1)}},
           {{"op", "exists"}, {"name", n4}},
           {{"op", "exists"}, {"name", n5}},
           {{"op", "upload"},
            {"name", n5},
            {"file", dir.Join("ns.bin")},
            {"ifGenerationMatch", 0}}}),
      &error);
  ASSERT_TRUE(del.is_array()) << error;
  EXPECT_EQ(del[0], json({{"ok", true}}));
  EXPECT_EQ(del[1], json({{"exists", false}}));
  EXPECT_EQ(del[2], json({{"exists", true}}));
  // The server refuses a create-only upload over an existing object.
  EXPECT_NE(del[3].value("error", "").find("412"), std::string::npos)
      << del.dump();
  auto after = c->ListFiles(0);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].min_txid, 2u);
  EXPECT_EQ((*after)[1].min_txid, 5u);
}

// A large file goes up as a resumable session in chunks and reads back
// exactly; the chunk size bounds each request.
TEST_F(GcsReplicaTest, LargeFileUsesAResumableUpload) {
  GcsOptions o = Shared()->Options(UniquePath("resumable"));
  o.chunk_size = 256 << 10;
  auto c = MustOpen(o);
  const std::string data = Pattern(1000000, 5);
  const json before = Shared()->Stats();
  ASSERT_TRUE(Write(*c, 0, 1, 1, data).ok());
  const json after = Shared()->Stats();
  // One session start, 4 chunks (3 x 256 KiB + rest).
  EXPECT_EQ(c->request_counts().put, 5u);
  EXPECT_EQ(after["resumable_chunks"].get<int>() -
                before["resumable_chunks"].get<int>(),
            4);
  EXPECT_EQ(ReadBytes(*c, 0, 1, 1), data);
  EXPECT_EQ(ReadBytes(*c, 0, 1, 1, 300000, 1000), data.substr(300000, 1000));
}

TEST_F(GcsReplicaTest, ListingFollowsPageTokensAndCapsPages) {
  GcsOptions o = Shared()->Options(UniquePath("pages"));
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

// ifGenerationMatch=0 (create-only): the server refuses to replace an
// object; the client accepts identical content and refuses a different one,
// for multipart and resumable uploads.
TEST_F(GcsReplicaTest, CreateOnlyWritesAcceptSameContentOnly) {
  for (int64_t chunk : {int64_t{8} << 20, int64_t{256} << 10}) {
    GcsOptions o = Shared()->Options(UniquePath("cond"));
    o.if_generation_match = true;
    o.chunk_size = chunk;
    auto c = MustOpen(o);
    const std::string a(600000, 'a');
    ASSERT_TRUE(Write(*c, 0, 5, 5, a).ok());
    EXPECT_TRUE(Write(*c, 0, 5, 5, a).ok()) << "same content is accepted";
    Status s = Write(*c, 0, 5, 5, std::string(600000, 'b'));
    EXPECT_EQ(s.code(), base::Code::kAlreadyExists) << s.ToString();
    EXPECT_EQ(ReadBytes(*c, 0, 5, 5), a) << "never replaced";
  }
}

// GOOGLE_APPLICATION_CREDENTIALS: the client signs an RS256 JWT with the
// service account's key, the server verifies it with the public key the test
// made and issues a token, which every request then carries.
TEST_F(GcsReplicaTest, ServiceAccountJwtIsVerifiedAndExchanged) {
  TempDir empty;
  ScopedEnv env;
  env.Set("GOOGLE_APPLICATION_CREDENTIALS",
          Authed()->service_account().key_json_path)
      .Unset("STORAGE_EMULATOR_HOST")
      .Set("CLOUDSDK_CONFIG", empty.path())
      .Set("GCE_METADATA_HOST", "127.0.0.1:1");  // never asked
  const json before = Authed()->Stats();
  GcsOptions o = Authed()->Options(UniquePath("sa"));
  o.anonymous = false;
  auto c = MustOpen(o);
  ASSERT_TRUE(Write(*c, 0, 1, 1, "hello").ok());
  EXPECT_EQ(ReadBytes(*c, 0, 1, 1), "hello");
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 1u);
  const json after = Authed()->Stats();
  EXPECT_EQ(
      after["jwt_verified"].get<int>() - before["jwt_verified"].get<int>(), 1)
      << "one token for all requests";
  EXPECT_EQ(after["unauthorized"], before["unauthorized"]);
  EXPECT_EQ(after["metadata_tokens"], before["metadata_tokens"]);

  // A key the server does not know: its JWT is refused, the error names
  // the service account and the file, and shows no key material.
  TempDir other;
  ServiceAccountFiles wrong =
      MakeServiceAccount(other.path(), Authed()->endpoint() + "/token");
  env.Set("GOOGLE_APPLICATION_CREDENTIALS", wrong.key_json_path);
  auto bad = MustOpen(o);
  Status s = Write(*bad, 0, 2, 2, "x");
  EXPECT_EQ(s.code(), base::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find(wrong.client_email), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("invalid_grant"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(s.message().find("PRIVATE KEY"), std::string::npos);
  EXPECT_GT(Authed()->Stats()["jwt_rejected"].get<int>(),
            before["jwt_rejected"].get<int>());

  // Without credentials the store refuses the request: 401 names them.
  auto anon = MustOpen(Authed()->Options(UniquePath("anon")));
  Status a = Write(*anon, 0, 1, 1, "x");
  EXPECT_EQ(a.code(), base::Code::kPermissionDenied) << a.ToString();
  EXPECT_NE(a.message().find("STORAGE_EMULATOR_HOST"), std::string::npos)
      << a.ToString();
}

// No key file anywhere: tokens come from the metadata server
// (GCE_METADATA_HOST, Metadata-Flavor: Google), as on Cloud Run.
TEST_F(GcsReplicaTest, MetadataServerTokens) {
  TempDir empty;
  ScopedEnv env;
  MetadataOnly(env, empty, *Authed());
  const json before = Authed()->Stats();
  GcsOptions o = Authed()->Options(UniquePath("md"));
  o.anonymous = false;
  auto c = MustOpen(o);
  ASSERT_TRUE(Write(*c, 0, 1, 1, "hello").ok());
  EXPECT_EQ(ReadBytes(*c, 0, 1, 1), "hello");
  const json after = Authed()->Stats();
  EXPECT_EQ(after["metadata_tokens"].get<int>() -
                before["metadata_tokens"].get<int>(),
            1);
  EXPECT_EQ(after["unauthorized"], before["unauthorized"]);

  // A metadata server that is not there: the error says what was tried.
  env.Set("GCE_METADATA_HOST", "127.0.0.1:" + std::to_string(FreePort()));
  o.retry.max_attempts = 2;
  auto none = MustOpen(o);
  auto l = none->ListFiles(0);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), base::Code::kUnavailable)
      << l.status().ToString();
  EXPECT_NE(l.status().message().find("metadata server"), std::string::npos)
      << l.status().ToString();
  EXPECT_NE(l.status().message().find("GOOGLE_APPLICATION_CREDENTIALS"),
            std::string::npos)
      << l.status().ToString();
}

// Tokens are refreshed before they expire: with 4 s tokens, requests over
// 7 s fetch more than one and the server never sees an expired one.
TEST_F(GcsReplicaTest, TokensAreRefreshedBeforeExpiry) {
  std::string error;
  GcsServer::Config cfg;
  cfg.require_token = true;
  cfg.token_lifetime_seconds = 4;
  auto server = GcsServer::Start(cfg, &error);
  ASSERT_TRUE(server) << error;
  TempDir empty;
  ScopedEnv env;
  MetadataOnly(env, empty, *server);
  GcsOptions o = server->Options(UniquePath("refresh"));
  o.anonymous = false;
  auto c = MustOpen(o);
  const auto start = std::chrono::steady_clock::now();
  TxId t = 1;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(7)) {
    ASSERT_TRUE(Write(*c, 0, t, t, "x").ok());
    ++t;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), t - 1);
  const json stats = server->Stats();
  EXPECT_GE(stats["metadata_tokens"].get<int>(), 2);
  EXPECT_EQ(stats["unauthorized"].get<int>(), 0)
      << "no request with a stale token";
}

// 503s on every kind of request, a truncated body, and failed resumable
// chunks: retried, resumed, nothing lost.
TEST_F(GcsReplicaTest, FaultsAreRetriedAndNothingIsLost) {
  GcsOptions o = Shared()->Options(UniquePath("faults"));
  o.chunk_size = 256 << 10;
  auto c = MustOpen(o);
  const std::string small = Pattern(10000, 6);
  const std::string large = Pattern(800000, 7);
  ASSERT_TRUE(Shared()->InjectFault("insert", 2));
  ASSERT_TRUE(Write(*c, 0, 1, 1, small).ok());
  ASSERT_TRUE(Shared()->InjectFault("chunk", 3));
  ASSERT_TRUE(Write(*c, 0, 2, 2, large).ok());
  ASSERT_TRUE(Shared()->InjectFault("list", 2));
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 2u);
  ASSERT_TRUE(Shared()->InjectFault("get", 2));
  EXPECT_EQ(ReadBytes(*c, 0, 2, 2), large);
  // A body cut off in the middle: the reader resumes with a ranged GET.
  ASSERT_TRUE(Shared()->InjectFault("get", 1, 200, "truncate"));
  EXPECT_EQ(ReadBytes(*c, 0, 2, 2), large);
  ASSERT_TRUE(Shared()->InjectFault("get", 1, 200, "truncate"));
  EXPECT_EQ(ReadBytes(*c, 0, 2, 2, 5000, 300000), large.substr(5000, 300000));
  ASSERT_TRUE(Shared()->InjectFault("delete", 2));
  ASSERT_TRUE(c->DeleteFiles(*files).ok());
  auto gone = c->ListFiles(0);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  EXPECT_GE(Shared()->Stats()["faults"].get<int>(), 12);
}

TEST_F(GcsReplicaTest, MissingBucketNamesIt) {
  GcsOptions o = Shared()->Options("p");
  o.bucket = "no-such-bucket";
  auto c = MustOpen(o);
  auto l = c->ListFiles(0);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), base::Code::kFailedPrecondition)
      << l.status().ToString();
  EXPECT_NE(l.status().message().find("no-such-bucket"), std::string::npos);
  EXPECT_EQ(c->OpenFile(0, 1, 1).status().code(),
            base::Code::kFailedPrecondition);
}

TEST_F(GcsReplicaTest, UnreachableEndpointIsUnavailableAfterRetries) {
  GcsOptions o = Shared()->Options("p");
  o.endpoint = "http://127.0.0.1:" + std::to_string(FreePort());
  o.retry.max_attempts = 3;
  auto l = MustOpen(o)->ListFiles(0);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), base::Code::kUnavailable);
  EXPECT_NE(l.status().message().find("gave up after 3 failed attempts"),
            std::string::npos)
      << l.status().ToString();
}

// gs:// URLs and the `gcs` type: bucket and path, the emulator switch, and
// settings the backend does not take are refused.
TEST_F(GcsReplicaTest, UrlsSettingsAndTheEmulatorSwitch) {
  auto s = storage::ParseReplicaUrl("gs://my-bucket/some/path");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->type, "gcs");
  EXPECT_EQ(s->bucket, "my-bucket");
  EXPECT_EQ(s->path, "some/path");
  EXPECT_EQ(storage::Describe(*s), "gs://my-bucket/some/path");
  EXPECT_TRUE(storage::ParseReplicaUrl("gcs://b/p").ok());
  EXPECT_FALSE(storage::ParseReplicaUrl("gs:///p").ok());
  {
    ScopedEnv env;
    env.Set("STORAGE_EMULATOR_HOST", Shared()->host());
    auto o = storage::gcs::OptionsFromSettings(*s);
    ASSERT_TRUE(o.ok());
    EXPECT_TRUE(o->anonymous);
    EXPECT_EQ(o->endpoint, Shared()->endpoint());
    // Through the registry, as the CLI opens it: the emulator answers.
    storage::ReplicaSettings rs = *s;
    rs.bucket = Shared()->bucket();
    rs.path = UniquePath("registry");
    auto client = storage::NewReplicaClient(rs);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    EXPECT_EQ((*client)->Type(), "gcs");
    ASSERT_TRUE(Write(**client, 0, 1, 1, "via registry").ok());
    EXPECT_EQ(ReadBytes(**client, 0, 1, 1), "via registry");
  }
  {
    ScopedEnv env;
    env.Unset("STORAGE_EMULATOR_HOST");
    auto o = storage::gcs::OptionsFromSettings(*s);
    ASSERT_TRUE(o.ok());
    EXPECT_FALSE(o->anonymous);
    EXPECT_EQ(o->endpoint, "https://storage.googleapis.com");
  }
  storage::ReplicaSettings bad = *s;
  bad.part_size = 100000;
  EXPECT_EQ(storage::CheckSettings(&bad).code(), base::Code::kInvalidArgument);
  storage::ReplicaSettings nobucket;
  nobucket.type = "gs";
  Status nb = storage::CheckSettings(&nobucket);
  EXPECT_NE(nb.message().find("bucket"), std::string::npos) << nb.ToString();
}

TEST_F(GcsReplicaTest, GenericObjectsListAndOpen) {
  const std::string path = UniquePath("generic");
  ASSERT_EQ(Shared()->PutRaw(path + "/generations/abc/wal/1.wal.lz4", "w1"),
            200);
  ASSERT_EQ(Shared()->PutRaw(path + "/a.txt", "aaa"), 200);
  auto c = MustOpen(Shared()->Options(path));
  auto objs = c->ListObjects("");
  ASSERT_TRUE(objs.ok()) << objs.status().ToString();
  ASSERT_EQ(objs->size(), 2u);
  EXPECT_EQ((*objs)[0].key, "a.txt");
  EXPECT_EQ((*objs)[1].key, "generations/abc/wal/1.wal.lz4");
  auto r = c->OpenObject("a.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAllOrFail(**r), "aaa");
  EXPECT_EQ(c->OpenObject("missing").status().code(), base::Code::kNotFound);
}

}  // namespace
}  // namespace litekeep::testing
