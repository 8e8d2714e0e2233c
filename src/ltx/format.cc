// LTX v3 header encoding/validation and the page and database checksums
// (docs/format.md §2 and §6).
#include "ltx/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/crc64.h"

namespace litekeep::ltx {

// Layout of docs/format.md §2; offsets of the header fields.
static_assert(kMagic.size() == 4);
static_assert(kHeaderSize == 100);
static_assert(kPageHeaderSize == 6);
static_assert(kTrailerSize == 16);
static_assert(kHeaderFlagMask == 0x2);
static_assert(kChecksumFlag == 0x8000000000000000ULL);
static_assert(kPendingByte == 0x40000000);

namespace {

constexpr size_t kOffFlags = 4;
constexpr size_t kOffPageSize = 8;
constexpr size_t kOffCommit = 12;
constexpr size_t kOffMinTxId = 16;
constexpr size_t kOffMaxTxId = 24;
constexpr size_t kOffTimestamp = 32;
constexpr size_t kOffPreApply = 40;
constexpr size_t kOffWalOffset = 48;
constexpr size_t kOffWalSize = 56;
constexpr size_t kOffWalSalt1 = 64;
constexpr size_t kOffWalSalt2 = 68;
constexpr size_t kOffNodeId = 72;
constexpr size_t kOffReserved = 80;
static_assert(kOffReserved + 20 == kHeaderSize);

std::string PrintableMagic(std::span<const uint8_t> m) {
  std::string out;
  for (uint8_t c : m) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// The page a snapshot must hold after prev (lock page skipped).
Pgno NextSnapshotPgno(Pgno prev, Pgno lock) {
  Pgno next = prev + 1;
  return next == lock ? next + 1 : next;
}

}  // namespace

base::Status CorruptAt(uint64_t offset, std::string_view rule,
                       std::string_view details) {
  return base::CorruptError(
      fmt::format("offset {}: {}: {}", offset, rule, details));
}

void Header::Encode(uint8_t* out) const {
  std::memcpy(out, kMagic.data(), kMagic.size());
  base::PutBE32(out + kOffFlags, flags);
  base::PutBE32(out + kOffPageSize, page_size);
  base::PutBE32(out + kOffCommit, commit);
  base::PutBE64(out + kOffMinTxId, min_txid);
  base::PutBE64(out + kOffMaxTxId, max_txid);
  base::PutBE64(out + kOffTimestamp, static_cast<uint64_t>(timestamp_ms));
  base::PutBE64(out + kOffPreApply, pre_apply_checksum);
  base::PutBE64(out + kOffWalOffset, static_cast<uint64_t>(wal_offset));
  base::PutBE64(out + kOffWalSize, static_cast<uint64_t>(wal_size));
  base::PutBE32(out + kOffWalSalt1, wal_salt1);
  base::PutBE32(out + kOffWalSalt2, wal_salt2);
  base::PutBE64(out + kOffNodeId, node_id);
  std::memset(out + kOffReserved, 0, kHeaderSize - kOffReserved);
}

Result<Header> Header::Decode(std::span<const uint8_t> in) {
  if (in.size() < kHeaderSize) {
    return CorruptAt(0, "truncated",
                     fmt::format("the header needs {} bytes but only {} are "
                                 "present",
                                 kHeaderSize, in.size()));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), in.begin())) {
    constexpr std::string_view kAge = "age-encryption.org/v1";
    if (std::equal(kAge.begin(), kAge.end(), in.begin())) {
      return CorruptAt(0, "magic",
                       "the file is age-encrypted (\"age-encryption.org/v1\"), "
                       "not LTX: give the replica's `age: identities` in the "
                       "config (docs/encryption.md); the VFS cannot read "
                       "encrypted replicas");
    }
    return CorruptAt(0, "magic",
                     fmt::format("found \"{}\", expected \"LTX1\"",
                                 PrintableMagic(in.first(4))));
  }
  const uint8_t* p = in.data();
  Header h;
  h.flags = base::GetBE32(p + kOffFlags);
  h.page_size = base::GetBE32(p + kOffPageSize);
  h.commit = base::GetBE32(p + kOffCommit);
  h.min_txid = base::GetBE64(p + kOffMinTxId);
  h.max_txid = base::GetBE64(p + kOffMaxTxId);
  h.timestamp_ms = static_cast<int64_t>(base::GetBE64(p + kOffTimestamp));
  h.pre_apply_checksum = base::GetBE64(p + kOffPreApply);
  h.wal_offset = static_cast<int64_t>(base::GetBE64(p + kOffWalOffset));
  h.wal_size = static_cast<int64_t>(base::GetBE64(p + kOffWalSize));
  h.wal_salt1 = base::GetBE32(p + kOffWalSalt1);
  h.wal_salt2 = base::GetBE32(p + kOffWalSalt2);
  h.node_id = base::GetBE64(p + kOffNodeId);
  return h;
}

base::Status Header::Validate() const {
  if ((flags & ~kHeaderFlagMask) != 0) {
    return CorruptAt(kOffFlags, "flags",
                     fmt::format("header flags 0x{:08x} have unknown bits "
                                 "0x{:08x} (only 0x00000002, NoChecksum, is "
                                 "defined)",
                                 flags, flags & ~kHeaderFlagMask));
  }
  if (!IsValidPageSize(page_size)) {
    return CorruptAt(kOffPageSize, "page size",
                     fmt::format("{} is not a power of two from {} to {}",
                                 page_size, kMinPageSize, kMaxPageSize));
  }
  if (min_txid == 0) {
    return CorruptAt(kOffMinTxId, "MinTXID", "is 0; it must be at least 1");
  }
  if (max_txid == 0) {
    return CorruptAt(kOffMaxTxId, "MaxTXID", "is 0; it must be at least 1");
  }
  if (min_txid > max_txid) {
    return CorruptAt(kOffMinTxId, "TXID order",
                     fmt::format("MinTXID {} is greater than MaxTXID {}",
                                 min_txid, max_txid));
  }
  if (wal_offset < 0) {
    return CorruptAt(kOffWalOffset, "WAL fields",
                     fmt::format("WALOffset {} is negative", wal_offset));
  }
  if (wal_size < 0) {
    return CorruptAt(kOffWalSize, "WAL fields",
                     fmt::format("WALSize {} is negative", wal_size));
  }
  if ((wal_salt1 != 0 || wal_salt2 != 0) && wal_offset == 0) {
    return CorruptAt(kOffWalSalt1, "WAL fields",
                     "WAL salts are set but WALOffset is 0");
  }
  if (wal_offset == 0 && wal_size != 0) {
    return CorruptAt(kOffWalSize, "WAL fields",
                     fmt::format("WALSize is {} but WALOffset is 0", wal_size));
  }
  if (IsSnapshot() || NoChecksum()) {
    if (pre_apply_checksum != 0) {
      return CorruptAt(
          kOffPreApply, "pre-apply checksum",
          fmt::format("must be 0 in a {}, found {:016x}",
                      IsSnapshot() ? "snapshot (MinTXID 1)" : "NoChecksum file",
                      pre_apply_checksum));
    }
  } else if ((pre_apply_checksum & kChecksumFlag) == 0) {
    return CorruptAt(kOffPreApply, "pre-apply checksum",
                     fmt::format("must be non-zero with bit 63 set when "
                                 "checksums are tracked, found {:016x}",
                                 pre_apply_checksum));
  }
  return base::Status::Ok();
}

base::Status CheckPageNumber(const Header& header, Pgno prev, Pgno pgno,
                             uint64_t frame_offset) {
  if (pgno == 0) {
    return CorruptAt(frame_offset, "page header",
                     "pgno 0 is reserved for the end-of-pages marker");
  }
  if (pgno > header.commit) {
    return CorruptAt(frame_offset, "page beyond commit",
                     fmt::format("page {} is beyond Commit ({} pages)", pgno,
                                 header.commit));
  }
  const Pgno lock = LockPgno(header.page_size);
  if (pgno == lock) {
    return CorruptAt(frame_offset, "lock page",
                     fmt::format("page {} is the lock page (0x40000000 / {} + "
                                 "1) and must not be stored",
                                 pgno, header.page_size));
  }
  if (header.IsSnapshot()) {
    Pgno want = NextSnapshotPgno(prev, lock);
    if (pgno != want) {
      return CorruptAt(frame_offset, "page order",
                       fmt::format("snapshot pages must be 1..Commit in order "
                                   "(lock page excepted): expected page {}, "
                                   "found page {}",
                                   want, pgno));
    }
  } else if (pgno <= prev) {
    return CorruptAt(frame_offset, "page order",
                     fmt::format("page numbers must strictly increase: page {} "
                                 "follows page {}",
                                 pgno, prev));
  }
  return base::Status::Ok();
}

base::Status CheckSnapshotComplete(const Header& header, Pgno prev,
                                   uint64_t offset) {
  Pgno want = NextSnapshotPgno(prev, LockPgno(header.page_size));
  if (header.IsSnapshot() && want <= header.commit) {
    return CorruptAt(offset, "snapshot incomplete",
                     fmt::format("snapshot ends after page {} but Commit is {} "
                                 "(page {} is missing)",
                                 prev, header.commit, want));
  }
  return base::Status::Ok();
}

base::Status ValidateTrailer(const Header& header, const Trailer& trailer,
                             uint64_t trailer_offset) {
  const uint64_t post = trailer.post_apply_checksum;
  if (header.NoChecksum()) {
    if (post != 0) {
      return CorruptAt(trailer_offset, "post-apply checksum",
                       fmt::format("must be 0 in a NoChecksum file, found "
                                   "{:016x}",
                                   post));
    }
  } else if ((post & kChecksumFlag) == 0) {
    return CorruptAt(trailer_offset, "post-apply checksum",
                     fmt::format("must be non-zero with bit 63 set when "
                                 "checksums are tracked, found {:016x}",
                                 post));
  }
  if ((trailer.file_checksum & kChecksumFlag) == 0) {
    return CorruptAt(trailer_offset + 8, "file checksum",
                     fmt::format("must be non-zero with bit 63 set, found "
                                 "{:016x}",
                                 trailer.file_checksum));
  }
  if (header.commit == 0 && post != kChecksumFlag) {
    return CorruptAt(
        trailer_offset, "post-apply checksum",
        fmt::format("Commit is 0, so it must be {:016x} (the empty-database "
                    "checksum), found {:016x}{}",
                    kChecksumFlag, post,
                    header.NoChecksum()
                        ? "; a NoChecksum file cannot have Commit 0"
                        : ""));
  }
  return base::Status::Ok();
}

uint64_t ChecksumPage(Pgno pgno, std::span<const uint8_t> page) {
  uint8_t be[4];
  base::PutBE32(be, pgno);
  base::Crc64 crc;
  crc.Update(be, sizeof(be));
  crc.Update(page);
  return kChecksumFlag | crc.Value();
}

void DatabaseChecksum::AddPage(Pgno pgno, std::span<const uint8_t> page) {
  if (pgno == lock_pgno_) return;
  value_ = kChecksumFlag | (value_ ^ ChecksumPage(pgno, page));
}

std::string_view PageEncodingName(PageEncoding encoding) {
  return encoding == PageEncoding::kLz4Frame ? "lz4-frame" : "block";
}

Result<PageEncoding> ParsePageEncoding(std::string_view text) {
  if (text == "block") return PageEncoding::kBlock;
  if (text == "lz4-frame") return PageEncoding::kLz4Frame;
  return base::InvalidArgumentError(fmt::format(
      "page encoding \"{}\" is not one of block (default; Litestream 0.5.16+ "
      "reads it), lz4-frame (every Litestream 0.5 release reads it)",
      text));
}

}  // namespace litekeep::ltx
