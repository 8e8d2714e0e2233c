// LTX v3 format: constants, header, trailer and page-index types, mirroring
// docs/format.md (normative). Only this folder encodes or decodes LTX bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/types.h"

namespace litekeep::ltx {

inline constexpr std::array<uint8_t, 4> kMagic = {'L', 'T', 'X', '1'};
inline constexpr size_t kHeaderSize = 100;
inline constexpr size_t kPageHeaderSize = 6;  // pgno u32 + flags u16
inline constexpr size_t kTrailerSize = 16;    // post-apply + file checksum
inline constexpr uint32_t kHeaderFlagNoChecksum = 0x00000002;
inline constexpr uint32_t kHeaderFlagMask = kHeaderFlagNoChecksum;
inline constexpr uint16_t kPageFlagSize = 0x0001;  // current block encoding
inline constexpr uint64_t kChecksumFlag = uint64_t{1} << 63;
inline constexpr uint32_t kMinPageSize = 512;
inline constexpr uint32_t kMaxPageSize = 65536;
inline constexpr uint64_t kPendingByte = 0x40000000;
// Compaction levels: 0 = per-sync files, 1..8 = compacted, 9 = snapshots.
inline constexpr int kMaxLevel = 9;
inline constexpr int kSnapshotLevel = 9;

// How an encoder stores each page (docs/format.md §3). Readers accept both.
enum class PageEncoding {
  // flags 0x0001: u32 size + one LZ4 block. Read by ltx v0.5.2+ (Litestream
  // 0.5.16+). The default.
  kBlock,
  // flags 0x0000: one LZ4 frame per page. Read by every ltx v0.5 release
  // (Litestream 0.5.0 and later).
  kLz4Frame,
};

// "block" / "lz4-frame" (the `page-encoding` replica key, docs/config.md).
std::string_view PageEncodingName(PageEncoding encoding);
// The encoding a name gives; kInvalidArgument naming the text otherwise.
Result<PageEncoding> ParsePageEncoding(std::string_view text);

static_assert(kHeaderSize ==
              4 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 8 + 20);

struct Header {
  uint32_t flags = 0;
  uint32_t page_size = 0;
  uint32_t commit = 0;  // database size in pages after applying this file
  TxId min_txid = 0;
  TxId max_txid = 0;
  int64_t timestamp_ms = 0;  // creation time, ms since the Unix epoch
  uint64_t pre_apply_checksum = 0;
  int64_t wal_offset = 0;
  int64_t wal_size = 0;
  uint32_t wal_salt1 = 0;
  uint32_t wal_salt2 = 0;
  uint64_t node_id = 0;

  bool IsSnapshot() const { return min_txid == 1; }
  bool NoChecksum() const { return (flags & kHeaderFlagNoChecksum) != 0; }

  // Writes the 100-byte big-endian encoding (reserved bytes zero).
  void Encode(uint8_t* out) const;
  // Parses 100 bytes without validating them; kCorrupt on a bad magic.
  static Result<Header> Decode(std::span<const uint8_t> in);
  // Checks every header rule of docs/format.md; the error names the rule.
  base::Status Validate() const;
};

struct Trailer {
  uint64_t post_apply_checksum = 0;
  uint64_t file_checksum = 0;
};

// One page-index entry: where a page's frame lives inside the file.
struct PageIndexEntry {
  Pgno pgno = 0;
  uint64_t offset = 0;  // absolute offset of the frame's page header
  uint64_t size = 0;    // whole frame length
};

// The lock page (holding byte 0x40000000) for a page size; never stored.
// 0 (no page) for page size 0, so an unvalidated header cannot divide by 0.
constexpr Pgno LockPgno(uint32_t page_size) {
  return page_size == 0 ? 0 : static_cast<Pgno>(kPendingByte / page_size + 1);
}

// True for a power of two in [512, 65536].
constexpr bool IsValidPageSize(uint32_t n) {
  return n >= kMinPageSize && n <= kMaxPageSize && (n & (n - 1)) == 0;
}
static_assert(IsValidPageSize(512) && IsValidPageSize(4096) &&
              IsValidPageSize(65536) && !IsValidPageSize(256) &&
              !IsValidPageSize(131072) && !IsValidPageSize(3000));
static_assert(LockPgno(4096) == 262145 && LockPgno(512) == 2097153 &&
              LockPgno(65536) == 16385);

// kCorrupt "offset N: <rule>: <details>" (docs/format.md §8); callers that
// know the file name prefix it with WithContext(name).
base::Status CorruptAt(uint64_t offset, std::string_view rule,
                       std::string_view details);

// Checks page number pgno against docs/format.md §3, given the previous
// page of the file (0 at the start): 1 <= pgno <= commit, never the lock
// page, snapshots 1..commit in order, others strictly increasing. Errors
// are CorruptAt(frame_offset, rule, ...).
base::Status CheckPageNumber(const Header& header, Pgno prev, Pgno pgno,
                             uint64_t frame_offset);
// At the end of the pages (last page prev, 0 if none): a snapshot must have
// reached Commit. Errors are CorruptAt(offset, "snapshot incomplete", ...).
base::Status CheckSnapshotComplete(const Header& header, Pgno prev,
                                   uint64_t offset);

// Checks the trailer rules of docs/format.md §5-6 (NoChecksum => post 0,
// else bit 63; file checksum bit 63; Commit 0 => post 0x8000000000000000).
// trailer_offset is where the trailer starts, for the error text.
base::Status ValidateTrailer(const Header& header, const Trailer& trailer,
                             uint64_t trailer_offset);

// kChecksumFlag | CRC64-ISO(BE32(pgno) || page).
uint64_t ChecksumPage(Pgno pgno, std::span<const uint8_t> page);

// Rolling database checksum: acc = FLAG | (acc ^ ChecksumPage(p)), starting
// at FLAG, lock page skipped. An empty database is 0x8000000000000000.
class DatabaseChecksum {
 public:
  explicit DatabaseChecksum(uint32_t page_size)
      : lock_pgno_(LockPgno(page_size)) {}
  void AddPage(Pgno pgno, std::span<const uint8_t> page);
  uint64_t Value() const { return value_; }

 private:
  Pgno lock_pgno_;
  uint64_t value_ = kChecksumFlag;
};

}  // namespace litekeep::ltx
