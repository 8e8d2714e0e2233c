// libFuzzer target: the Litestream 0.3 LZ4 frame reader
// (src/restore/legacy/lz4_reader.h) over arbitrary bytes, read in chunks of
// varying size. Every outcome must be bytes or a Status.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/io.h"
#include "restore/legacy/lz4_reader.h"

using namespace litekeep;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size, so short and long reads both run.
  size_t chunk = 1 + (size_t{data[0]} * 257);
  base::SpanReader in({data + 1, size - 1});
  restore::legacy::Lz4FrameReader reader(&in, "fuzz.lz4");
  std::vector<uint8_t> buf(chunk);
  size_t total = 0;
  while (total < (64u << 20)) {
    auto n = reader.Read(buf);
    if (!n.ok() || *n == 0) break;
    if (*n > buf.size()) __builtin_trap();  // a reader must not overrun
    total += *n;
  }
  return 0;
}
