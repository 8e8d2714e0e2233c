// Unit tests for the GCS service-account JWT (storage/gcs/auth.h): the
// RS256 signature verifies with the key's public half (OpenSSL), the header
// and claims are what Google's token endpoint expects, and a key that is
// not PEM is an error that never quotes it; plus URL-safe Base64.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "storage/gcs/auth.h"
#include "storage/hash.h"

namespace litekeep::storage::gcs {
namespace {

std::string Base64UrlDecode(std::string s) {
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  return Base64Decode(s).value();
}

TEST(GcsAuthTest, JwtIsSignedRs256WithTheExpectedClaims) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* pem = nullptr;
  long n = BIO_get_mem_data(bio, &pem);
  ServiceAccountKey sa;
  sa.private_key.assign(pem, static_cast<size_t>(n));
  BIO_free(bio);
  sa.client_email = "svc@proj.iam.gserviceaccount.com";
  sa.private_key_id = "kid-1";
  sa.token_uri = "https://oauth2.example/token";
  const TimePoint now = Clock::from_time_t(1700000000);

  auto jwt = SignJwt(sa, kStorageScope, now);
  ASSERT_TRUE(jwt.ok()) << jwt.status().ToString();
  const size_t d1 = jwt->find('.');
  const size_t d2 = jwt->find('.', d1 + 1);
  ASSERT_NE(d2, std::string::npos);
  auto header = nlohmann::json::parse(Base64UrlDecode(jwt->substr(0, d1)));
  auto claims =
      nlohmann::json::parse(Base64UrlDecode(jwt->substr(d1 + 1, d2 - d1 - 1)));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(header["kid"], "kid-1");
  EXPECT_EQ(claims["iss"], sa.client_email);
  EXPECT_EQ(claims["aud"], sa.token_uri);
  EXPECT_EQ(claims["scope"], kStorageScope);
  EXPECT_EQ(claims["iat"], 1700000000);
  EXPECT_EQ(claims["exp"], 1700003600);
  EXPECT_EQ(jwt->find('='), std::string::npos) << "unpadded";

  // The signature verifies over "header.claims" with the public key.
  const std::string input = jwt->substr(0, d2);
  const std::string sig = Base64UrlDecode(jwt->substr(d2 + 1));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(
      EVP_DigestVerify(
          ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
          reinterpret_cast<const unsigned char*>(input.data()), input.size()),
      1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
}

TEST(GcsAuthTest, KeyThatIsNotPemIsRefusedWithoutQuotingIt) {
  ServiceAccountKey sa;
  sa.client_email = "svc@proj.iam.gserviceaccount.com";
  sa.private_key = "not-a-key-SECRETMATERIAL";
  auto jwt = SignJwt(sa, kStorageScope, Clock::now());
  ASSERT_FALSE(jwt.ok());
  EXPECT_NE(jwt.status().message().find(sa.client_email), std::string::npos);
  EXPECT_EQ(jwt.status().message().find("SECRETMATERIAL"), std::string::npos);
}

TEST(GcsAuthTest, Base64UrlHasNoPaddingAndUrlSafeLetters) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(Base64UrlEncode("a"), "YQ");
  EXPECT_EQ(Base64UrlEncode("ab"), "YWI");
  EXPECT_EQ(Base64UrlEncode(""), "");
}

}  // namespace
}  // namespace litekeep::storage::gcs
