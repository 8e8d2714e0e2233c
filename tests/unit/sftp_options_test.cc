// Unit tests for the SFTP backend's settings: host:port parsing, required
// keys, host-key forms (key lines, known_hosts lines, fingerprints) and
// their errors, and that checks never print a secret.
#include <gtest/gtest.h>

#include "storage/registry.h"
#include "storage/sftp/host_key.h"
#include "storage/sftp/options.h"

namespace litekeep::storage::sftp {
namespace {

// The public half of an ed25519 key made with ssh-keygen for this test.
constexpr char kKeyLine[] =
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIEfZ/3Rion3+Q5pJEZXvWlkGZrAbc+e1SepC9moPi3m+ "
    "test@host";

TEST(SftpOptionsTest, HostAndPort) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort("example.com", &host, &port).ok());
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, 22);
  ASSERT_TRUE(SplitHostPort("example.com:2222", &host, &port).ok());
  EXPECT_EQ(port, 2222);
  ASSERT_TRUE(SplitHostPort("[::1]:2200", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 2200);
  ASSERT_TRUE(SplitHostPort("::1", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 22);
  EXPECT_FALSE(SplitHostPort("h:99999", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("h:ssh", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort(":22", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("[::1", &host, &port).ok());
}

TEST(SftpOptionsTest, RequiredKeysAndConflicts) {
  ReplicaSettings s;
  s.type = "sftp";
  Status st = storage::CheckSettings(&s);
  EXPECT_NE(st.message().find("no host"), std::string::npos) << st.message();
  s.host = "h";
  st = storage::CheckSettings(&s);
  EXPECT_NE(st.message().find("no user"), std::string::npos) << st.message();
  s.user = "u";
  EXPECT_TRUE(storage::CheckSettings(&s).ok());
  s.key_passphrase = "TopSecretPass";
  st = storage::CheckSettings(&s);
  EXPECT_NE(st.message().find("key-path"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("TopSecretPass"), std::string::npos);
  s.key_passphrase.clear();
  s.host_key = kKeyLine;
  s.insecure_ignore_host_key = true;
  EXPECT_FALSE(storage::CheckSettings(&s).ok());
  s.insecure_ignore_host_key = false;
  EXPECT_TRUE(storage::CheckSettings(&s).ok());
  s.host_key = "not a key";
  st = storage::CheckSettings(&s);
  EXPECT_NE(st.message().find("host-key"), std::string::npos) << st.message();
  // Through the registry, as the config loader does.
  s.host_key.clear();
  s.password = "TopSecretPw";
  auto c = NewReplicaClient(s);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ((*c)->Type(), "sftp");
  EXPECT_EQ((*c)->Describe(), "sftp://u@h:22");
}

TEST(SftpOptionsTest, Describe) {
  SftpOptions o;
  o.host = "::1";
  o.port = 2200;
  o.user = "bob";
  o.password = "TopSecretPw";
  o.path = "/srv/db";
  EXPECT_EQ(o.Describe(), "sftp://bob@[::1]:2200/srv/db");
  o.path = "backups";
  EXPECT_EQ(o.Describe(), "sftp://bob@[::1]:2200/~/backups");
}

TEST(SftpHostKeyTest, Forms) {
  auto k = ParseHostKey(kKeyLine);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, "ssh-ed25519");
  EXPECT_EQ(BlobKeyType(k->blob), "ssh-ed25519");
  EXPECT_EQ(k->fingerprint.rfind("SHA256:", 0), 0u);
  EXPECT_EQ(k->fingerprint.size(), 7u + 43u);
  // A known_hosts line names the same key.
  auto kh = ParseHostKey(std::string("[h]:2222 ") + kKeyLine);
  ASSERT_TRUE(kh.ok());
  EXPECT_EQ(kh->blob, k->blob);
  // A fingerprint alone.
  auto fp = ParseHostKey(k->fingerprint);
  ASSERT_TRUE(fp.ok()) << fp.status().message();
  EXPECT_TRUE(fp->blob.empty());
  EXPECT_EQ(fp->fingerprint, k->fingerprint);
  // Errors.
  EXPECT_FALSE(ParseHostKey("SHA256:short").ok());
  EXPECT_FALSE(ParseHostKey("ssh-ed25519 !!!notbase64").ok());
  EXPECT_FALSE(ParseHostKey("ssh-rsa "
                            "AAAAC3NzaC1lZDI1NTE5AAAAIEfZ/"
                            "3Rion3+Q5pJEZXvWlkGZrAbc+e1SepC9moPi3m+")
                   .ok())
      << "the type inside the key must match";
  EXPECT_FALSE(ParseHostKey("").ok());
}

}  // namespace
}  // namespace litekeep::storage::sftp
