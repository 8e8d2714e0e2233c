// Unit tests for base/: CRC-64/ISO, varints, big-endian coding, Status.
#include <gtest/gtest.h>

#include <string>

#include "base/coding.h"
#include "base/crc64.h"
#include "base/io.h"
#include "base/status.h"

namespace litekeep::base {
namespace {

TEST(Crc64Test, CheckValue) {
  EXPECT_EQ(Crc64Of("123456789"), 0xB90956C775A41001ULL);
}

TEST(Crc64Test, StreamingEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 31));
  for (size_t split : {0, 1, 7, 8, 9, 500, 999, 1000}) {
    Crc64 c;
    c.Update(data.data(), split);
    c.Update(data.data() + split, data.size() - split);
    EXPECT_EQ(c.Value(), Crc64Of(data)) << split;
  }
  EXPECT_EQ(Crc64Of(""), 0u);
}

TEST(VarintTest, RoundTrip) {
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, 16384ULL,
                     0xFFFFFFFFULL, ~0ULL}) {
    std::string s;
    size_t n = PutUvarint(s, v);
    ASSERT_EQ(n, s.size());
    auto r = GetUvarint({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
    ASSERT_TRUE(r.has_value()) << v;
    EXPECT_EQ(r->value, v);
    EXPECT_EQ(r->length, n);
  }
}

TEST(VarintTest, RejectsTruncatedOverlongAndOverflow) {
  const uint8_t truncated[] = {0x80};
  EXPECT_FALSE(GetUvarint(truncated).has_value());
  const uint8_t overlong[] = {0x81, 0x00};
  EXPECT_FALSE(GetUvarint(overlong).has_value());
  const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0x02};
  EXPECT_FALSE(GetUvarint(overflow).has_value());
}

TEST(CodingTest, BigEndian) {
  uint8_t b[8];
  PutBE64(b, 0x0102030405060708ULL);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[7], 8);
  EXPECT_EQ(GetBE64(b), 0x0102030405060708ULL);
  PutBE32(b, 0xA0B0C0D0u);
  EXPECT_EQ(GetBE32(b), 0xA0B0C0D0u);
  PutBE16(b, 0xBEEF);
  EXPECT_EQ(GetBE16(b), 0xBEEF);
}

TEST(StatusTest, ContextAndCodes) {
  Status s = NotFoundError("object x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.WithContext("restore").message(), "restore: object x");
  EXPECT_EQ(s.WithContext("restore").code(), Code::kNotFound);
  EXPECT_TRUE(UnavailableError("503").retryable());
  EXPECT_FALSE(CorruptError("bad").retryable());
  Result<int> r = 5;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  Result<int> e = IoError("disk");
  EXPECT_EQ(e.status().code(), Code::kIoError);
}

TEST(IoTest, AtomicWriteAndRead) {
  std::string dir = ::testing::TempDir() + "/lk_io_test";
  ASSERT_TRUE(MakeDirs(dir + "/a/b").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/a/b/f", "hello").ok());
  auto s = ReadFileToString(dir + "/a/b/f");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "hello");
  EXPECT_FALSE(PathExists(dir + "/a/b/f.tmp"));
  auto missing = ReadFileToString(dir + "/nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace litekeep::base
