// Streaming, strict LTX decoder: reads the header, then pages in file order,
// then the page index and trailer, checking every rule of docs/format.md.
// Reads the current block encoding and the legacy LZ4-frame page encoding.
// Errors are kCorrupt and say "<name>: offset N: <rule>: <details>".
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/crc64.h"
#include "base/io.h"
#include "ltx/format.h"

namespace litekeep::ltx {

class Decoder {
 public:
  // in must outlive the decoder; name (object/file) appears in errors.
  Decoder(base::Reader* in, std::string name);

  // Reads and validates the header. Must be called first.
  base::Status DecodeHeader();
  const Header& header() const { return header_; }

  // Reads the next page into page (header().page_size bytes) and its number
  // into *pgno. Returns false (and *pgno untouched) at the end-of-pages
  // marker.
  Result<bool> DecodePage(Pgno* pgno, std::span<uint8_t> page);

  // After the last page: reads the page index and trailer, checks the index
  // against the frames, the size field, the trailer rules, end of stream and
  // the file checksum.
  base::Status Close();

  const Trailer& trailer() const { return trailer_; }
  const std::vector<PageIndexEntry>& page_index() const { return index_; }

 private:
  base::Reader* in_;
  std::string name_;
  Header header_;
  Trailer trailer_;
  base::Crc64 crc_;
  uint64_t offset_ = 0;
  Pgno prev_pgno_ = 0;
  bool pages_done_ = false;
  std::vector<PageIndexEntry> frames_;
  std::vector<PageIndexEntry> index_;
  std::vector<uint8_t> buf_;
};

// Reads the page index from the tail of a file: `tail` holds the last bytes
// of a file of total size file_size (at least index + 8 + 16 bytes). Used
// for range reads (VFS). Errors name `name`.
Result<std::vector<PageIndexEntry>> DecodePageIndexFromTail(
    std::span<const uint8_t> tail, uint64_t file_size,
    const std::string& name);

// Decodes and fully validates a whole in-memory LTX file; calls on_page for
// each page in file order. Convenience for tests and small files.
base::Status DecodeAll(
    std::span<const uint8_t> file, const std::string& name,
    const std::function<void(Pgno, std::span<const uint8_t>)>& on_page,
    Header* header_out = nullptr, Trailer* trailer_out = nullptr);

}  // namespace litekeep::ltx
