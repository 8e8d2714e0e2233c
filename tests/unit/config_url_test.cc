// Unit tests for config::ParseReplicaUrl and Redacted: every replica URL
// form (s3 with query options and provider host shortcuts, abs, sftp, gs,
// gcs, file, plain paths), errors naming the part at fault, no secrets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "config/config.h"
#include "storage/url.h"

namespace litekeep::config {
namespace {

ReplicaConfig MustParse(const std::string& url) {
  auto r = ParseReplicaUrl(url);
  EXPECT_TRUE(r.ok()) << url << ": " << r.status().message();
  return r.ok() ? *r : ReplicaConfig();
}

std::string ErrorOf(const std::string& url) {
  auto r = ParseReplicaUrl(url);
  EXPECT_FALSE(r.ok()) << url;
  return r.ok() ? "" : r.status().message();
}

TEST(ConfigUrlTest, S3Basic) {
  ReplicaConfig r = MustParse("s3://mybkt/db/app");
  EXPECT_EQ(r.type, "s3");
  EXPECT_EQ(r.bucket, "mybkt");
  EXPECT_EQ(r.path, "db/app");
  EXPECT_EQ(r.url, "s3://mybkt/db/app");
  EXPECT_TRUE(r.endpoint.empty());
  EXPECT_FALSE(r.force_path_style);

  r = MustParse("s3://mybkt");
  EXPECT_EQ(r.bucket, "mybkt");
  EXPECT_EQ(r.path, "");
  r = MustParse("s3://mybkt/a//b/./c/");
  EXPECT_EQ(r.path, "a/b/c");
}

TEST(ConfigUrlTest, S3BucketWithDots) {
  ReplicaConfig r = MustParse("s3://my.bucket.com/db");
  EXPECT_EQ(r.bucket, "my.bucket.com");
  EXPECT_EQ(r.path, "db");
  EXPECT_TRUE(r.endpoint.empty());
  r = MustParse("s3://mybkt.litestream.io/db");
  EXPECT_EQ(r.bucket, "mybkt.litestream.io");
}

TEST(ConfigUrlTest, S3QueryOptions) {
  ReplicaConfig r = MustParse(
      "s3://bkt/p?endpoint=127.0.0.1:9000&region=eu-west-1&skipVerify=true");
  EXPECT_EQ(r.endpoint, "http://127.0.0.1:9000");  // local: http
  EXPECT_EQ(r.region, "eu-west-1");
  EXPECT_TRUE(r.force_path_style);  // endpoint implies path style
  EXPECT_TRUE(r.skip_verify);

  r = MustParse("s3://bkt/p?endpoint=fly.storage.tigris.dev&region=auto");
  EXPECT_EQ(r.endpoint, "https://fly.storage.tigris.dev");
  EXPECT_TRUE(r.force_path_style);

  r = MustParse(
      "s3://bkt/p?endpoint=https://minio.example:9000&"
      "forcePathStyle=false");
  EXPECT_EQ(r.endpoint, "https://minio.example:9000");
  EXPECT_FALSE(r.force_path_style);

  r = MustParse("s3://bkt/p?forcePathStyle=true");
  EXPECT_TRUE(r.force_path_style);

  r = MustParse(
      "s3://bkt/p?force-path-style=true&storage-class=GLACIER&"
      "partSize=5MiB&concurrency=4&signPayload=false&"
      "requireContentMD5=false");
  EXPECT_TRUE(r.force_path_style);
  EXPECT_EQ(r.storage_class, "GLACIER");
  EXPECT_EQ(r.part_size, 5 * 1024 * 1024);
  EXPECT_EQ(r.concurrency, 4);
  EXPECT_EQ(r.sign_payload, false);
  EXPECT_EQ(r.require_content_md5, false);

  r = MustParse("s3://bkt/my%20dir?region=us%2Deast-1");
  EXPECT_EQ(r.path, "my dir");
  EXPECT_EQ(r.region, "us-east-1");
}

TEST(ConfigUrlTest, S3HostShortcuts) {
  struct {
    const char* url;
    const char* bucket;
    const char* region;
    const char* endpoint;
    bool path_style;
  } cases[] = {
      {"s3://bkt.s3.amazonaws.com/db", "bkt", "", "", false},
      {"s3://bkt.s3.us-west-2.amazonaws.com/db", "bkt", "us-west-2", "", false},
      {"s3://bkt.nyc3.digitaloceanspaces.com/db", "bkt", "nyc3",
       "https://nyc3.digitaloceanspaces.com", false},
      {"s3://bkt.s3.us-west-004.backblazeb2.com/db", "bkt", "us-west-004",
       "https://s3.us-west-004.backblazeb2.com", true},
      {"s3://bkt.s3.filebase.com/db", "bkt", "", "https://s3.filebase.com",
       true},
      {"s3://bkt.s3.fr-par.scw.cloud/db", "bkt", "fr-par",
       "https://s3.fr-par.scw.cloud", false},
      {"s3://bkt.0123abc.r2.cloudflarestorage.com/db", "bkt", "auto",
       "https://0123abc.r2.cloudflarestorage.com", false},
      {"s3://bkt.us-east-1.linodeobjects.com/db", "bkt", "us-east-1",
       "https://us-east-1.linodeobjects.com", false},
      {"s3://bkt.fly.storage.tigris.dev/db", "bkt", "auto",
       "https://fly.storage.tigris.dev", false},
      {"s3://bkt.localhost:9000/db", "bkt", "us-east-1",
       "http://localhost:9000", true},
  };
  for (const auto& c : cases) {
    ReplicaConfig r = MustParse(c.url);
    EXPECT_EQ(r.type, "s3") << c.url;
    EXPECT_EQ(r.bucket, c.bucket) << c.url;
    EXPECT_EQ(r.region, c.region) << c.url;
    EXPECT_EQ(r.endpoint, c.endpoint) << c.url;
    EXPECT_EQ(r.force_path_style, c.path_style) << c.url;
    EXPECT_EQ(r.path, "db") << c.url;
  }
  // A query endpoint overrides the host shortcut's.
  ReplicaConfig r = MustParse(
      "s3://bkt.nyc3.digitaloceanspaces.com/db?endpoint=https://x.example");
  EXPECT_EQ(r.endpoint, "https://x.example");
}

TEST(ConfigUrlTest, S3AccessPointArn) {
  ReplicaConfig r = MustParse(
      "s3://arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/db/app");
  EXPECT_EQ(r.bucket, "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap");
  EXPECT_EQ(r.region, "us-west-2");
  EXPECT_EQ(r.path, "db/app");
}

// An unknown scheme is refused naming the supported ones.
TEST(ConfigUrlTest, UnknownSchemesAreRefused) {
  std::string e = ErrorOf("ftp://host/p");
  EXPECT_NE(e.find("supported: file, s3"), std::string::npos) << e;
  EXPECT_NE(e.find("webdav"), std::string::npos) << e;
  EXPECT_NE(e.find("nats"), std::string::npos) << e;
}

// gs://BUCKET/PATH (and gcs://, any case), as Litestream writes them.
TEST(ConfigUrlTest, Gcs) {
  for (const char* url :
       {"gs://bkt/db/app", "gcs://bkt/db/app/", "GS://bkt/db//app"}) {
    ReplicaConfig r = MustParse(url);
    EXPECT_EQ(r.type, "gcs") << url;
    EXPECT_EQ(r.bucket, "bkt") << url;
    EXPECT_EQ(r.path, "db/app") << url;
    EXPECT_EQ(Redacted(r), "gs://bkt/db/app") << url;
  }
  ReplicaConfig r = MustParse("gs://bkt/p?endpoint=http://127.0.0.1:9000");
  EXPECT_EQ(r.endpoint, "http://127.0.0.1:9000");
  EXPECT_NE(ErrorOf("gs:///p").find("no bucket"), std::string::npos);
  EXPECT_NE(ErrorOf("gs://me@bkt/p").find("no user name"), std::string::npos);
}

// sftp://USER[:PASSWORD]@HOST[:PORT]/PATH, as Litestream writes them.
TEST(ConfigUrlTest, Sftp) {
  ReplicaConfig r = MustParse("sftp://bob@backup.example.com:2222/srv/db/");
  EXPECT_EQ(r.type, "sftp");
  EXPECT_EQ(r.user, "bob");
  EXPECT_EQ(r.host, "backup.example.com:2222");
  EXPECT_EQ(r.path, "/srv/db");
  EXPECT_EQ(Redacted(r), "sftp://bob@backup.example.com:2222/srv/db");
  r = MustParse("sftp://bob:Hunter2Secret@host/db");
  EXPECT_EQ(r.password, "Hunter2Secret");
  EXPECT_EQ(r.host, "host");
  EXPECT_EQ(Redacted(r).find("Hunter2Secret"), std::string::npos);
  r = MustParse("sftp://bob@host");
  EXPECT_EQ(r.path, "") << "the login directory";
  EXPECT_NE(ErrorOf("sftp://host/db").find("no user"), std::string::npos);
  EXPECT_NE(ErrorOf("sftp://bob@/db").find("no host"), std::string::npos);
  std::string e = ErrorOf("sftp://bob:Hunter2Secret@host/db?x=1");
  EXPECT_NE(e.find("\"x\""), std::string::npos) << e;
  EXPECT_EQ(e.find("Hunter2Secret"), std::string::npos) << e;
}

TEST(ConfigUrlTest, FileAndPlainPaths) {
  ReplicaConfig r = MustParse("file:///var/backups/db");
  EXPECT_EQ(r.type, "file");
  EXPECT_EQ(r.path, "/var/backups/db");
  r = MustParse("file://localhost/var/backups/");
  EXPECT_EQ(r.path, "/var/backups");

  r = MustParse("/abs/replica");
  EXPECT_EQ(r.type, "file");
  EXPECT_EQ(r.path, "/abs/replica");

  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  r = MustParse("rel/replica");
  EXPECT_EQ(r.type, "file");
  EXPECT_EQ(r.path, std::string(cwd) + "/rel/replica");
}

TEST(ConfigUrlTest, Errors) {
  std::string e = ErrorOf("ftp://host/path");
  EXPECT_NE(e.find("unknown replica type \"ftp\""), std::string::npos) << e;
  EXPECT_NE(e.find("supported: file, s3"), std::string::npos) << e;

  e = ErrorOf("s3://bkt/p?forcePathStlye=true");
  EXPECT_NE(e.find("\"forcePathStlye\""), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean \"force-path-style\""), std::string::npos)
      << e;

  e = ErrorOf("s3://bkt/p?skipVerify=sometimes");
  EXPECT_NE(e.find("skipVerify"), std::string::npos) << e;
  EXPECT_NE(e.find("sometimes"), std::string::npos) << e;

  EXPECT_NE(ErrorOf("s3:///path").find("no bucket"), std::string::npos);
  EXPECT_NE(ErrorOf("file://otherhost/x").find("otherhost"), std::string::npos);
  EXPECT_NE(ErrorOf("file://").find("no path"), std::string::npos);
  EXPECT_NE(ErrorOf("file:///x?region=x").find("region"), std::string::npos);
  EXPECT_FALSE(ParseReplicaUrl("").ok());
}

TEST(ConfigUrlTest, ErrorsNeverShowPasswords) {
  std::string e = ErrorOf("s3://u:Hunter2Secret@host/p?bogus=1");
  EXPECT_EQ(e.find("Hunter2Secret"), std::string::npos) << e;
  EXPECT_NE(e.find("REDACTED"), std::string::npos) << e;
  e = ErrorOf("s3://u:Hunter2Secret@bkt/p");
  EXPECT_EQ(e.find("Hunter2Secret"), std::string::npos) << e;
}

TEST(ConfigUrlTest, RedactedHasNoSecrets) {
  ReplicaConfig r =
      MustParse("s3://bkt/db?endpoint=http://127.0.0.1:9000&region=r1");
  r.access_key_id = "AKIAEXAMPLE";
  r.secret_access_key = "TopSecretKey";
  r.sse_customer_key = "TopSecretSse";
  std::string s = Redacted(r);
  EXPECT_EQ(s.find("TopSecret"), std::string::npos) << s;
  EXPECT_EQ(s,
            "s3://bkt/db?endpoint=http://127.0.0.1:9000&region=r1&"
            "forcePathStyle=true");

  EXPECT_EQ(Redacted(MustParse("file:///x/y")), "/x/y");

  // An endpoint with user info (refused when the client is built) never
  // prints its password.
  r.endpoint = "http://user:TopSecretPw@127.0.0.1:9000";
  s = Redacted(r);
  EXPECT_EQ(s.find("TopSecret"), std::string::npos) << s;
  EXPECT_NE(s.find("user:REDACTED@127.0.0.1:9000"), std::string::npos) << s;
}

// Credentials in URL query parameters are refused, saying where they go,
// and the error does not repeat them.
TEST(ConfigUrlTest, CredentialsInQueryAreRefused) {
  struct {
    const char* url;
    const char* home;
  } cases[] = {
      {"s3://b/p?secret-access-key=TopSecret1", "AWS_SECRET_ACCESS_KEY"},
      {"s3://b/p?secretAccessKey=TopSecret1", "secret-access-key"},
      {"s3://b/p?access-key-id=TopSecret1", "AWS_ACCESS_KEY_ID"},
      {"s3://b/p?session-token=TopSecret1", "AWS_SESSION_TOKEN"},
      {"s3://b/p?sse-customer-key=TopSecret1", "sse-customer-key-path"},
      {"s3://b/p?X-Amz-Signature=TopSecret1", "config file"},
      {"file:///x?password=TopSecret1", "config file"},
  };
  for (const auto& c : cases) {
    std::string e = ErrorOf(c.url);
    EXPECT_NE(e.find("credentials do not belong in a URL"), std::string::npos)
        << c.url << ": " << e;
    EXPECT_NE(e.find(c.home), std::string::npos) << c.url << ": " << e;
    EXPECT_EQ(e.find("TopSecret1"), std::string::npos) << c.url << ": " << e;
  }
}

// Every credential-bearing part of a URL is redacted, nested URLs included.
TEST(ConfigUrlTest, RedactUrlTextCoversEveryCredential) {
  using storage::RedactUrlText;
  EXPECT_EQ(RedactUrlText("s3://b/p?endpoint=http://u:Pw1@h:9000&region=r"),
            "s3://b/p?endpoint=http://u:REDACTED@h:9000&region=r");
  EXPECT_EQ(RedactUrlText("s3://b/p?secret-access-key=Pw1&region=r"),
            "s3://b/p?secret-access-key=REDACTED&region=r");
  EXPECT_EQ(RedactUrlText("https://h/k?X-Amz-Signature=abc&X-Amz-Credential="
                          "AKIA%2F1&x=1"),
            "https://h/k?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&"
            "x=1");
  EXPECT_EQ(RedactUrlText("http://u:Pw1@h/p#frag"),
            "http://u:REDACTED@h/p#frag");
  EXPECT_EQ(RedactUrlText("s3://b/p?region=r"), "s3://b/p?region=r");
  EXPECT_EQ(RedactUrlText("/plain/path"), "/plain/path");
}

}  // namespace
}  // namespace litekeep::config
