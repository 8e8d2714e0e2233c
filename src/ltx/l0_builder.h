// One transaction as a level-0 LTX file, the way litekeep writes every L0
// file (docs/format.md): a NoChecksum header with min = max = the TXID, the
// transaction's pages in ascending order with the lock page left out, and a
// zero post-apply checksum. Used by the replicator (pages from the WAL and
// the database file) and by the VFS's write mode (pages SQLite wrote).
#pragma once

#include <cstdint>
#include <span>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"
#include "ltx/encoder.h"
#include "ltx/format.h"

namespace litekeep::ltx {

// The header of the L0 file for `txid`: a database of `commit` pages of
// `page_size` bytes, created at timestamp_ms (Unix milliseconds). WAL
// fields are left 0 for the caller to set.
Header L0Header(TxId txid, uint32_t page_size, Pgno commit,
                int64_t timestamp_ms);

class L0Builder {
 public:
  // Writes to out, which must outlive the builder, storing pages with
  // `encoding`.
  explicit L0Builder(base::Writer* out,
                     PageEncoding encoding = PageEncoding::kBlock)
      : enc_(out, encoding) {}

  // Validates and writes the header (from L0Header). Must be called first.
  Status Begin(const Header& header);
  // Adds page pgno (page_size bytes). Pages come in ascending order; the
  // lock page is never stored and is skipped here.
  Status AddPage(Pgno pgno, std::span<const uint8_t> page);
  // Writes the page index and trailer; all bytes have reached out.
  Status Finish();

  // Pages stored so far.
  uint64_t pages() const { return enc_.page_count(); }
  const Header& header() const { return enc_.header(); }

 private:
  Encoder enc_;
};

}  // namespace litekeep::ltx
