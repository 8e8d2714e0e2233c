// NATS JetStream object-store backend against a real nats-server on
// 127.0.0.1: the ReplicaClient conformance suite; objects stored exactly as
// nats.go's object store (and so Litestream) stores them; conditional
// writes; logins (user/password, token) and refused ones; a missing bucket;
// the server killed and restarted; request counts; secrets kept out of
// every message; and the official NATS JavaScript client (npm `nats`)
// reading what litekeep wrote and writing what litekeep reads.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "storage/hash.h"
#include "storage/nats/client.h"
#include "storage/nats/client_impl.h"
#include "storage/nats/conn.h"
#include "storage/registry.h"
#include "storage/url.h"
#include "tests/support/nats_server.h"
#include "tests/support/replica_conformance.h"

namespace litekeep::testing {
namespace {

using json = nlohmann::json;
using storage::FileInfo;
using storage::nats::NatsOptions;

// One server for the whole binary, started on first use.
NatsServer* Server() {
  static std::unique_ptr<NatsServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = NatsServer::Start(&error);
    if (!server) std::fprintf(stderr, "nats unavailable: %s\n", error.c_str());
  }
  return server.get();
}

NatsOptions BaseOptions(const std::string& bucket) {
  NatsOptions o;
  o.port = Server()->port();
  o.bucket = bucket;
  o.io_timeout = std::chrono::seconds(5);
  o.connect_timeout = std::chrono::seconds(5);
  o.retry.backoff_base = std::chrono::milliseconds(50);
  o.retry.backoff_max = std::chrono::milliseconds(200);
  o.retry.max_attempts = 6;
  o.retry.deadline = std::chrono::seconds(30);
  return o;
}

std::unique_ptr<storage::ReplicaClient> MakeClient(const NatsOptions& o) {
  auto c = storage::nats::NewNatsReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

std::unique_ptr<storage::ReplicaClient> BucketClient(
    const std::string& bucket) {
  Status s = Server()->CreateBucket(bucket);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return MakeClient(BaseOptions(bucket));
}

Status Write(storage::ReplicaClient& c, const FileInfo& info,
             const std::string& data) {
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(info, r);
}

FileInfo Info(int level, TxId min, TxId max, size_t size) {
  FileInfo f;
  f.level = level;
  f.min_txid = min;
  f.max_txid = max;
  f.size = static_cast<int64_t>(size);
  f.created = TimePoint(std::chrono::milliseconds(1700000000123));
  return f;
}

// A raw JetStream API call on a connection of its own.
json Api(const std::string& subject, const json& body) {
  auto conn = storage::nats::Conn::Dial(BaseOptions("x"));
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  if (!conn.ok()) return json();
  auto reply = (*conn)->Request(subject, "", body.dump());
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  return reply.ok() ? json::parse(reply->data, nullptr, false) : json();
}

// nats.go's name encoding: URL-safe base64 with padding.
std::string EncodeName(const std::string& name) {
  std::string b = storage::Base64Encode(name);
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Nats, ReplicaConformanceTest,
    ::testing::Values(ReplicaBackend{
        "nats_server",
        []() -> std::unique_ptr<storage::ReplicaClient> {
          if (Server() == nullptr) return nullptr;
          return BucketClient("conformance");
        },
        12 << 20,  // beyond the 8 MiB retry buffer: the streamed path
        8, 6,
        [](int level,
           const std::vector<std::pair<std::string, std::string>>& objects) {
          // Any object name can be stored: put them as another nats.go
          // user could.
          auto c = MakeClient(BaseOptions("conformance"));
          auto* n = dynamic_cast<storage::nats::NatsClient*>(c.get());
          ASSERT_NE(n, nullptr);
          for (const auto& [name, bytes] : objects) {
            base::SpanReader r(
                {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
            Status s = n->PutRetrying(
                "ltx/" + std::to_string(level) + "/" + name, std::nullopt, r,
                static_cast<int64_t>(bytes.size()));
            ASSERT_TRUE(s.ok()) << s.ToString();
          }
        }}),
    ReplicaBackendName);

class NatsReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "nats-server not installed";
  }
};

// The stream holds exactly what nats.go's object store writes: chunks of
// 128 KiB on $O.<bucket>.C.<nuid>, then a meta message on
// $O.<bucket>.M.<base64url(name)> with Nats-Rollup: sub, the name, size,
// chunk count, SHA-256 digest and the Litestream-Timestamp header.
TEST_F(NatsReplicaTest, StoredAsNatsGoObjectStore) {
  auto c = BucketClient("layout");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  std::string data(300000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13);
  ASSERT_TRUE(Write(*c, Info(0, 7, 7, data.size()), data).ok());
  const std::string name = "ltx/0/0000000000000007-0000000000000007.ltx";
  json got = Api("$JS.API.STREAM.MSG.GET.OBJ_layout",
                 {{"last_by_subj", "$O.layout.M." + EncodeName(name)}});
  ASSERT_TRUE(got.contains("message")) << got.dump();
  auto hdrs = storage::Base64Decode(got["message"]["hdrs"].get<std::string>());
  ASSERT_TRUE(hdrs.ok());
  EXPECT_NE(hdrs->find("Nats-Rollup: sub"), std::string::npos) << *hdrs;
  auto body = storage::Base64Decode(got["message"]["data"].get<std::string>());
  ASSERT_TRUE(body.ok());
  json meta = json::parse(*body);
  EXPECT_EQ(meta["name"], name);
  EXPECT_EQ(meta["bucket"], "layout");
  EXPECT_EQ(meta["size"], 300000);
  EXPECT_EQ(meta["chunks"], 3);  // 128 KiB + 128 KiB + the rest
  EXPECT_EQ(meta["options"]["max_chunk_size"], 131072);
  EXPECT_EQ(meta["headers"]["Litestream-Timestamp"][0],
            "2023-11-14T22:13:20.123Z");
  std::string sha_raw;
  const std::string hex = Sha256Hex(data);
  for (size_t i = 0; i < hex.size(); i += 2) {
    sha_raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  EXPECT_EQ(meta["digest"], "SHA-256=" + EncodeName(sha_raw));
  const std::string nuid = meta["nuid"];
  EXPECT_EQ(nuid.size(), 22u);
  // The chunks, in order, concatenate to the data.
  std::string joined;
  uint64_t seq = 1;
  for (int i = 0; i < 3; ++i) {
    json chunk = Api("$JS.API.STREAM.MSG.GET.OBJ_layout",
                     {{"seq", seq}, {"next_by_subj", "$O.layout.C." + nuid}});
    ASSERT_TRUE(chunk.contains("message")) << chunk.dump();
    joined +=
        *storage::Base64Decode(chunk["message"]["data"].get<std::string>());
    seq = chunk["message"]["seq"].get<uint64_t>() + 1;
  }
  EXPECT_TRUE(joined == data);
  // Replacing the object purges the old chunks; deleting leaves a
  // deleted:true meta message and no chunks.
  ASSERT_TRUE(Write(*c, Info(0, 7, 7, 5), "small").ok());
  json old = Api("$JS.API.STREAM.MSG.GET.OBJ_layout",
                 {{"seq", 1}, {"next_by_subj", "$O.layout.C." + nuid}});
  EXPECT_TRUE(old.contains("error")) << old.dump();
  ASSERT_TRUE(c->DeleteFiles({Info(0, 7, 7, 5)}).ok());
  got = Api("$JS.API.STREAM.MSG.GET.OBJ_layout",
            {{"last_by_subj", "$O.layout.M." + EncodeName(name)}});
  meta = json::parse(
      *storage::Base64Decode(got["message"]["data"].get<std::string>()));
  EXPECT_EQ(meta["deleted"], true);
  EXPECT_EQ(meta["size"], 0);
  json info = Api("$JS.API.STREAM.INFO.OBJ_layout", json::object());
  EXPECT_EQ(info["state"]["messages"], 1) << info.dump();
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty());
}

// Conditional writes for the replica lease: create-only, replace-if-unchanged,
// a stale version refused, create over a deleted object allowed.
TEST_F(NatsReplicaTest, ConditionalWrites) {
  auto c = BucketClient("lease");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  auto missing = c->ReadVersioned("lock.json");
  EXPECT_EQ(missing.status().code(), base::Code::kNotFound);
  auto v1 = c->WriteIf("lock.json", "one", "");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto again = c->WriteIf("lock.json", "other", "");
  EXPECT_EQ(again.status().code(), base::Code::kAlreadyExists)
      << again.status().ToString();
  auto read = c->ReadVersioned("lock.json");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->data, "one");
  EXPECT_EQ(read->version, *v1);
  auto v2 = c->WriteIf("lock.json", "two", *v1);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_NE(*v2, *v1);
  auto stale = c->WriteIf("lock.json", "three", *v1);
  EXPECT_EQ(stale.status().code(), base::Code::kFailedPrecondition)
      << stale.status().ToString();
  EXPECT_EQ(c->ReadVersioned("lock.json")->data, "two");
  // Two writers racing on one version: exactly one wins.
  auto a = MakeClient(BaseOptions("lease"));
  auto b = MakeClient(BaseOptions("lease"));
  auto ra = a->WriteIf("lock.json", "a", *v2);
  auto rb = b->WriteIf("lock.json", "b", *v2);
  EXPECT_NE(ra.ok(), rb.ok());
}

// user/password and token logins; a wrong one is refused, naming the user
// but never the secret.
TEST_F(NatsReplicaTest, LoginsAndSecrets) {
  const std::string secret = "pa55-Secret-Value";
  std::string error;
  auto users = NatsServer::Start(
      &error, NatsServer::Auth::UserPassword("alice", secret));
  ASSERT_TRUE(users) << error;
  ASSERT_TRUE(users->CreateBucket("auth").ok());
  NatsOptions o = BaseOptions("auth");
  o.port = users->port();
  o.username = "alice";
  o.password = secret;
  auto ok = MakeClient(o);
  EXPECT_TRUE(Write(*ok, Info(0, 1, 1, 2), "hi").ok());
  o.password = "wrong-" + secret;
  auto bad = MakeClient(o)->ListFiles(0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), base::Code::kPermissionDenied);
  EXPECT_NE(bad.status().message().find("user alice"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find(secret), std::string::npos);
  EXPECT_EQ(ok->Describe().find(secret), std::string::npos);

  auto tokens = NatsServer::Start(&error, NatsServer::Auth::Token(secret));
  ASSERT_TRUE(tokens) << error;
  ASSERT_TRUE(tokens->CreateBucket("auth").ok());
  NatsOptions t = BaseOptions("auth");
  t.port = tokens->port();
  t.token = secret;
  EXPECT_TRUE(Write(*MakeClient(t), Info(0, 1, 1, 2), "hi").ok());
  t.token = "wrong-" + secret;
  auto refused = MakeClient(t)->ListFiles(0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), base::Code::kPermissionDenied);
  EXPECT_EQ(refused.status().message().find(secret), std::string::npos);

  // URLs: the password is taken and never printed.
  const std::string url = "nats://alice:" + secret +
                          "@127.0.0.1:" + std::to_string(users->port()) +
                          "/auth";
  auto s = storage::ParseReplicaUrl(url);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->type, "nats");
  EXPECT_EQ(s->bucket, "auth");
  EXPECT_EQ(s->username, "alice");
  EXPECT_EQ(s->password, secret);
  EXPECT_EQ(storage::Describe(*s).find(secret), std::string::npos);
  EXPECT_EQ(storage::RedactUrlText(url).find(secret), std::string::npos);
  auto viaurl = storage::NewReplicaClient(*s);
  ASSERT_TRUE(viaurl.ok()) << viaurl.status().ToString();
  auto listed = (*viaurl)->ListFiles(0);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 1u);
  EXPECT_EQ((*viaurl)->Describe(),
            "nats://127.0.0.1:" + std::to_string(users->port()) + "/auth");
}

// A bucket that does not exist is an error naming it and how to create it.
TEST_F(NatsReplicaTest, MissingBucketIsNamed) {
  auto c = MakeClient(BaseOptions("nosuchbucket"));
  auto files = c->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kFailedPrecondition);
  EXPECT_NE(files.status().message().find("\"nosuchbucket\" does not exist"),
            std::string::npos)
      << files.status().message();
  EXPECT_NE(files.status().message().find("nats object add nosuchbucket"),
            std::string::npos);
}

// The server killed and started again (same store): the client reconnects
// by itself and everything written before is still there.
TEST_F(NatsReplicaTest, ReconnectsAfterServerRestart) {
  auto c = BucketClient("restart");
  ASSERT_TRUE(c->DeleteAll().ok());
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, 1), "a").ok());
  std::string error;
  ASSERT_TRUE(Server()->Restart(&error)) << error;
  ASSERT_TRUE(Write(*c, Info(0, 2, 2, 1), "b").ok());
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 2u);
}

// Requests one small upload and one listing cost (docs/benchmarks.md
// "NATS"): one chunk and the meta message (no lookup for a new name);
// one consumer per listing.
TEST_F(NatsReplicaTest, RequestsPerUploadAndListing) {
  auto c = BucketClient("requests");
  ASSERT_TRUE(c->DeleteAll().ok());
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, 1), "a").ok());
  const auto before = c->request_counts();
  ASSERT_TRUE(Write(*c, Info(0, 2, 2, 4096), std::string(4096, 'x')).ok());
  const auto after = c->request_counts();
  ASSERT_TRUE(c->ListFiles(0).ok());
  const auto listed = c->request_counts();
  const uint64_t upload =
      (after.put + after.head + after.get + after.list + after.del) -
      (before.put + before.head + before.get + before.list + before.del);
  std::printf("nats requests: small upload %llu, listing %llu\n",
              static_cast<unsigned long long>(upload),
              static_cast<unsigned long long>(listed.list - after.list));
  EXPECT_EQ(upload, 2u);
  EXPECT_EQ(listed.list - after.list, 1u);
}

// A server that accepts the connection and then says nothing fails the
// request within the deadline instead of hanging.
TEST_F(NatsReplicaTest, StalledServerDoesNotHang) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // never accepts, never answers
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  NatsOptions o = BaseOptions("stalled");
  o.port = ntohs(addr.sin_port);
  o.io_timeout = std::chrono::milliseconds(500);
  o.retry.max_attempts = 2;
  auto start = std::chrono::steady_clock::now();
  auto files = MakeClient(o)->ListFiles(0);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kUnavailable);
  EXPECT_NE(files.status().message().find("gave up after 2"), std::string::npos)
      << files.status().message();
  EXPECT_LT(took, std::chrono::seconds(10));
}

// The node_modules folder holding the npm `nats` client:
// $LITEKEEP_NODE_MODULES, else <build>/npm/node_modules
// (scripts/install-deps.sh --test); "" if none.
std::string NatsJsModules() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LITEKEEP_NODE_MODULES"))
    dirs.push_back(env);
  dirs.push_back(BuildDir() + "/npm/node_modules");
  for (const std::string& d : dirs) {
    if (::access((d + "/nats/package.json").c_str(), R_OK) == 0) return d;
  }
  return "";
}

// Runs tests/support/nats_js_client.js with these commands; its results.
json RunNatsJs(const std::string& bucket, const json& commands,
               const TempDir& dir) {
  const std::string spec = dir.Join("spec.json");
  std::ofstream(spec) << json{
      {"server", "127.0.0.1:" + std::to_string(Server()->port())},
      {"bucket", bucket},
      {"commands", commands}}.dump();
  auto r = RunShell("NODE_PATH=" + NatsJsModules() + " node " + SourceDir() +
                    "/tests/support/nats_js_client.js " + spec);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(out.is_array()) << r.out << r.err;
  return out;
}

// The official NATS JavaScript client's object store (format-compatible with
// nats.go's, which Litestream uses) and litekeep read each other's objects:
// names, sizes, chunks, the Litestream-Timestamp header, digests (nats.js
// checks them on every get) and deletes.
TEST_F(NatsReplicaTest, NatsJsClientAgreesWithLitekeep) {
  if (NatsJsModules().empty()) {
    GTEST_SKIP() << "npm package nats not installed (scripts/install-deps.sh "
                    "--test, or LITEKEEP_NODE_MODULES=<dir>/node_modules)";
  }
  auto c = BucketClient("interop");
  ASSERT_TRUE(c->DeleteAll().ok());
  TempDir dir;
  std::string ours(300000, '\0');
  for (size_t i = 0; i < ours.size(); ++i) ours[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, ours.size()), ours).ok());
  ASSERT_TRUE(Write(*c, Info(9, 1, 1, 5), "small").ok());
  std::string theirs(400000, '\0');
  for (size_t i = 0; i < theirs.size(); ++i) {
    theirs[i] = static_cast<char>(i * 11 + 3);
  }
  std::ofstream(dir.Join("theirs.bin"), std::ios::binary) << theirs;
  const std::string ours_name = "ltx/0/0000000000000001-0000000000000001.ltx";
  const std::string theirs_name = "ltx/0/0000000000000002-0000000000000002.ltx";
  json r = RunNatsJs(
      "interop",
      json::array(
          {{{"op", "list"}},
           {{"op", "get"}, {"name", ours_name}, {"file", dir.Join("ours.bin")}},
           {{"op", "put"},
            {"name", theirs_name},
            {"file", dir.Join("theirs.bin")},
            {"headers",
             {{"Litestream-Timestamp", "2024-05-06T07:08:09.5Z"}}}}}),
      dir);
  ASSERT_EQ(r.size(), 3u) << r.dump();
  ASSERT_TRUE(r[0]["ok"]) << r.dump();
  std::map<std::string, json> listed;
  for (const json& o : r[0]["objects"]) listed[o["name"]] = o;
  ASSERT_EQ(listed.size(), 2u) << r.dump();
  EXPECT_EQ(listed[ours_name]["size"], 300000);
  EXPECT_EQ(listed[ours_name]["chunks"], 3);
  EXPECT_EQ(listed[ours_name]["timestamp"], "2023-11-14T22:13:20.123Z");
  ASSERT_TRUE(r[1]["ok"]) << r.dump();
  EXPECT_TRUE(ReadFile(dir.Join("ours.bin")) == ours);
  ASSERT_TRUE(r[2]["ok"]) << r.dump();

  // litekeep reads what nats.js wrote, with its creation time.
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[1].min_txid, 2u);
  EXPECT_EQ((*files)[1].size, 400000);
  EXPECT_EQ((*files)[1].created,
            TimePoint(std::chrono::milliseconds(1714979289500)));
  auto reader = c->OpenFile(0, 2, 2, 0, -1);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE(ReadAllOrFail(**reader) == theirs);
  auto tail = c->OpenFile(0, 2, 2, 399990, -1);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(ReadAllOrFail(**tail), theirs.substr(399990));

  // Deletes each way.
  ASSERT_TRUE(c->DeleteFiles({Info(0, 2, 2, 0)}).ok());
  r = RunNatsJs("interop",
                json::array({{{"op", "delete"}, {"name", ours_name}},
                             {{"op", "list"}},
                             {{"op", "get"},
                              {"name", theirs_name},
                              {"file", dir.Join("gone.bin")}}}),
                dir);
  ASSERT_EQ(r.size(), 3u) << r.dump();
  EXPECT_TRUE(r[0]["ok"]) << r.dump();
  ASSERT_EQ(r[1]["objects"].size(), 1u) << r.dump();
  EXPECT_EQ(r[1]["objects"][0]["name"],
            "ltx/9/0000000000000001-0000000000000001.ltx");
  EXPECT_FALSE(r[2]["ok"]) << r.dump();
  files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty());
}

}  // namespace
}  // namespace litekeep::testing
