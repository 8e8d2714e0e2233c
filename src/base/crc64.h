// CRC-64/ISO exactly as Go's hash/crc64 with the ISO table computes it
// (reflected polynomial 0xD800000000000000, init and final XOR all ones).
// Check value: Crc64("123456789") == 0xB90956C775A41001.
// Uses carry-less multiplication (PCLMULQDQ) where the CPU has it and
// slicing-by-8 tables everywhere else; both give identical results.
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

// The two implementations behind Crc64, exposed for tests and benchmarks.
// Each advances a raw register (no init or final XOR applied): for any reg,
// data and n they return the same value.
namespace crc64_internal {

// Slicing-by-8 tables; runs everywhere.
uint64_t UpdateTable(uint64_t reg, const uint8_t* data, size_t n);
// True when UpdateClmul may be called on this CPU.
bool HasClmul();
// PCLMULQDQ folding. Only call when HasClmul() is true.
uint64_t UpdateClmul(uint64_t reg, const uint8_t* data, size_t n);

// x^n mod P as a 64-bit reflected value (bit i is the coefficient of
// x^(63-i)), P the CRC-64/ISO polynomial. The folding constants are these
// values; tests check them against the table implementation.
uint64_t XPowModP(unsigned n);

}  // namespace crc64_internal
}  // namespace litekeep::base
