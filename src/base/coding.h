// Big-endian and unsigned-varint (Go binary.Uvarint) encoding helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace litekeep::base {

inline uint16_t GetBE16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t GetBE32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t GetBE64(const uint8_t* p) {
  return (uint64_t{GetBE32(p)} << 32) | GetBE32(p + 4);
}
inline uint32_t GetLE32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
         (uint32_t{p[3]} << 24);
}
inline void PutBE16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void PutBE32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void PutBE64(uint8_t* p, uint64_t v) {
  PutBE32(p, static_cast<uint32_t>(v >> 32));
  PutBE32(p + 4, static_cast<uint32_t>(v));
}

// Maximum bytes of a 64-bit uvarint.
inline constexpr size_t kMaxVarintLen64 = 10;

// Appends the uvarint encoding of v to out; returns bytes written.
size_t PutUvarint(std::string& out, uint64_t v);
// Writes the uvarint encoding of v into p (kMaxVarintLen64 bytes available).
size_t PutUvarint(uint8_t* p, uint64_t v);

struct VarintResult {
  uint64_t value;
  size_t length;  // bytes consumed
};

// Decodes a canonical uvarint at the start of in. Returns nullopt when the
// input ends early, the value overflows 64 bits, or the encoding is over-long
// (a trailing 0x00 continuation byte).
std::optional<VarintResult> GetUvarint(std::span<const uint8_t> in);

}  // namespace litekeep::base
