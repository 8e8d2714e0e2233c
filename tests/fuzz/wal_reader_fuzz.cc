// libFuzzer target: the WAL reader (src/sqlite/wal.h): header decoding and
// the committed-frame scan over arbitrary bytes. The first input byte holds
// flags that let the fuzzer get past the checksums: bit 0 reseals the
// header checksum, bit 1 rewrites the frame salts to the header's, bit 2
// re-chains the frame checksums. The rest is the WAL file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/coding.h"
#include "base/io.h"
#include "sqlite/wal.h"

using namespace litekeep;
using namespace litekeep::sqlite;

namespace {

// Rewrites the frames in place so they chain from the header (as flagged).
void Repair(std::vector<uint8_t>& wal, uint8_t flags) {
  if (wal.size() < kWalHeaderSize) return;
  bool big = (base::GetBE32(wal.data()) & 1) != 0;
  if (flags & 1) {
    WalChecksum ck = ComputeWalChecksum(big, {wal.data(), 24}, {});
    base::PutBE32(wal.data() + 24, ck.s0);
    base::PutBE32(wal.data() + 28, ck.s1);
  }
  uint32_t page_size = base::GetBE32(wal.data() + 8);
  if (page_size < 512 || page_size > 65536) return;
  size_t frame = kWalFrameHeaderSize + page_size;
  WalChecksum ck = {base::GetBE32(wal.data() + 24),
                    base::GetBE32(wal.data() + 28)};
  for (size_t off = kWalHeaderSize; off + frame <= wal.size(); off += frame) {
    uint8_t* f = wal.data() + off;
    if (flags & 2) memcpy(f + 8, wal.data() + 16, 8);
    ck = ComputeWalChecksum(big, {f, 8}, ck);
    ck = ComputeWalChecksum(big, {f + kWalFrameHeaderSize, page_size}, ck);
    if (flags & 4) {
      base::PutBE32(f + 16, ck.s0);
      base::PutBE32(f + 20, ck.s1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("fuzz.wal", 0);
  if (fd < 0) abort();
  static base::File* file = new base::File(fd, "fuzz.wal");
  if (size == 0) return 0;
  std::vector<uint8_t> wal(data + 1, data + size);
  Repair(wal, data[0]);
  if (ftruncate(fd, 0) != 0) abort();
  if (!wal.empty() &&
      pwrite(fd, wal.data(), wal.size(), 0) != static_cast<ssize_t>(wal.size()))
    abort();

  auto header = ReadWalHeader(*file);
  if (!header.ok()) return 0;
  auto scan = ScanWal(*file, *header, kWalHeaderSize, header->checksum);
  if (scan.ok() && !scan->empty()) {
    // Scanning again from the end of the first scan finds nothing new.
    (void)ScanWal(*file, *header, scan->end_offset, scan->checksum);
  }
  return 0;
}
