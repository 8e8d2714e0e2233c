// CRC-64/ISO with slicing-by-8 tables.
#include "base/crc64.h"

#include <array>
#include <bit>
#include <cstring>

namespace litekeep::base {
namespace {

constexpr uint64_t kPoly = 0xD800000000000000ULL;
static_assert(std::endian::native == std::endian::little,
              "slicing-by-8 assumes a little-endian host");

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

}  // namespace

void Crc64::Update(const void* data, size_t n) {
  const auto& t = GetTables().t;
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t crc = reg_;
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
  reg_ = crc;
}

uint64_t Crc64Of(const void* data, size_t n) {
  Crc64 c;
  c.Update(data, n);
  return c.Value();
}

}  // namespace litekeep::base
