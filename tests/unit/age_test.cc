// Unit tests for base/age: key parsing, round trips at chunk boundaries,
// tampering refused, wrong identity named, and interop both ways with the
// age command (Debian's age 1.1.1) when it is installed.
#include "base/age.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "base/io.h"
#include "tests/support/test_util.h"

namespace litekeep::base {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

AgeIdentity NewIdentity() {
  Result<AgeIdentity> id = GenerateAgeIdentity();
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return *id;
}

TEST(AgeKeysTest, EncodeParseRoundTrip) {
  AgeIdentity id = NewIdentity();
  std::string rs = id.recipient.Encode();
  std::string is = id.Encode();
  EXPECT_EQ(rs.rfind("age1", 0), 0u) << rs;
  EXPECT_EQ(rs.size(), 62u);
  EXPECT_EQ(is.rfind("AGE-SECRET-KEY-1", 0), 0u);
  EXPECT_EQ(is.size(), 74u);
  Result<AgeRecipient> r = ParseAgeRecipient(rs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key, id.recipient.key);
  Result<AgeIdentity> i = ParseAgeIdentity(is);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->secret, id.secret);
  EXPECT_EQ(i->recipient.key, id.recipient.key);
}

TEST(AgeKeysTest, BadKeysNamedWithoutSecrets) {
  AgeIdentity id = NewIdentity();
  std::string rs = id.recipient.Encode();
  std::string bad = rs;
  bad[10] = bad[10] == 'q' ? 'p' : 'q';
  Result<AgeRecipient> r = ParseAgeRecipient(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(bad), std::string::npos);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);

  std::string is = id.Encode();
  std::string bad_id = is;
  bad_id[20] = bad_id[20] == 'Q' ? 'P' : 'Q';
  Result<AgeIdentity> i = ParseAgeIdentity(bad_id);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.status().message().find(bad_id.substr(16)), std::string::npos)
      << "secret echoed: " << i.status().message().size();
  EXPECT_NE(i.status().message().find("checksum"), std::string::npos);
  // A recipient is not an identity and the other way round.
  EXPECT_FALSE(ParseAgeIdentity(rs).ok());
  Result<AgeRecipient> swapped = ParseAgeRecipient(is);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().message().find(is.substr(16)), std::string::npos);
}

TEST(AgeKeysTest, IdentityFile) {
  AgeIdentity a = NewIdentity(), b = NewIdentity();
  std::string text = "# created: now\n# public key: " + a.recipient.Encode() +
                     "\n" + a.Encode() + "\n\n" + b.Encode() + "\r\n";
  Result<std::vector<AgeIdentity>> ids = ParseAgeIdentities(text);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[1].secret, b.secret);
  Result<std::vector<AgeIdentity>> none = ParseAgeIdentities("# nothing\n");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no age identity"), std::string::npos);
  Result<std::vector<AgeIdentity>> bad = ParseAgeIdentities("\nbogus\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
}

TEST(AgeCodecTest, RoundTripAtChunkBoundaries) {
  AgeIdentity id = NewIdentity();
  std::vector<AgeRecipient> rcpt = {id.recipient};
  std::vector<AgeIdentity> ids = {id};
  for (size_t n : {size_t{0}, size_t{1}, kAgeChunkSize - 1, kAgeChunkSize,
                   kAgeChunkSize + 1, 2 * kAgeChunkSize, size_t{1} << 20}) {
    std::string plain = RandomBytes(n, static_cast<uint32_t>(n));
    Result<std::string> ct = AgeEncrypt(plain, rcpt);
    ASSERT_TRUE(ct.ok()) << ct.status().ToString();
    EXPECT_TRUE(LooksLikeAge(*ct));
    size_t header = ct->find("\n---");
    header = ct->find('\n', header + 1) + 1;
    EXPECT_EQ(ct->size() - header, AgeWriter::PayloadSize(n)) << n;
    Result<std::string> back = AgeDecrypt(*ct, ids);
    ASSERT_TRUE(back.ok()) << n << ": " << back.status().ToString();
    EXPECT_EQ(*back, plain) << n;
  }
}

TEST(AgeCodecTest, StreamingWritesAndSmallReads) {
  AgeIdentity id = NewIdentity();
  std::vector<AgeRecipient> rcpt = {id.recipient};
  std::vector<AgeIdentity> ids = {id};
  std::string plain = RandomBytes(3 * kAgeChunkSize + 77, 9);
  std::string ct;
  StringWriter sw(&ct);
  auto w = AgeWriter::Create(&sw, rcpt);
  ASSERT_TRUE(w.ok());
  for (size_t i = 0; i < plain.size(); i += 1000) {
    std::string_view part = std::string_view(plain).substr(i, 1000);
    ASSERT_TRUE((*w)->Write({reinterpret_cast<const uint8_t*>(part.data()),
                             part.size()})
                    .ok());
  }
  ASSERT_TRUE((*w)->Finish().ok());
  SpanReader sr({reinterpret_cast<const uint8_t*>(ct.data()), ct.size()});
  auto r = AgeReader::Open(&sr, ids);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string back;
  std::vector<uint8_t> buf(333);
  while (true) {
    Result<size_t> n = (*r)->Read(buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    back.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  EXPECT_EQ(back, plain);
}

TEST(AgeCodecTest, SeveralRecipients) {
  AgeIdentity a = NewIdentity(), b = NewIdentity(), c = NewIdentity();
  std::vector<AgeRecipient> rcpt = {a.recipient, b.recipient};
  Result<std::string> ct = AgeEncrypt("hello", rcpt);
  ASSERT_TRUE(ct.ok());
  std::vector<AgeIdentity> only_b = {c, b};
  Result<std::string> back = AgeDecrypt(*ct, only_b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, "hello");
}

TEST(AgeCodecTest, WrongIdentityNamed) {
  AgeIdentity a = NewIdentity(), b = NewIdentity();
  std::vector<AgeRecipient> rcpt = {a.recipient};
  std::vector<AgeIdentity> ids = {b};
  Result<std::string> ct = AgeEncrypt("secret", rcpt);
  ASSERT_TRUE(ct.ok());
  Result<std::string> back = AgeDecrypt(*ct, ids, "ltx/0/0000000000000001.ltx");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), Code::kPermissionDenied);
  EXPECT_NE(back.status().message().find("no identity matches"),
            std::string::npos);
  EXPECT_NE(back.status().message().find("ltx/0/0000000000000001.ltx"),
            std::string::npos);
  Result<std::string> none = AgeDecrypt(*ct, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no identity matches"),
            std::string::npos);
}

TEST(AgeCodecTest, TamperingRefused) {
  AgeIdentity id = NewIdentity();
  std::vector<AgeRecipient> rcpt = {id.recipient};
  std::vector<AgeIdentity> ids = {id};
  std::string plain = RandomBytes(2 * kAgeChunkSize + 100, 5);
  Result<std::string> ct = AgeEncrypt(plain, rcpt);
  ASSERT_TRUE(ct.ok());
  size_t mac_line = ct->find("\n---") + 1;
  size_t header_end = ct->find('\n', mac_line) + 1;
  struct Case {
    const char* what;
    size_t pos;
  };
  const Case cases[] = {
      {"version line", 3},
      {"stanza share", kAgeMagic.size() + 12},
      {"stanza body", ct->find('\n', kAgeMagic.size() + 1) + 5},
      {"mac", mac_line + 6},
      {"payload nonce", header_end + 2},
      {"first chunk", header_end + 16 + 10},
      {"middle chunk", header_end + 16 + kAgeChunkSize + 16 + 10},
      {"last chunk", ct->size() - 20},
      {"last tag", ct->size() - 1},
  };
  for (const Case& c : cases) {
    std::string bad = *ct;
    bad[c.pos] ^= 0x01;
    Result<std::string> back = AgeDecrypt(bad, ids, "obj");
    ASSERT_FALSE(back.ok()) << c.what;
    EXPECT_TRUE(back.status().code() == Code::kCorrupt ||
                back.status().code() == Code::kPermissionDenied)
        << c.what << ": " << back.status().ToString();
    EXPECT_EQ(back.status().message().rfind("obj", 0), 0u) << c.what;
  }
  // Payload tampering is always kCorrupt.
  std::string bad = *ct;
  bad[ct->size() - 20] ^= 1;
  EXPECT_EQ(AgeDecrypt(bad, ids).status().code(), Code::kCorrupt);
  // Truncation: a missing last chunk, a cut inside a chunk, a removed tail.
  for (size_t keep : {header_end + 16 + 2 * (kAgeChunkSize + 16),
                      header_end + 16 + kAgeChunkSize + 16, ct->size() - 1,
                      header_end + 5, mac_line}) {
    Result<std::string> back = AgeDecrypt(ct->substr(0, keep), ids);
    ASSERT_FALSE(back.ok()) << keep;
    EXPECT_EQ(back.status().code(), Code::kCorrupt) << back.status().ToString();
  }
  // Appended bytes change the last-chunk boundary.
  Result<std::string> longer = AgeDecrypt(*ct + "x", ids);
  EXPECT_FALSE(longer.ok());
  // Not age at all.
  Result<std::string> plain_text = AgeDecrypt("LTX1 hello", ids, "x.ltx");
  ASSERT_FALSE(plain_text.ok());
  EXPECT_NE(plain_text.status().message().find("age-encryption.org/v1"),
            std::string::npos);
}

// The age command (Debian's age package), or "" when absent.
bool HaveAgeCommand() {
  return testing::RunShell("command -v age && command -v age-keygen")
             .exit_code == 0;
}
constexpr const char* kNoAge =
    "the age command is not installed (apt-get install age); interop not run";

TEST(AgeInteropTest, AgeDecryptsWhatWeWrite) {
  if (!HaveAgeCommand()) GTEST_SKIP() << kNoAge;
  testing::TempDir dir;
  std::string key = dir.Join("key.txt");
  ASSERT_EQ(testing::Run({"age-keygen", "-o", key}).exit_code, 0);
  Result<std::vector<AgeIdentity>> ids =
      ParseAgeIdentities(testing::ReadFile(key));
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  std::vector<AgeRecipient> rcpt = {(*ids)[0].recipient};
  // The public key age-keygen printed equals the one we derive.
  EXPECT_NE(testing::ReadFile(key).find(rcpt[0].Encode()), std::string::npos);
  for (size_t n : {size_t{0}, kAgeChunkSize, size_t{1} << 20}) {
    std::string plain = RandomBytes(n, 77);
    Result<std::string> ct = AgeEncrypt(plain, rcpt);
    ASSERT_TRUE(ct.ok());
    std::string enc = dir.Join("f.age"), out = dir.Join("f.out");
    ASSERT_TRUE(WriteFileAtomic(enc, *ct).ok());
    testing::CommandResult r =
        testing::Run({"age", "-d", "-i", key, "-o", out, enc});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // age creates -o lazily: an empty plaintext leaves no file.
    EXPECT_EQ(n == 0 && !PathExists(out) ? "" : testing::ReadFile(out), plain)
        << n;
    ASSERT_TRUE(n == 0 || ::unlink(out.c_str()) == 0);
  }
}

TEST(AgeInteropTest, WeDecryptWhatAgeWrites) {
  if (!HaveAgeCommand()) GTEST_SKIP() << kNoAge;
  testing::TempDir dir;
  AgeIdentity a = NewIdentity(), b = NewIdentity();
  for (size_t n : {size_t{0}, size_t{1}, kAgeChunkSize, kAgeChunkSize + 1,
                   size_t{1} << 20}) {
    std::string plain = RandomBytes(n, 3);
    std::string in = dir.Join("p"), enc = dir.Join("p.age");
    ASSERT_TRUE(WriteFileAtomic(in, plain).ok());
    testing::CommandResult r =
        testing::Run({"age", "-r", a.recipient.Encode(), "-r",
                      b.recipient.Encode(), "-o", enc, in});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<AgeIdentity> ids = {b};
    Result<std::string> back = AgeDecrypt(testing::ReadFile(enc), ids);
    ASSERT_TRUE(back.ok()) << n << ": " << back.status().ToString();
    EXPECT_EQ(*back, plain) << n;
  }
}

}  // namespace
}  // namespace litekeep::base
