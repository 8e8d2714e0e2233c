// Unit tests for NATS nkeys and credentials: the published seed/public key
// pair of the NATS documentation, round trips for every role, every
// single-letter typo caught by the CRC, signatures that OpenSSL verifies
// with the decoded public key, .creds parsing, and the user-JWT checks.
// Messages never quote a seed.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "storage/hash.h"
#include "storage/nats/nkey.h"

namespace litekeep::storage::nats {
namespace {

// docs.nats.io, "NKeys" (nkey_auth): `nk -gen user -pubout`.
constexpr char kDocSeed[] =
    "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
constexpr char kDocPublic[] =
    "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

bool Verify(const std::string& public_key, NkeyType type,
            const std::string& data, const std::string& sig) {
  auto raw = DecodePublicKey(public_key, type);
  if (!raw.ok()) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              raw->data(), raw->size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key != nullptr && ctx != nullptr &&
            EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(sig.data()),
                sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
                data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::string Jwt(const nlohmann::json& claims) {
  return Base64UrlEncode(R"({"typ":"JWT","alg":"ed25519-nkey"})") + "." +
         Base64UrlEncode(claims.dump()) + ".c2ln";
}

TEST(NatsNkeyTest, PublishedPair) {
  auto kp = KeyPair::FromSeed(kDocSeed);
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  EXPECT_EQ(kp->type(), NkeyType::kUser);
  EXPECT_EQ(kp->public_key(), kDocPublic);
  EXPECT_EQ(kp->EncodedSeed(), kDocSeed);
  auto sig = kp->Sign("nonce-from-server");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(Verify(kDocPublic, NkeyType::kUser, "nonce-from-server", *sig));
  EXPECT_FALSE(Verify(kDocPublic, NkeyType::kUser, "another-nonce", *sig));
}

TEST(NatsNkeyTest, RolesRoundTrip) {
  for (NkeyType type : {NkeyType::kUser, NkeyType::kAccount,
                        NkeyType::kOperator, NkeyType::kServer}) {
    auto kp = KeyPair::Generate(type);
    ASSERT_TRUE(kp.ok());
    const std::string pub = kp->public_key();
    const std::string seed = kp->EncodedSeed();
    EXPECT_EQ(pub.size(), 56u);
    EXPECT_EQ(seed.size(), 58u);
    EXPECT_EQ(seed[0], 'S');
    EXPECT_EQ(seed[1], pub[0]) << NkeyTypeName(type);
    auto again = KeyPair::FromSeed(seed);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->public_key(), pub);
    EXPECT_EQ(again->type(), type);
    EXPECT_TRUE(DecodePublicKey(pub, type).ok());
    auto wrong_role = DecodePublicKey(
        pub, type == NkeyType::kUser ? NkeyType::kAccount : NkeyType::kUser);
    ASSERT_FALSE(wrong_role.ok());
    EXPECT_NE(wrong_role.status().message().find(
                  std::string(NkeyTypeName(type)) + " key"),
              std::string::npos)
        << wrong_role.status().message();
  }
  EXPECT_EQ(
      std::string(1, KeyPair::Generate(NkeyType::kAccount)->public_key()[0]),
      "A");
  EXPECT_EQ(KeyPair::Generate(NkeyType::kOperator)->public_key()[0], 'O');
}

TEST(NatsNkeyTest, EveryTypoIsCaughtAndNeverQuoted) {
  const std::string seed = kDocSeed;
  int caught = 0;
  for (size_t i = 0; i < seed.size(); ++i) {
    std::string t = seed;
    t[i] = t[i] == 'Q' ? 'R' : 'Q';
    auto kp = KeyPair::FromSeed(t);
    ASSERT_FALSE(kp.ok()) << "position " << i;
    EXPECT_EQ(kp.status().message().find(t), std::string::npos);
    EXPECT_EQ(kp.status().message().find(seed.substr(2, 20)),
              std::string::npos);
    if (kp.status().message().find("bad checksum") != std::string::npos) {
      ++caught;
    }
  }
  EXPECT_EQ(caught, static_cast<int>(seed.size()));
  std::string pub = kDocPublic;
  pub[5] = pub[5] == 'A' ? 'B' : 'A';
  auto bad = DecodePublicKey(pub, NkeyType::kUser);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad checksum"), std::string::npos);
  EXPECT_FALSE(KeyPair::FromSeed("su-lowercase").ok());
  EXPECT_FALSE(KeyPair::FromSeed("").ok());
  auto as_seed = KeyPair::FromSeed(kDocPublic);
  ASSERT_FALSE(as_seed.ok());
  EXPECT_NE(as_seed.status().message().find("is a public key"),
            std::string::npos);
}

TEST(NatsNkeyTest, CredsFiles) {
  auto kp = KeyPair::FromSeed(kDocSeed);
  ASSERT_TRUE(kp.ok());
  const std::string jwt =
      Jwt({{"sub", kDocPublic}, {"nats", {{"type", "user"}, {"version", 2}}}});
  // As `nsc` writes them, with CRLF line ends too.
  const std::string text =
      "-----BEGIN NATS USER JWT-----\n" + jwt +
      "\n------END NATS USER JWT------\n\n"
      "************************* IMPORTANT *************************\n"
      "NKEY Seed printed below can be used to sign and prove identity.\n\n"
      "-----BEGIN USER NKEY SEED-----\n" +
      std::string(kDocSeed) +
      "\n------END USER NKEY SEED------\n\n"
      "*************************************************************\n";
  for (const std::string& t : {text, [&] {
                                 std::string crlf;
                                 for (char c : text)
                                   crlf += c == '\n' ? std::string("\r\n")
                                                     : std::string(1, c);
                                 return crlf;
                               }()}) {
    auto c = ParseCreds(t, "creds file /x.creds");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->jwt, jwt);
    EXPECT_EQ(c->seed, kDocSeed);
  }
  EXPECT_TRUE(CheckUserJwt(jwt, *kp, 1700000000, "w").ok());

  auto no_blocks = ParseCreds("just text\n", "creds file /x.creds");
  ASSERT_FALSE(no_blocks.ok());
  EXPECT_EQ(no_blocks.status().message().rfind("creds file /x.creds: ", 0), 0u);
  EXPECT_NE(no_blocks.status().message().find("not a NATS credentials file"),
            std::string::npos);
  auto jwt_only = ParseCreds(text.substr(0, text.find("***")), "f");
  ASSERT_FALSE(jwt_only.ok());
  EXPECT_NE(jwt_only.status().message().find("USER NKEY SEED"),
            std::string::npos);
  // A damaged seed: named, never quoted.
  std::string damaged = text;
  const size_t at = damaged.find(kDocSeed) + 9;
  damaged[at] = damaged[at] == 'A' ? 'B' : 'A';
  auto bad = ParseCreds(damaged, "creds file /x.creds");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad checksum"), std::string::npos);
  EXPECT_EQ(bad.status().message().find(damaged.substr(at - 9, 58)),
            std::string::npos);
  // An account seed where a user seed belongs.
  auto account = KeyPair::Generate(NkeyType::kAccount);
  std::string acct = text;
  acct.replace(acct.find(kDocSeed), 58, account->EncodedSeed());
  auto role = ParseCreds(acct, "f");
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.status().message().find("account seed"), std::string::npos);
}

TEST(NatsNkeyTest, UserJwtChecks) {
  auto kp = KeyPair::FromSeed(kDocSeed);
  ASSERT_TRUE(kp.ok());
  auto other = KeyPair::Generate(NkeyType::kUser);
  Status s = CheckUserJwt(
      Jwt({{"sub", other->public_key()}, {"nats", {{"type", "user"}}}}), *kp, 0,
      "creds file /c");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("creds file /c: the user JWT is for " +
                             other->public_key() +
                             " but the seed is the key of " + kDocPublic),
            std::string::npos)
      << s.message();
  s = CheckUserJwt(Jwt({{"sub", kDocPublic}, {"nats", {{"type", "account"}}}}),
                   *kp, 0, "w");
  EXPECT_NE(s.message().find("an account JWT; a user JWT is needed"),
            std::string::npos)
      << s.message();
  s = CheckUserJwt(
      Jwt({{"sub", kDocPublic}, {"exp", 1000}, {"nats", {{"type", "user"}}}}),
      *kp, 2000, "w");
  EXPECT_EQ(s.code(), base::Code::kPermissionDenied);
  EXPECT_NE(s.message().find("expired"), std::string::npos);
  // v1 JWTs put the type at the top level.
  EXPECT_TRUE(
      CheckUserJwt(Jwt({{"sub", kDocPublic}, {"type", "user"}}), *kp, 0, "w")
          .ok());
  EXPECT_FALSE(CheckUserJwt("a.b", *kp, 0, "w").ok());
  EXPECT_FALSE(CheckUserJwt("a.!!!.c", *kp, 0, "w").ok());
}

}  // namespace
}  // namespace litekeep::storage::nats
