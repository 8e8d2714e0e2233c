// Unit tests for the WebDAV backend's pure parts: webdav:// and webdavs://
// URLs and Litestream's webdav-* config keys (no password printed), the
// settings check, the multistatus parser (any namespace prefix, encoded and
// absolute hrefs), and the temporary-upload names listings hide.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "storage/registry.h"
#include "storage/url.h"
#include "storage/webdav/client_impl.h"
#include "storage/webdav/options.h"

namespace litekeep {
namespace {

using storage::ReplicaSettings;

TEST(WebdavUrlTest, LitestreamForms) {
  auto r = config::ParseReplicaUrl(
      "webdav://alice:pa%40ss@dav.example:8080/backups/db");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, "webdav");
  EXPECT_EQ(r->webdav_url, "http://dav.example:8080");
  EXPECT_EQ(r->path, "backups/db");
  EXPECT_EQ(r->webdav_username, "alice");
  EXPECT_EQ(r->webdav_password, "pa@ss");
  const std::string shown = config::Redacted(*r);
  EXPECT_EQ(shown.find("pa@ss"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("pa%40ss"), std::string::npos) << shown;
  EXPECT_EQ(storage::Describe(*r),
            "webdav://alice@dav.example:8080/backups/db");

  r = config::ParseReplicaUrl("webdavs://dav.example/db");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->webdav_url, "https://dav.example");
  EXPECT_EQ(r->path, "db");
  EXPECT_TRUE(r->webdav_username.empty());

  auto bad = config::ParseReplicaUrl("webdav:///db");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no host"), std::string::npos);
}

TEST(WebdavConfigTest, Litestream05KeysAndUrl) {
  auto c = config::Parse(
      "dbs:\n  - path: /a.db\n    replica:\n      type: webdav\n"
      "      webdav-url: https://cloud.example/remote.php/dav/files/u/\n"
      "      webdav-username: u\n      webdav-password: hunter2hunter2\n"
      "      path: /backups/app\n",
      "litekeep.yml", true);
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto& r = c->dbs[0].replicas[0];
  EXPECT_EQ(r.type, "webdav");
  EXPECT_EQ(r.webdav_url, "https://cloud.example/remote.php/dav/files/u");
  EXPECT_EQ(r.path, "backups/app");
  EXPECT_EQ(r.webdav_password, "hunter2hunter2");
  EXPECT_EQ(config::Redacted(r).find("hunter2"), std::string::npos);

  c = config::Parse(
      "dbs:\n  - path: /a.db\n    replica:\n"
      "      url: webdav://u:hunter2hunter2@127.0.0.1:9/p\n"
      "      bucket: b\n",
      "litekeep.yml", true);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bucket: not used by webdav replicas"),
            std::string::npos)
      << c.status().message();
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos);
}

TEST(WebdavConfigTest, SettingsCheck) {
  ReplicaSettings s;
  s.type = "webdav";
  EXPECT_NE(storage::CheckSettings(&s).message().find("no server"),
            std::string::npos);
  s.webdav_url = "ftp://h";
  EXPECT_NE(storage::CheckSettings(&s).message().find("must be http(s)"),
            std::string::npos);
  s.webdav_url = "http://u:secretpw@h";
  const std::string m = storage::CheckSettings(&s).message();
  EXPECT_NE(m.find("webdav-username"), std::string::npos) << m;
  EXPECT_EQ(m.find("secretpw"), std::string::npos) << m;
  s.webdav_url = "localhost:8080/";
  s.path = "/a//b/";
  ASSERT_TRUE(storage::CheckSettings(&s).ok());
  EXPECT_EQ(s.webdav_url, "http://localhost:8080");
  EXPECT_EQ(s.path, "a/b");
  s.path = "a/../b";
  EXPECT_FALSE(storage::CheckSettings(&s).ok());
}

// rclone's answer shape (D: prefix) and Apache mod_dav's (lp1: properties,
// absolute and encoded hrefs, whitespace in tags).
TEST(WebdavMultistatusTest, AnyPrefixAndEncodedHrefs) {
  const std::string rclone =
      R"(<?xml version="1.0" encoding="UTF-8"?><D:multistatus xmlns:D="DAV:">)"
      R"(<D:response><D:href>/r/ltx/0/</D:href><D:propstat><D:prop>)"
      R"(<D:resourcetype><D:collection xmlns:D="DAV:"/></D:resourcetype>)"
      R"(</D:prop></D:propstat></D:response>)"
      R"(<D:response><D:href>/r/ltx/0/0000000000000001-0000000000000002.ltx</D:href>)"
      R"(<D:propstat><D:prop><D:getcontentlength>123</D:getcontentlength>)"
      R"(<D:getlastmodified>Tue, 01 Dec 2026 18:20:23 GMT</D:getlastmodified>)"
      R"(<D:getetag>"abc"</D:getetag><D:resourcetype></D:resourcetype>)"
      R"(</D:prop></D:propstat></D:response></D:multistatus>)";
  auto e = storage::webdav::ParseMultistatus(rclone, "/r/ltx/0");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "0000000000000001-0000000000000002.ltx");
  EXPECT_FALSE(e[0].collection);
  EXPECT_EQ(e[0].size, 123);
  EXPECT_EQ(e[0].etag, "\"abc\"");
  EXPECT_GT(e[0].modified.time_since_epoch().count(), 0);

  const std::string apache =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<D:multistatus xmlns:D=\"DAV:\" xmlns:ns0=\"DAV:\">\n"
      "<D:response xmlns:lp1=\"DAV:\">\n"
      "<D:href>http://h/dav/my%20dir/</D:href>\n<D:propstat>\n<D:prop>\n"
      "<lp1:resourcetype><D:collection/></lp1:resourcetype>\n"
      "</D:prop>\n</D:propstat>\n</D:response>\n"
      "<D:response\n xmlns:lp1=\"DAV:\">\n"
      "<D:href>http://h/dav/my%20dir/sub/</D:href>\n<D:propstat>\n<D:prop>\n"
      "<lp1:resourcetype><D:collection/></lp1:resourcetype>\n"
      "</D:prop>\n</D:propstat>\n</D:response>\n"
      "<D:response xmlns:lp1=\"DAV:\">\n"
      "<D:href>/dav/my%20dir/a%26b.txt</D:href>\n<D:propstat>\n<D:prop>\n"
      "<lp1:resourcetype/>\n<lp1:getcontentlength>7</lp1:getcontentlength>\n"
      "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
      "</D:response>\n</D:multistatus>\n";
  e = storage::webdav::ParseMultistatus(apache, "/dav/my dir/");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].name, "sub");
  EXPECT_TRUE(e[0].collection);
  EXPECT_EQ(e[1].name, "a&b.txt");
  EXPECT_FALSE(e[1].collection);
  EXPECT_EQ(e[1].size, 7);
}

TEST(WebdavMultistatusTest, TempNames) {
  EXPECT_TRUE(storage::webdav::IsTempName("x.ltx.tmp-0123456789abcdef"));
  EXPECT_FALSE(storage::webdav::IsTempName("x.ltx.tmp-0123"));
  EXPECT_FALSE(storage::webdav::IsTempName("x.ltx"));
  EXPECT_FALSE(storage::webdav::IsTempName("x.tmp-0123456789abcdeg"));
}

}  // namespace
}  // namespace litekeep
