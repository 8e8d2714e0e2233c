// Unsigned-varint encoding compatible with Go's encoding/binary.
#include "base/coding.h"

namespace litekeep::base {

size_t PutUvarint(uint8_t* p, uint64_t v) {
  size_t i = 0;
  while (v >= 0x80) {
    p[i++] = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  p[i++] = static_cast<uint8_t>(v);
  return i;
}

size_t PutUvarint(std::string& out, uint64_t v) {
  uint8_t buf[kMaxVarintLen64];
  size_t n = PutUvarint(buf, v);
  out.append(reinterpret_cast<const char*>(buf), n);
  return n;
}

std::optional<VarintResult> GetUvarint(std::span<const uint8_t> in) {
  uint64_t value = 0;
  unsigned shift = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    uint8_t b = in[i];
    if (i == kMaxVarintLen64 - 1 && b > 1) return std::nullopt;  // overflow
    if (i >= kMaxVarintLen64) return std::nullopt;
    value |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) {
      if (b == 0 && i > 0) return std::nullopt;  // over-long encoding
      return VarintResult{value, i + 1};
    }
    shift += 7;
  }
  return std::nullopt;
}

}  // namespace litekeep::base
