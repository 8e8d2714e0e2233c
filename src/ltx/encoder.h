// Streaming LTX encoder (the current block encoding, or one LZ4 frame per
// page for older readers: ltx::PageEncoding). Memory: one page, a
// 64 KiB write buffer and at most 512 KiB of page frames for the index
// (ltx::FrameSpool: more go to a private temporary file), whatever the file
// size. Bytes
// reach the Writer in chunks of about 64 KiB; all of them by Close. It refuses
// to write anything docs/format.md forbids: kInvalidArgument "ltx encoder:
// <rule>: ..." for a bad header, page, page order or trailer checksum,
// kFailedPrecondition for calls out of order; after a write error the encoder
// is unusable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/crc64.h"
#include "base/io.h"
#include "ltx/format.h"
#include "ltx/frame_spool.h"

namespace litekeep::ltx {

class Encoder {
 public:
  // Writes to out, which must outlive the encoder, storing each page with
  // `encoding`.
  explicit Encoder(base::Writer* out,
                   PageEncoding encoding = PageEncoding::kBlock);

  // Validates and writes the header. Must be called first, once.
  base::Status EncodeHeader(const Header& header);
  // Compresses and writes one page (page_size bytes). Pages must follow the
  // ordering rules of docs/format.md (snapshots: 1..commit, lock page
  // skipped; others: strictly increasing pgno <= commit).
  base::Status EncodePage(Pgno pgno, std::span<const uint8_t> data);
  // Writes the end-of-pages marker, the page index and the trailer.
  // post_apply_checksum must be 0 for NoChecksum files.
  base::Status Close(uint64_t post_apply_checksum);

  const Header& header() const { return header_; }
  const Trailer& trailer() const { return trailer_; }
  // Length of the file so far (part of it may still be buffered until
  // Close).
  uint64_t bytes_written() const { return offset_; }
  size_t page_count() const { return static_cast<size_t>(frames_.size()); }

 private:
  // Appends to the write buffer (and the checksum stream if asked).
  base::Status WriteRaw(std::span<const uint8_t> data, bool checksum);
  // WriteRaw of bytes with the checksum, then clears them.
  base::Status WriteIndexBytes(std::string& bytes);
  // Writes the buffer to out_.
  base::Status Flush();
  // The rules of docs/format.md §3 for the next page.
  base::Status CheckPage(Pgno pgno, size_t size) const;
  // Compresses data into compress_buf_ after the frame prefix; returns the
  // payload size and the bytes of the prefix (page header, and the size
  // field for the block encoding).
  Result<size_t> Compress(Pgno pgno, std::span<const uint8_t> data,
                          size_t prefix_size);

  base::Writer* out_;
  PageEncoding encoding_;
  Header header_;
  Trailer trailer_;
  base::Crc64 crc_;
  uint64_t offset_ = 0;
  Pgno prev_pgno_ = 0;
  bool header_done_ = false;
  bool closed_ = false;
  // The frames written, in file order: each starts where the previous
  // ended, so the index's offsets follow from first_frame_offset_.
  FrameSpool frames_;
  uint64_t first_frame_offset_ = 0;
  std::vector<uint8_t> out_buf_;
  std::vector<char> compress_buf_;  // frame prefix + compressed page
  // Database checksum of a checksummed snapshot's pages, checked by Close.
  std::optional<DatabaseChecksum> db_checksum_;
};

}  // namespace litekeep::ltx
