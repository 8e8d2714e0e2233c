// SQLite's write-ahead log format: the 32-byte header, 24-byte frame
// headers, the cumulative checksum chain (both byte orders, chosen by the
// header magic), and a scanner that finds the committed frames after a known
// position. See https://www.sqlite.org/fileformat2.html#walformat.
#pragma once

#include <cstdint>
#include <map>
#include <span>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::sqlite {

inline constexpr size_t kWalHeaderSize = 32;
inline constexpr size_t kWalFrameHeaderSize = 24;
inline constexpr uint32_t kWalMagicLE = 0x377f0682;  // checksums little-endian
inline constexpr uint32_t kWalMagicBE = 0x377f0683;  // checksums big-endian
inline constexpr uint32_t kWalVersion = 3007000;

// The running checksum pair (s0, s1).
struct WalChecksum {
  uint32_t s0 = 0;
  uint32_t s1 = 0;
  bool operator==(const WalChecksum&) const = default;
};

// Folds data (a multiple of 8 bytes) into the checksum, reading 32-bit words
// big-endian when big_endian is true, little-endian otherwise.
WalChecksum ComputeWalChecksum(bool big_endian, std::span<const uint8_t> data,
                               WalChecksum seed);

struct WalHeader {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint32_t checkpoint_seq = 0;
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  WalChecksum checksum;

  bool big_endian() const { return (magic & 1) != 0; }
  // Parses and validates (magic, version, page size, header checksum).
  static Result<WalHeader> Decode(std::span<const uint8_t> in);
};

struct WalFrameHeader {
  Pgno pgno = 0;
  uint32_t commit = 0;  // database size in pages for a commit frame, else 0
  uint32_t salt1 = 0;
  uint32_t salt2 = 0;
  WalChecksum checksum;
  static WalFrameHeader Decode(const uint8_t* p);
};

// The frames a scan found committed after its start position.
struct WalScan {
  int64_t start_offset = 0;  // where the scan began (a frame boundary)
  int64_t end_offset = 0;    // just past the last commit frame found
  WalChecksum checksum;      // running checksum at end_offset
  uint32_t commit = 0;   // database size (pages) at the last commit, 0: none
  uint64_t frames = 0;   // committed frames found
  uint64_t commits = 0;  // transactions found
  bool limited = false;  // stopped at max_bytes; more may follow
  // Newest committed frame (offset of its frame header) for each page.
  std::map<Pgno, int64_t> pages;
  bool empty() const { return frames == 0; }
};

// Reads the WAL header of an open WAL file. kNotFound when the file is
// shorter than a header (an empty or truncated WAL).
Result<WalHeader> ReadWalHeader(const base::File& wal);

// Reads frames from start_offset (a frame boundary: 32 + k * frame size)
// whose running checksum there is `seed`, verifying salts and the checksum
// chain, and stops at the first frame that does not chain (or end of file).
// Only frames up to the last commit frame are reported: a partial
// transaction is never included. With max_bytes > 0 it also stops after the
// first commit frame at which at least max_bytes of WAL were read (at least
// one whole transaction, however large) and sets `limited`.
Result<WalScan> ScanWal(const base::File& wal, const WalHeader& header,
                        int64_t start_offset, WalChecksum seed,
                        int64_t max_bytes = 0);

// Size of one frame for the header's page size.
inline int64_t WalFrameSize(const WalHeader& h) {
  return static_cast<int64_t>(kWalFrameHeaderSize) + h.page_size;
}

}  // namespace litekeep::sqlite
