// SFTP backend against a real OpenSSH sshd on 127.0.0.1: the ReplicaClient
// conformance suite, the file layout and mtimes, host-key checking (pinned
// key, fingerprint, known_hosts: unknown and changed hosts refused),
// passphrase-protected keys, reconnecting after the server restarts, a
// stalled server that must not hang a request, and secrets kept out of
// every message.
#include <gtest/gtest.h>
#include <libssh2_sftp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "storage/registry.h"
#include "storage/sftp/client.h"
#include "storage/sftp/host_key.h"
#include "storage/sftp/session.h"
#include "storage/url.h"
#include "tests/support/replica_conformance.h"
#include "tests/support/s3rver.h"
#include "tests/support/sshd.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using storage::FileInfo;
using storage::sftp::SftpOptions;

// One sshd for the whole binary, started on first use.
Sshd* Server() {
  static std::unique_ptr<Sshd> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = Sshd::Start(&error);
    if (!server) std::fprintf(stderr, "sshd unavailable: %s\n", error.c_str());
  }
  return server.get();
}

SftpOptions BaseOptions(const std::string& path) {
  SftpOptions o;
  o.host = "127.0.0.1";
  o.port = Server()->port();
  o.user = Server()->user();
  o.key_path = Server()->client_key();
  o.host_key = Server()->host_key_line();
  o.path = path;
  o.backoff_base = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  o.io_timeout = std::chrono::seconds(10);
  return o;
}

std::unique_ptr<storage::ReplicaClient> MakeClient(const SftpOptions& o) {
  auto c = storage::sftp::NewSftpReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
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
  f.created = TimePoint(std::chrono::seconds(1700000000));
  return f;
}

std::string ConformanceDir() { return Server()->Join("conformance"); }

INSTANTIATE_TEST_SUITE_P(
    Sftp, ReplicaConformanceTest,
    ::testing::Values(ReplicaBackend{
        "sshd",
        [] {
          return Server() == nullptr
                     ? nullptr
                     : MakeClient(BaseOptions(ConformanceDir()));
        },
        12 << 20,  // beyond the 8 MiB retry buffer: the streamed path
        8, 6,
        [](int level,
           const std::vector<std::pair<std::string, std::string>>& objects) {
          // The server's files are local files: store them directly.
          const std::string dir =
              ConformanceDir() + "/ltx/" + std::to_string(level);
          fs::create_directories(dir);
          for (const auto& [name, bytes] : objects) {
            std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
          }
        }}),
    ReplicaBackendName);

class SftpReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "sshd not installed";
  }
};

// Files land where docs/storage_layout.md says, with the LTX creation time
// as their mtime and no temporary file left behind.
TEST_F(SftpReplicaTest, LayoutAndMtime) {
  TempDir dir;
  auto c = MakeClient(BaseOptions(dir.Join("replica")));
  ASSERT_TRUE(c);
  ASSERT_TRUE(Write(*c, Info(0, 7, 7, 3), "abc").ok());
  ASSERT_TRUE(Write(*c, Info(9, 1, 7, 4), "full").ok());
  const std::string l0 =
      dir.Join("replica/ltx/0/0000000000000007-0000000000000007.ltx");
  const std::string l9 =
      dir.Join("replica/ltx/9/0000000000000001-0000000000000007.ltx");
  EXPECT_EQ(ReadFile(l0), "abc");
  EXPECT_EQ(ReadFile(l9), "full");
  struct stat st;
  ASSERT_EQ(::stat(l0.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "replica files are private";
  // A short upload fails and leaves nothing, not even a temporary file.
  EXPECT_FALSE(Write(*c, Info(0, 8, 8, 100), "short").ok());
  for (const auto& e : fs::directory_iterator(dir.Join("replica/ltx/0"))) {
    EXPECT_EQ(e.path().filename().string(),
              "0000000000000007-0000000000000007.ltx");
  }
  EXPECT_EQ(c->Describe(), "sftp://" + Server()->user() + "@127.0.0.1:" +
                               std::to_string(Server()->port()) +
                               dir.Join("replica"));
}

// Uploads of many write requests, pipelined or one at a time
// (concurrent-writes), and data longer than declared is refused.
TEST_F(SftpReplicaTest, WritesWithAndWithoutPipelining) {
  TempDir dir;
  std::string data(300000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  for (bool concurrent : {true, false}) {
    SftpOptions o = BaseOptions(dir.Join(concurrent ? "pipelined" : "single"));
    o.concurrent_writes = concurrent;
    auto c = MakeClient(o);
    ASSERT_TRUE(Write(*c, Info(0, 1, 1, data.size()), data).ok());
    auto r = c->OpenFile(0, 1, 1, 0, -1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(ReadAllOrFail(**r) == data) << "concurrent " << concurrent;
    Status longer = Write(*c, Info(0, 2, 2, 10), "eleven byte");
    EXPECT_EQ(longer.code(), base::Code::kInvalidArgument) << longer.ToString();
  }
}

// The registry builds the client from a URL and config keys.
TEST_F(SftpReplicaTest, FromUrlAndSettings) {
  TempDir dir;
  auto s = storage::ParseReplicaUrl(
      "sftp://" + Server()->user() +
      "@127.0.0.1:" + std::to_string(Server()->port()) + dir.Join("viaurl"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->type, "sftp");
  EXPECT_EQ(s->path, dir.Join("viaurl"));
  s->key_path = Server()->client_key();
  s->host_key = Server()->host_key_line();
  auto c = storage::NewReplicaClient(*s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(Write(**c, Info(0, 1, 1, 2), "hi").ok());
  EXPECT_EQ(
      ReadFile(dir.Join("viaurl/ltx/0/0000000000000001-0000000000000001.ltx")),
      "hi");
  // Generic object access (Litestream 0.3 trees, `litekeep sync`).
  fs::create_directories(dir.Join("viaurl/generations/abc/wal"));
  std::ofstream(
      dir.Join("viaurl/generations/abc/wal/00000000_00000000.wal.lz4"))
      << "legacy";
  auto objects = (*c)->ListObjects("generations/");
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].key, "generations/abc/wal/00000000_00000000.wal.lz4");
  EXPECT_EQ((*objects)[0].size, 6);
  auto r = (*c)->OpenObject((*objects)[0].key);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAllOrFail(**r), "legacy");
  auto all = (*c)->ListObjects("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(SftpReplicaTest, HostKeyMismatchIsRefused) {
  TempDir dir;
  ASSERT_EQ(litekeep::testing::Run({"ssh-keygen", "-q", "-t", "ed25519", "-N",
                                    "", "-f", dir.Join("other")})
                .exit_code,
            0);
  SftpOptions o = BaseOptions(dir.Join("r"));
  o.host_key = ReadFile(dir.Join("other.pub"));
  auto c = MakeClient(o);
  auto files = c->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kPermissionDenied);
  const std::string actual =
      storage::sftp::ParseHostKey(Server()->host_key_line())->fingerprint;
  EXPECT_NE(
      files.status().message().find("presented the ssh-ed25519 key " + actual),
      std::string::npos)
      << files.status().message();
  EXPECT_NE(files.status().message().find("host-key expects"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.Join("r"))) << "nothing may be written";
}

// A fingerprint as `ssh-keygen -lf` (an independent tool) prints it pins the
// key too.
TEST_F(SftpReplicaTest, FingerprintFromSshKeygenIsAccepted) {
  auto lf = RunShell("ssh-keygen -lf " + Server()->Join("host_key.pub") +
                     " | cut -d' ' -f2");
  ASSERT_EQ(lf.exit_code, 0);
  std::string fp = lf.out.substr(0, lf.out.find('\n'));
  ASSERT_EQ(fp.rfind("SHA256:", 0), 0u) << fp;
  EXPECT_EQ(storage::sftp::ParseHostKey(Server()->host_key_line())->fingerprint,
            fp);
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  o.host_key = fp;
  auto files = MakeClient(o)->ListFiles(0);
  EXPECT_TRUE(files.ok()) << files.status().ToString();
}

TEST_F(SftpReplicaTest, KnownHostsUnknownChangedAndKnown) {
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  o.host_key.clear();
  o.known_hosts = dir.Join("known_hosts");
  std::ofstream(o.known_hosts) << "# empty\n";
  // Unknown host: refused, naming the fingerprint and how to accept it.
  auto unknown = MakeClient(o)->ListFiles(0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), base::Code::kPermissionDenied);
  const std::string fp =
      storage::sftp::ParseHostKey(Server()->host_key_line())->fingerprint;
  const std::string m = unknown.status().message();
  EXPECT_NE(m.find("is unknown"), std::string::npos) << m;
  EXPECT_NE(m.find(fp), std::string::npos) << m;
  EXPECT_NE(m.find("ssh-keyscan -p " + std::to_string(Server()->port()) +
                   " -t ed25519 127.0.0.1 >> " + o.known_hosts),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("insecure-ignore-host-key"), std::string::npos) << m;

  // The advice works: ssh-keyscan (OpenSSH's own tool) adds the host.
  auto scan =
      RunShell("ssh-keyscan -p " + std::to_string(Server()->port()) +
               " -t ed25519 127.0.0.1 >> " + o.known_hosts + " 2>/dev/null");
  ASSERT_EQ(scan.exit_code, 0);
  auto known = MakeClient(o)->ListFiles(0);
  EXPECT_TRUE(known.ok()) << known.status().ToString();

  // A changed key: refused.
  ASSERT_EQ(litekeep::testing::Run({"ssh-keygen", "-q", "-t", "ed25519", "-N",
                                    "", "-f", dir.Join("other")})
                .exit_code,
            0);
  std::string other = ReadFile(dir.Join("other.pub"));
  std::ofstream(o.known_hosts, std::ios::trunc)
      << "[127.0.0.1]:" << Server()->port() << " " << other;
  auto changed = MakeClient(o)->ListFiles(0);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), base::Code::kPermissionDenied);
  EXPECT_NE(changed.status().message().find("differs from the one recorded"),
            std::string::npos)
      << changed.status().message();

  // Explicit opt-out.
  o.known_hosts.clear();
  o.insecure_ignore_host_key = true;
  auto ignored = MakeClient(o)->ListFiles(0);
  EXPECT_TRUE(ignored.ok()) << ignored.status().ToString();
}

TEST_F(SftpReplicaTest, PassphraseProtectedKey) {
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  o.key_path = Server()->client_key_with_passphrase();
  o.key_passphrase = Sshd::kKeyPassphrase;
  auto c = MakeClient(o);
  EXPECT_TRUE(Write(*c, Info(0, 1, 1, 1), "x").ok());
  o.key_passphrase = "wrong-passphrase-s3cr3t";
  auto bad = MakeClient(o)->ListFiles(0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("wrong-passphrase-s3cr3t"),
            std::string::npos);
  EXPECT_NE(bad.status().message().find(o.key_path), std::string::npos)
      << bad.status().message();
}

// Passwords and passphrases never appear in errors, descriptions or
// redacted URLs.
TEST_F(SftpReplicaTest, SecretsNeverInMessages) {
  const std::string secret = "pa55-Secret-Value";
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  o.key_path.clear();
  o.password = secret;  // the server does not take passwords
  auto c = MakeClient(o);
  auto files = c->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kPermissionDenied);
  EXPECT_NE(files.status().message().find("authentication failed"),
            std::string::npos)
      << files.status().message();
  EXPECT_EQ(files.status().message().find(secret), std::string::npos);
  EXPECT_EQ(c->Describe().find(secret), std::string::npos);
  const std::string url = "sftp://bob:" + secret + "@127.0.0.1:2222/backups";
  auto s = storage::ParseReplicaUrl(url);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->password, secret);
  EXPECT_EQ(storage::Describe(*s).find(secret), std::string::npos);
  EXPECT_EQ(storage::RedactUrlText(url).find(secret), std::string::npos);
  auto bad = storage::ParseReplicaUrl(url + "?nope=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find(secret), std::string::npos);
}

// The client reconnects by itself after the server went away and came back.
TEST_F(SftpReplicaTest, ReconnectsAfterServerRestart) {
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  auto c = MakeClient(o);
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, 1), "a").ok());
  std::string error;
  ASSERT_TRUE(Server()->Restart(&error)) << error;
  ASSERT_TRUE(Write(*c, Info(0, 2, 2, 1), "b").ok());
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->size(), 2u);
}

// Closing a connection frees everything libssh2 allocated for it: the
// session, the SFTP channel and the handles still open, also when the
// server went away with a handle open (docs/reliability.md "Sanitizers").
TEST_F(SftpReplicaTest, ClosingFreesEveryLibsshBlock) {
  const int64_t before = storage::sftp::LibsshBlocksInUse();
  TempDir dir;
  SftpOptions o = BaseOptions(dir.Join("r"));
  {
    storage::sftp::Connection conn(&o);
    ASSERT_TRUE(conn.Connect().ok());
    EXPECT_GT(storage::sftp::LibsshBlocksInUse(), before);
    ASSERT_NE(conn.OpenHandle(dir.path(), 0, 0, LIBSSH2_SFTP_OPENDIR), nullptr);
    conn.Reset();  // with the directory handle open
    EXPECT_FALSE(conn.connected());
    EXPECT_EQ(storage::sftp::LibsshBlocksInUse(), before);
    ASSERT_TRUE(conn.Connect().ok());
    ASSERT_NE(conn.OpenHandle(dir.path(), 0, 0, LIBSSH2_SFTP_OPENDIR), nullptr);
  }  // destroyed with the handle open
  EXPECT_EQ(storage::sftp::LibsshBlocksInUse(), before);
  {
    auto c = MakeClient(o);
    ASSERT_TRUE(Write(*c, Info(0, 1, 1, 5), "hello").ok());
    auto r = c->OpenFile(0, 1, 1, 0, -1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    uint8_t head[2];
    auto n = (*r)->Read(head);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_EQ(*n, 2u);
    // The server dies with the reader's handle open; the reader reconnects
    // and goes on where it was.
    std::string error;
    ASSERT_TRUE(Server()->Restart(&error)) << error;
    EXPECT_EQ(ReadAllOrFail(**r), "llo");
    ASSERT_TRUE(c->ListFiles(0).ok());
  }
  EXPECT_EQ(storage::sftp::LibsshBlocksInUse(), before);
}

// SFTP requests one small upload and one listing cost once connected
// (docs/benchmarks.md "SFTP"): open, write, fsync, set mtime, close,
// posix-rename; opendir, readdir until empty, close.
TEST_F(SftpReplicaTest, RequestsPerUploadAndListing) {
  TempDir dir;
  auto c = MakeClient(BaseOptions(dir.Join("r")));
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, 1), "a").ok());  // connects, mkdirs
  const uint64_t before = storage::sftp::SftpRequestCount(*c);
  ASSERT_TRUE(Write(*c, Info(0, 2, 2, 4096), std::string(4096, 'x')).ok());
  const uint64_t upload = storage::sftp::SftpRequestCount(*c) - before;
  ASSERT_TRUE(c->ListFiles(0).ok());
  const uint64_t list = storage::sftp::SftpRequestCount(*c) - before - upload;
  std::printf("sftp requests: small upload %llu, listing of 2 files %llu\n",
              static_cast<unsigned long long>(upload),
              static_cast<unsigned long long>(list));
  EXPECT_EQ(upload, 6u);
  EXPECT_LE(list, 4u);
}

// A server that accepts the connection and then says nothing fails the
// request within the deadline instead of hanging.
TEST_F(SftpReplicaTest, StalledServerDoesNotHang) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // never accepts, never answers
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  SftpOptions o = BaseOptions("/tmp/x");
  o.port = ntohs(addr.sin_port);
  o.io_timeout = std::chrono::milliseconds(500);
  o.max_attempts = 2;
  auto start = std::chrono::steady_clock::now();
  auto files = MakeClient(o)->ListFiles(0);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kUnavailable);
  EXPECT_NE(files.status().message().find("gave up after 2 attempts"),
            std::string::npos)
      << files.status().message();
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace litekeep::testing
