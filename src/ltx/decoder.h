// Streaming, strict LTX decoder: reads the header, then pages in file order,
// then the page index and trailer, checking every rule of docs/format.md.
// Reads the current block encoding and the legacy LZ4-frame page encoding.
// Errors are kCorrupt and say "<name>: offset N: <rule>: <details>".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crc64.h"
#include "base/io.h"
#include "ltx/format.h"
#include "ltx/frame_spool.h"

namespace litekeep::ltx {

class LegacyFrameDecoder;

class Decoder {
 public:
  // in must outlive the decoder; name (object/file) appears in errors.
  Decoder(base::Reader* in, std::string name);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Reads and validates the header. Must be called first. If the base name
  // of `name` has the replica form, it must match the header's TXID range.
  base::Status DecodeHeader();
  const Header& header() const { return header_; }

  // Reads the next page into page (header().page_size bytes) and its number
  // into *pgno. Returns false (and *pgno untouched) at the end-of-pages
  // marker.
  Result<bool> DecodePage(Pgno* pgno, std::span<uint8_t> page);

  // After the last page: reads the page index and trailer, checks the index
  // against the frames, the size field, the trailer rules, end of stream and
  // the file checksum (and, for a checksummed snapshot, that the post-apply
  // checksum is the database checksum of its pages). Pages not yet read by
  // DecodePage are read and verified first, so DecodeHeader + Close verifies
  // a whole file.
  base::Status Close();

  const Trailer& trailer() const { return trailer_; }
  // Whether Close keeps the page index for page_index() (default true).
  // Without it memory stays bounded at any page count (the frames are
  // checked against the index from a FrameSpool); with it the index costs
  // 24 bytes per page.
  void set_keep_page_index(bool keep) { keep_index_ = keep; }
  const std::vector<PageIndexEntry>& page_index() const { return index_; }
  // Entries of the page index Close read, kept or not.
  size_t page_index_entries() const { return index_entries_; }

 private:
  // The first error is sticky: later calls return it again.
  base::Status Fail(base::Status s);
  // Makes n bytes available in rbuf_ (fewer only at end of stream).
  Result<size_t> Fill(size_t n);
  // Consumes exactly n bytes; "truncated" error naming `what` otherwise
  // ("page <pgno> <what>" when pgno is not 0; the label is only built on
  // error). The span is valid until the next read.
  Result<std::span<const uint8_t>> Take(size_t n, std::string_view what,
                                        Pgno pgno = 0);
  Result<uint64_t> ReadUvarint();
  Result<bool> DecodePageImpl(Pgno* pgno, std::span<uint8_t> page);
  base::Status DecodeLegacyFrame(Pgno pgno, std::span<uint8_t> page);
  base::Status CloseImpl();

  base::Reader* in_;
  std::string name_;
  Header header_;
  Trailer trailer_;
  base::Crc64 crc_;
  uint64_t offset_ = 0;  // file offset of the next unread byte
  Pgno prev_pgno_ = 0;
  bool header_done_ = false;
  bool pages_done_ = false;
  bool closed_ = false;
  base::Status error_;
  // The frames read, in file order: each starts where the previous ended,
  // so offsets follow from the sizes. Bounded memory (FrameSpool).
  FrameSpool frames_;
  uint64_t first_frame_offset_ = 0;
  bool keep_index_ = true;
  size_t index_entries_ = 0;
  std::vector<PageIndexEntry> index_;
  std::vector<uint8_t> buf_;  // read buffer: unread bytes are [rpos_, rend_)
  size_t rpos_ = 0;
  size_t rend_ = 0;
  bool eof_ = false;
  std::unique_ptr<LegacyFrameDecoder> legacy_;
  // Database checksum of a checksummed snapshot's pages, checked by Close.
  std::optional<DatabaseChecksum> db_checksum_;
};

// How many bytes from the end of a file of size file_size
// DecodePageIndexFromTail wants: index + size field + trailer + the 6-byte
// end-of-pages marker. `last` holds at least the file's last 24 bytes.
Result<uint64_t> PageIndexTailLength(std::span<const uint8_t> last,
                                     uint64_t file_size,
                                     const std::string& name);

// Reads the page index from the tail of a file: `tail` holds the last bytes
// of a file of total size file_size (at least index + 8 + 16 bytes; with 6
// more the end-of-pages marker is checked too). Checks the size field, the
// varints and that the entries describe contiguous frames from offset 100
// to the marker, sorted by pgno. Used for range reads (VFS). Errors name
// `name`.
Result<std::vector<PageIndexEntry>> DecodePageIndexFromTail(
    std::span<const uint8_t> tail, uint64_t file_size, const std::string& name);

// Decodes and fully validates a whole in-memory LTX file; calls on_page for
// each page in file order. Convenience for tests and small files.
base::Status DecodeAll(
    std::span<const uint8_t> file, const std::string& name,
    const std::function<void(Pgno, std::span<const uint8_t>)>& on_page,
    Header* header_out = nullptr, Trailer* trailer_out = nullptr);

}  // namespace litekeep::ltx
