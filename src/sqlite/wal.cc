// WAL header/frame parsing, checksums and committed-frame scanning.
#include "sqlite/wal.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/coding.h"

namespace litekeep::sqlite {

WalChecksum ComputeWalChecksum(bool big_endian, std::span<const uint8_t> data,
                               WalChecksum seed) {
  uint32_t s0 = seed.s0, s1 = seed.s1;
  const uint8_t* p = data.data();
  size_t n = data.size() / 8;
  if (big_endian) {
    for (size_t i = 0; i < n; ++i, p += 8) {
      s0 += base::GetBE32(p) + s1;
      s1 += base::GetBE32(p + 4) + s0;
    }
  } else {
    for (size_t i = 0; i < n; ++i, p += 8) {
      s0 += base::GetLE32(p) + s1;
      s1 += base::GetLE32(p + 4) + s0;
    }
  }
  return {s0, s1};
}

Result<WalHeader> WalHeader::Decode(std::span<const uint8_t> in) {
  if (in.size() < kWalHeaderSize) {
    return base::CorruptError("WAL header is " + std::to_string(in.size()) +
                              " bytes, expected 32");
  }
  WalHeader h;
  const uint8_t* p = in.data();
  h.magic = base::GetBE32(p);
  h.version = base::GetBE32(p + 4);
  h.page_size = base::GetBE32(p + 8);
  h.checkpoint_seq = base::GetBE32(p + 12);
  h.salt1 = base::GetBE32(p + 16);
  h.salt2 = base::GetBE32(p + 20);
  h.checksum = {base::GetBE32(p + 24), base::GetBE32(p + 28)};
  if (h.magic != kWalMagicLE && h.magic != kWalMagicBE) {
    return base::CorruptError("WAL header has bad magic " +
                              std::to_string(h.magic));
  }
  if (h.version != kWalVersion) {
    return base::CorruptError("WAL header has unsupported version " +
                              std::to_string(h.version));
  }
  if (h.page_size < 512 || h.page_size > 65536 ||
      (h.page_size & (h.page_size - 1)) != 0) {
    return base::CorruptError("WAL header has invalid page size " +
                              std::to_string(h.page_size));
  }
  WalChecksum ck = ComputeWalChecksum(h.big_endian(), in.subspan(0, 24), {});
  if (!(ck == h.checksum)) {
    return base::CorruptError("WAL header checksum mismatch");
  }
  return h;
}

WalFrameHeader WalFrameHeader::Decode(const uint8_t* p) {
  WalFrameHeader f;
  f.pgno = base::GetBE32(p);
  f.commit = base::GetBE32(p + 4);
  f.salt1 = base::GetBE32(p + 8);
  f.salt2 = base::GetBE32(p + 12);
  f.checksum = {base::GetBE32(p + 16), base::GetBE32(p + 20)};
  return f;
}

Result<WalHeader> ReadWalHeader(const base::File& wal) {
  uint8_t buf[kWalHeaderSize];
  LK_ASSIGN_OR_RETURN(size_t n, wal.ReadAt(buf, sizeof(buf), 0));
  if (n < kWalHeaderSize) {
    return base::NotFoundError(wal.path() + ": WAL has no header (" +
                               std::to_string(n) + " bytes)");
  }
  auto h = WalHeader::Decode(buf);
  if (!h.ok()) return h.status().WithContext(wal.path());
  return h;
}

Result<WalScan> ScanWal(const base::File& wal, const WalHeader& header,
                        int64_t start_offset, WalChecksum seed,
                        int64_t max_bytes) {
  const int64_t frame_size = WalFrameSize(header);
  if (start_offset < static_cast<int64_t>(kWalHeaderSize) ||
      (start_offset - static_cast<int64_t>(kWalHeaderSize)) % frame_size != 0) {
    return base::InvalidArgumentError(wal.path() + ": WAL offset " +
                                      std::to_string(start_offset) +
                                      " is not a frame boundary");
  }
  WalScan scan;
  scan.start_offset = start_offset;
  scan.end_offset = start_offset;
  scan.checksum = seed;

  // Frames since the last commit, applied to `scan` when a commit arrives.
  std::map<Pgno, int64_t> pending;
  uint64_t pending_frames = 0;

  // Read in chunks of whole frames to keep syscalls few.
  const int64_t frames_per_chunk = std::max<int64_t>(1, (1 << 20) / frame_size);
  std::vector<uint8_t> buf(static_cast<size_t>(frames_per_chunk * frame_size));
  int64_t offset = start_offset;
  WalChecksum ck = seed;
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t got, wal.ReadAt(buf.data(), buf.size(), offset));
    int64_t whole = static_cast<int64_t>(got) / frame_size;
    if (whole == 0) break;
    bool stop = false;
    for (int64_t i = 0; i < whole; ++i) {
      const uint8_t* f = buf.data() + i * frame_size;
      WalFrameHeader fh = WalFrameHeader::Decode(f);
      if (fh.salt1 != header.salt1 || fh.salt2 != header.salt2) {
        stop = true;
        break;
      }
      WalChecksum next = ComputeWalChecksum(header.big_endian(), {f, 8}, ck);
      next =
          ComputeWalChecksum(header.big_endian(),
                             {f + kWalFrameHeaderSize, header.page_size}, next);
      if (!(next == fh.checksum) || fh.pgno == 0) {
        stop = true;
        break;
      }
      ck = next;
      int64_t frame_offset = offset + i * frame_size;
      pending[fh.pgno] = frame_offset;
      ++pending_frames;
      if (fh.commit != 0) {
        for (const auto& [pgno, off] : pending) scan.pages[pgno] = off;
        pending.clear();
        scan.frames += pending_frames;
        pending_frames = 0;
        ++scan.commits;
        scan.commit = fh.commit;
        scan.end_offset = frame_offset + frame_size;
        scan.checksum = ck;
        if (max_bytes > 0 && scan.end_offset - start_offset >= max_bytes) {
          scan.limited = true;
          stop = true;
          break;
        }
      }
    }
    if (stop || whole < frames_per_chunk) break;
    offset += whole * frame_size;
  }
  // Pages beyond the final database size are not part of the database.
  if (scan.commit != 0) {
    scan.pages.erase(scan.pages.upper_bound(scan.commit), scan.pages.end());
  }
  return scan;
}

}  // namespace litekeep::sqlite
