// Unit tests for base/: CRC-64/ISO, varints, big-endian coding, Status.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

// The check value through each implementation (the clmul one only where the
// CPU has it), with the init and final XOR applied by hand.
TEST(Crc64Test, CheckValueEachImplementation) {
  const std::string s = "123456789";
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  EXPECT_EQ(~crc64_internal::UpdateTable(~0ULL, p, s.size()),
            0xB90956C775A41001ULL);
  if (crc64_internal::HasClmul()) {
    EXPECT_EQ(~crc64_internal::UpdateClmul(~0ULL, p, s.size()),
              0xB90956C775A41001ULL);
  }
}

// The folding constants are x^k mod P. The table CRC (zero register) of a
// message that is a single 1 bit followed by zeros, L bytes in all, is
// x^(8L-1) * x^64 mod P, which checks them by a route that shares nothing
// with their derivation.
TEST(Crc64Test, FoldingConstantsMatchTheTables) {
  for (unsigned bytes = 1; bytes <= 160; ++bytes) {
    std::vector<uint8_t> msg(bytes, 0);
    msg[0] = 0x01;  // reflected: bit 0 of the first byte is the highest term
    EXPECT_EQ(crc64_internal::XPowModP(8 * bytes + 63),
              crc64_internal::UpdateTable(0, msg.data(), msg.size()))
        << bytes;
  }
  // The constants the folding code uses (see crc64.cc).
  EXPECT_EQ(crc64_internal::XPowModP(191), 0x6b70000000000001ULL);
  EXPECT_EQ(crc64_internal::XPowModP(127), 0xf500000000000001ULL);
  EXPECT_EQ(crc64_internal::XPowModP(1087), 0xf501b0000001b000ULL);
  EXPECT_EQ(crc64_internal::XPowModP(1023), 0xb001000000010000ULL);
}

// PCLMULQDQ folding equals slicing-by-8 for every length 0..4096, every
// start alignment 0..15, and random registers.
TEST(Crc64Test, ClmulEqualsTableOnRandomInputs) {
  if (!crc64_internal::HasClmul()) {
    GTEST_SKIP() << "this CPU has no PCLMULQDQ; only the table version runs";
  }
  std::mt19937_64 rng(20261122);
  std::vector<uint8_t> buf(4096 + 16 + 1);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t n = 0; n <= 4096; ++n) {
    const size_t start = n % 16;
    const uint64_t reg = (n % 3 == 0) ? ~0ULL : rng();
    const uint8_t* p = buf.data() + start;
    ASSERT_EQ(crc64_internal::UpdateClmul(reg, p, n),
              crc64_internal::UpdateTable(reg, p, n))
        << "length " << n << " start " << start;
  }
  for (size_t start = 0; start < 16; ++start) {
    for (size_t n : {255, 256, 257, 1000, 4096}) {
      const uint64_t reg = rng();
      const uint8_t* p = buf.data() + start;
      ASSERT_EQ(crc64_internal::UpdateClmul(reg, p, n),
                crc64_internal::UpdateTable(reg, p, n))
          << "length " << n << " start " << start;
    }
  }
  // Streaming through Crc64 in random pieces equals one table pass.
  Crc64 c;
  size_t done = 0;
  while (done < buf.size()) {
    const size_t piece = std::min<size_t>(rng() % 700, buf.size() - done);
    c.Update(buf.data() + done, piece);
    done += piece;
  }
  EXPECT_EQ(c.Value(),
            ~crc64_internal::UpdateTable(~0ULL, buf.data(), buf.size()));
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
