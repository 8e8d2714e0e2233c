// One committed database image as a reader of the live database sees it:
// the read transaction that pins it, and its pages, each from its newest
// committed WAL frame, else from the database file (docs/architecture.md,
// "Replication: the core loop"). Used by the replicator and by
// `verify -full`'s live comparison.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"
#include "sqlite/connection.h"
#include "sqlite/wal.h"

namespace litekeep::sqlite {

// Starts a read transaction on c that holds a WAL read lock from this call
// on, so no checkpoint copies frames past it into the database file while it
// lasts. On error no transaction is left open.
Status BeginPinnedRead(Connection& c);

// Reads the pages of one image: those in wal_pages (page -> offset of its
// newest committed frame header, as WalScan::pages) from the WAL, every
// other page from the database file. Everything passed in must outlive the
// reader.
class ImagePageReader {
 public:
  // wal and header may be null when the image has no WAL frames.
  ImagePageReader(const base::File& db, const base::File* wal,
                  const WalHeader* header,
                  const std::map<Pgno, int64_t>& wal_pages, uint32_t page_size);

  // Page pgno (page_size bytes), valid until the next call. A WAL frame that
  // no longer carries pgno under the header's salts (the WAL was restarted
  // since the scan) is kUnavailable: a retry with a new scan may succeed.
  // Read errors name the file and offset.
  Result<std::span<const uint8_t>> Read(Pgno pgno);

 private:
  const base::File& db_;
  const base::File* wal_;
  const WalHeader* header_;
  const std::map<Pgno, int64_t>& wal_pages_;
  uint32_t page_size_;
  std::vector<uint8_t> frame_;  // frame header + page
};

}  // namespace litekeep::sqlite
