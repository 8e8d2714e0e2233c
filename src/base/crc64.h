// CRC-64/ISO exactly as Go's hash/crc64 with the ISO table computes it
// (reflected polynomial 0xD800000000000000, init and final XOR all ones).
// Check value: Crc64("123456789") == 0xB90956C775A41001.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace litekeep::base {

// Streaming CRC-64/ISO.
class Crc64 {
 public:
  void Update(const void* data, size_t n);
  void Update(std::span<const uint8_t> data) { Update(data.data(), data.size()); }
  // The CRC of everything passed to Update so far.
  uint64_t Value() const { return ~reg_; }
  void Reset() { reg_ = ~uint64_t{0}; }

 private:
  uint64_t reg_ = ~uint64_t{0};
};

// One-shot CRC-64/ISO of data.
uint64_t Crc64Of(const void* data, size_t n);
inline uint64_t Crc64Of(std::string_view s) { return Crc64Of(s.data(), s.size()); }

}  // namespace litekeep::base
