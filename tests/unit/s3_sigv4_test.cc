// Proves the SigV4 signer where s3rver cannot (it never checks
// signatures): AWS's published test-suite vectors (tests/testdata/sigv4) and
// a cross-check against the AWS SDK for JavaScript's signer
// (@smithy/signature-v4) on a few hundred generated S3-style requests.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "storage/s3/sigv4.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"

namespace litekeep::storage::s3 {
namespace {

using litekeep::testing::ReadFile;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TimePoint ParseIsoTime(const std::string& s) {
  std::tm tm{};
  strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return Clock::from_time_t(timegm(&tm));
}

struct ParsedRequest {
  SigningRequest req;
  Credentials creds;
  std::string region, service;
  TimePoint time;
};

// Parses one vector directory's request.txt and context.json.
ParsedRequest ParseVector(const std::string& dir) {
  ParsedRequest p;
  auto ctx = nlohmann::json::parse(Slurp(dir + "/context.json"));
  p.creds.access_key_id = ctx["credentials"]["access_key_id"];
  p.creds.secret_access_key = ctx["credentials"]["secret_access_key"];
  if (ctx["credentials"].contains("token")) {
    p.creds.session_token = ctx["credentials"]["token"];
  }
  p.region = ctx["region"];
  p.service = ctx["service"];
  p.time = ParseIsoTime(ctx["timestamp"]);
  p.req.content_sha256_header = ctx.value("sign_body", false);
  p.req.sign_session_token = !ctx.value("omit_session_token", false);

  std::string text = Slurp(dir + "/request.txt");
  size_t eol = text.find('\n');
  std::string first = text.substr(0, eol);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  size_t sp = first.find(' ');
  p.req.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, first.rfind(" HTTP/") - sp - 1);
  size_t q = target.find('?');
  p.req.path = UriDecode(target.substr(0, q));
  if (q != std::string::npos) {
    std::stringstream qs(target.substr(q + 1));
    std::string part;
    while (std::getline(qs, part, '&')) {
      size_t eq = part.find('=');
      p.req.query.emplace_back(
          UriDecode(part.substr(0, eq)),
          eq == std::string::npos ? "" : UriDecode(part.substr(eq + 1)));
    }
  }
  size_t pos = eol + 1;
  std::string body;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    std::string line =
        text.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
    pos = e == std::string::npos ? text.size() : e + 1;
    if (line.empty()) {
      body = text.substr(pos);
      break;
    }
    size_t colon = line.find(':');
    p.req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  p.req.payload_hash = Sha256Hex(body);
  return p;
}

std::string VectorsDir() {
  return litekeep::testing::TestSourceDir() + "/tests/testdata/sigv4";
}

TEST(S3SigV4, AwsTestSuiteVectors) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(VectorsDir())) {
    if (!entry.is_directory()) continue;
    const std::string dir = entry.path().string();
    SCOPED_TRACE(entry.path().filename().string());
    ParsedRequest p = ParseVector(dir);
    SignedRequest s = SignV4(p.req, p.creds, p.region, p.service, p.time);
    EXPECT_EQ(s.canonical_request,
              Slurp(dir + "/header-canonical-request.txt"));
    EXPECT_EQ(s.string_to_sign, Slurp(dir + "/header-string-to-sign.txt"));
    EXPECT_EQ(s.signature, Slurp(dir + "/header-signature.txt"));
    std::string signed_req = Slurp(dir + "/header-signed-request.txt");
    EXPECT_NE(signed_req.find("Authorization:" + s.authorization + "\n"),
              std::string::npos)
        << s.authorization;
    if (!p.creds.session_token.empty()) {
      bool found = false;
      for (const auto& [k, v] : s.added_headers) {
        if (k == "X-Amz-Security-Token" && v == p.creds.session_token)
          found = true;
      }
      EXPECT_TRUE(found);
    }
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(S3SigV4, UriEncoding) {
  EXPECT_EQ(UriEncode("a b/c~d_e.f-g", false), "a%20b/c~d_e.f-g");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b%2Fc");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4+=&", true), "%E1%88%B4%2B%3D%26");
  EXPECT_EQ(UriDecode("%E1%88%B4%2b%zz%"), "\xE1\x88\xB4+%zz%");
}

TEST(S3SigV4, HashHelpers) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Md5Base64("hello"), "XUFAKrxLKna5cZ2REBfFkg==");
  StreamHash h;
  std::string data = "hello";
  h.Update({reinterpret_cast<const uint8_t*>(data.data()), 2});
  h.Update({reinterpret_cast<const uint8_t*>(data.data()) + 2, 3});
  std::string sha, md5;
  h.Finish(&sha, &md5);
  EXPECT_EQ(sha, Sha256Hex("hello"));
  EXPECT_EQ(md5, "XUFAKrxLKna5cZ2REBfFkg==");
  EXPECT_EQ(AmzDate(ParseIsoTime("2015-08-30T12:36:00Z")), "20150830T123600Z");
}

// Random strings drawn from pieces that matter for encoding.
std::string RandomText(std::mt19937_64& rng, int max_pieces, bool allow_slash) {
  static const char* kPieces[] = {"a",
                                  "Z",
                                  "0",
                                  "9",
                                  "-",
                                  "_",
                                  ".",
                                  "~",
                                  " ",
                                  "  ",
                                  "+",
                                  "=",
                                  "&",
                                  "%",
                                  "%20",
                                  "!",
                                  "*",
                                  "'",
                                  "(",
                                  ")",
                                  "@",
                                  ":",
                                  ",",
                                  ";",
                                  "$",
                                  "?",
                                  "#",
                                  "[",
                                  "]",
                                  "\xC3\xA9",
                                  "\xE2\x82\xAC",
                                  "\xE1\x88\xB4",
                                  "\xF0\x9F\x98\x80",
                                  "0000000000000001-0000000000000002.ltx",
                                  "db",
                                  "ltx"};
  std::uniform_int_distribution<int> n(1, max_pieces);
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  std::string out;
  int count = n(rng);
  for (int i = 0; i < count; ++i) {
    if (allow_slash && rng() % 5 == 0) out += '/';
    out += kPieces[pick(rng)];
  }
  return out;
}

TEST(S3SigV4, MatchesAwsSdkForJavaScript) {
  if (!litekeep::testing::HaveNode()) GTEST_SKIP() << "node is not installed";
  const std::string modules = litekeep::testing::NpmModulesDir();
  ASSERT_FALSE(modules.empty()) << "npm test packages missing";

  std::mt19937_64 rng(20240601);
  const char* methods[] = {"GET", "PUT", "HEAD", "DELETE", "POST"};
  const char* regions[] = {"us-east-1", "eu-west-3", "auto", "ap-southeast-2"};
  constexpr int kRequests = 300;

  struct Case {
    SigningRequest req;
    Credentials creds;
    std::string region;
    TimePoint time;
  };
  std::vector<Case> cases;
  litekeep::testing::TempDir tmp;
  std::ofstream jsonl(tmp.Join("requests.jsonl"));
  for (int i = 0; i < kRequests; ++i) {
    Case c;
    c.req.method = methods[rng() % std::size(methods)];
    std::string host =
        rng() % 2 ? "bucket.s3.amazonaws.com"
                  : "127.0.0.1:" + std::to_string(1024 + rng() % 60000);
    c.req.path = "/" + RandomText(rng, 8, true);
    if (rng() % 2) c.req.path = "/bucket" + c.req.path;
    int nq = static_cast<int>(rng() % 4);
    const char* qkeys[] = {"list-type", "prefix",      "continuation-token",
                           "uploadId",  "partNumber",  "delete",
                           "max-keys",  "start-after", "x-id"};
    std::vector<std::string> used;
    for (int k = 0; k < nq; ++k) {
      std::string key = qkeys[rng() % std::size(qkeys)];
      if (std::find(used.begin(), used.end(), key) != used.end()) continue;
      used.push_back(key);
      c.req.query.emplace_back(key,
                               rng() % 4 == 0 ? "" : RandomText(rng, 6, true));
    }
    c.req.headers.emplace_back("host", host);
    if (rng() % 3 == 0) {
      int64_t a = static_cast<int64_t>(rng() % 100000);
      c.req.headers.emplace_back(
          "range", "bytes=" + std::to_string(a) + "-" +
                       (rng() % 2 ? std::to_string(a + rng() % 5000) : ""));
    }
    if (rng() % 3 == 0) {
      c.req.headers.emplace_back(
          "x-amz-meta-litestream-timestamp",
          "2024-01-02T03:04:05." + std::to_string(rng() % 1000) + "Z");
    }
    if (rng() % 4 == 0) c.req.headers.emplace_back("if-none-match", "*");
    if (rng() % 4 == 0)
      c.req.headers.emplace_back("content-type", "application/octet-stream");
    if (rng() % 5 == 0)
      c.req.headers.emplace_back("x-amz-meta-note", "  spaced   value  ");
    std::string body;
    int kind = static_cast<int>(rng() % 10);
    size_t size = kind < 3   ? 0
                  : kind < 8 ? rng() % 4096
                             : (1u << 20) + rng() % (3u << 20);
    body.resize(size);
    for (auto& ch : body) ch = static_cast<char>(rng());
    bool hashed = rng() % 3 != 0;
    if (!body.empty()) {
      c.req.headers.emplace_back("content-md5", Md5Base64(body));
      c.req.headers.emplace_back("content-length", std::to_string(body.size()));
    }
    c.req.payload_hash =
        hashed ? Sha256Hex(body) : std::string(kUnsignedPayload);
    c.creds.access_key_id = "AKIA" + std::to_string(rng() % 1000000);
    c.creds.secret_access_key = "secret/" + std::to_string(rng()) + "+key";
    if (rng() % 4 == 0)
      c.creds.session_token = "token" + std::to_string(rng()) + "==";
    c.region = regions[rng() % std::size(regions)];
    c.time =
        Clock::from_time_t(1500000000 + static_cast<time_t>(rng() % 300000000));

    nlohmann::json j;
    j["method"] = c.req.method;
    j["host"] = host;
    j["path"] = c.req.path;
    j["query"] = c.req.query;
    KeyValues extra(c.req.headers.begin() + 1, c.req.headers.end());
    j["headers"] = extra;
    j["hashed"] = hashed;
    j["body_b64"] = Base64Encode(
        {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
    j["akid"] = c.creds.access_key_id;
    j["secret"] = c.creds.secret_access_key;
    j["token"] = c.creds.session_token;
    j["region"] = c.region;
    j["time"] = Clock::to_time_t(c.time);
    jsonl << j.dump() << "\n";
    cases.push_back(std::move(c));
  }
  jsonl.close();

  auto result = litekeep::testing::Run(
      {"node",
       litekeep::testing::TestSourceDir() + "/tests/unit/s3_sigv4_smithy.js",
       modules, tmp.Join("requests.jsonl")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::stringstream lines(result.out);
  std::string line;
  int i = 0, mismatches = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ASSERT_LT(i, kRequests);
    auto j = nlohmann::json::parse(line);
    const Case& c = cases[static_cast<size_t>(i)];
    SignedRequest s = SignV4(c.req, c.creds, c.region, "s3", c.time);
    if (s.canonical_request != j["canonical"].get<std::string>() ||
        s.authorization != j["authorization"].get<std::string>()) {
      if (++mismatches <= 3) {
        ADD_FAILURE() << "request " << i << "\nours:\n"
                      << s.canonical_request << "\nsdk:\n"
                      << j["canonical"].get<std::string>()
                      << "\nours: " << s.authorization
                      << "\nsdk:  " << j["authorization"].get<std::string>();
      }
    }
    ++i;
  }
  EXPECT_EQ(i, kRequests);
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace litekeep::storage::s3
