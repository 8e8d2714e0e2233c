// CRC-64/ISO: slicing-by-8 tables, and PCLMULQDQ folding on x86-64 CPUs that
// have it (chosen at run time). The folding follows the method of Intel's
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
// Instruction"; its constants are derived below from the polynomial.
#include "base/crc64.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LITEKEEP_CRC64_CLMUL 1
#include <immintrin.h>
#endif

namespace litekeep::base {
namespace crc64_internal {
namespace {

constexpr uint64_t kPoly = 0xD800000000000000ULL;  // reflected
// The same polynomial in normal bit order without the x^64 term:
// x^64 + x^4 + x^3 + x + 1.
constexpr uint64_t kPolyNormal = 0x1B;
static_assert(std::endian::native == std::endian::little,
              "slicing-by-8 and folding assume a little-endian host");

constexpr uint64_t Reflect64(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 64; ++i) r |= ((v >> i) & 1) << (63 - i);
  return r;
}
static_assert(Reflect64(kPolyNormal) == kPoly);

// x^n mod P, reflected.
constexpr uint64_t XPowModPConst(unsigned n) {
  uint64_t r = 1;  // normal order: bit i is x^i
  for (unsigned i = 0; i < n; ++i) {
    const bool carry = (r >> 63) != 0;
    r <<= 1;
    if (carry) r ^= kPolyNormal;
  }
  return Reflect64(r);
}

struct Tables {
  std::array<std::array<uint64_t, 256>, 8> t;
  Tables() {
    for (int i = 0; i < 256; ++i) {
      uint64_t crc = static_cast<uint64_t>(i);
      for (int j = 0; j < 8; ++j) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
      t[0][i] = crc;
    }
    for (int i = 0; i < 256; ++i) {
      for (int k = 1; k < 8; ++k) {
        t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
      }
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

#ifdef LITEKEEP_CRC64_CLMUL
// Folding a 128-bit block X = H·x^64 + L (H: the low quadword, the earlier
// bytes in reflected order) forward by d bits replaces X·x^d with
// H·(x^(d+64) mod P) + L·(x^d mod P), which is congruent mod P. A reflected
// 64x64 carry-less product comes out multiplied by x once more, so the
// constants are x^(d+63) and x^(d-1).
struct FoldConstants {
  uint64_t for_high;  // multiplies H
  uint64_t for_low;   // multiplies L
};
constexpr FoldConstants FoldBy(unsigned d) {
  return {XPowModPConst(d + 63), XPowModPConst(d - 1)};
}

constexpr int kLanes = 8;  // 128 bytes folded per iteration
constexpr FoldConstants kFold128 = FoldBy(128);
constexpr FoldConstants kFoldLanes = FoldBy(128 * kLanes);
// The derived values, written out so a change to the derivation shows.
static_assert(kFold128.for_high == 0x6b70000000000001ULL);   // x^191
static_assert(kFold128.for_low == 0xf500000000000001ULL);    // x^127
static_assert(kFoldLanes.for_high == 0xf501b0000001b000ULL); // x^1087
static_assert(kFoldLanes.for_low == 0xb001000000010000ULL);  // x^1023

__attribute__((target("pclmul,sse2"))) inline __m128i Fold(__m128i x,
                                                           __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                       _mm_clmulepi64_si128(x, k, 0x11));
}

__attribute__((target("pclmul,sse2"))) inline __m128i Load(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
#endif

}  // namespace

uint64_t XPowModP(unsigned n) { return XPowModPConst(n); }

uint64_t UpdateTable(uint64_t reg, const uint8_t* p, size_t n) {
  const auto& t = GetTables().t;
  uint64_t crc = reg;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);  // little-endian host assumed (x86_64, aarch64)
    crc ^= w;
    crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
          t[4][(crc >> 24) & 0xff] ^ t[3][(crc >> 32) & 0xff] ^
          t[2][(crc >> 40) & 0xff] ^ t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#ifdef LITEKEEP_CRC64_CLMUL
bool HasClmul() {
  static const bool has = __builtin_cpu_supports("pclmul") != 0;
  return has;
}

// The register is XORed into the first 8 bytes (that is what the table
// algorithm does with it), the blocks are folded into one 128-bit
// remainder congruent to the data mod P, and the table algorithm finishes
// from a zero register over that remainder and the tail under 16 bytes.
__attribute__((target("pclmul,sse2"))) uint64_t UpdateClmul(uint64_t reg,
                                                          const uint8_t* p,
                                                          size_t n) {
  if (n < 16 * kLanes * 2) return UpdateTable(reg, p, n);
  const __m128i k_lanes = _mm_set_epi64x(
      static_cast<int64_t>(kFoldLanes.for_low),
      static_cast<int64_t>(kFoldLanes.for_high));
  const __m128i k_128 =
      _mm_set_epi64x(static_cast<int64_t>(kFold128.for_low),
                     static_cast<int64_t>(kFold128.for_high));
  __m128i x[kLanes];
  for (int i = 0; i < kLanes; ++i) x[i] = Load(p + 16 * i);
  x[0] = _mm_xor_si128(x[0], _mm_set_epi64x(0, static_cast<int64_t>(reg)));
  p += 16 * kLanes;
  n -= 16 * kLanes;
  while (n >= 16 * kLanes) {
    for (int i = 0; i < kLanes; ++i) {
      x[i] = _mm_xor_si128(Fold(x[i], k_lanes), Load(p + 16 * i));
    }
    p += 16 * kLanes;
    n -= 16 * kLanes;
  }
  __m128i acc = x[0];
  for (int i = 1; i < kLanes; ++i) acc = _mm_xor_si128(Fold(acc, k_128), x[i]);
  while (n >= 16) {
    acc = _mm_xor_si128(Fold(acc, k_128), Load(p));
    p += 16;
    n -= 16;
  }
  uint8_t rest[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(rest), acc);
  return UpdateTable(UpdateTable(0, rest, 16), p, n);
}
#else
bool HasClmul() { return false; }
uint64_t UpdateClmul(uint64_t reg, const uint8_t* p, size_t n) {
  return UpdateTable(reg, p, n);
}
#endif

}  // namespace crc64_internal

void Crc64::Update(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  reg_ = crc64_internal::HasClmul() ? crc64_internal::UpdateClmul(reg_, p, n)
                                    : crc64_internal::UpdateTable(reg_, p, n);
}

uint64_t Crc64Of(const void* data, size_t n) {
  Crc64 c;
  c.Update(data, n);
  return c.Value();
}

}  // namespace litekeep::base
