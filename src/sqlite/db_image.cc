// Pinned read transactions and page reads of one committed database image.
#include "sqlite/db_image.h"

#include <string>

namespace litekeep::sqlite {

Status BeginPinnedRead(Connection& c) {
  LK_RETURN_IF_ERROR(c.Exec("BEGIN"));
  // BEGIN alone is deferred: reading the schema takes the WAL read lock now.
  auto r = c.QueryText("SELECT count(*) FROM sqlite_master");
  if (!r.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return r.status();
  }
  return Status::Ok();
}

ImagePageReader::ImagePageReader(const base::File& db, const base::File* wal,
                                 const WalHeader* header,
                                 const std::map<Pgno, int64_t>& wal_pages,
                                 uint32_t page_size)
    : db_(db),
      wal_(wal),
      header_(header),
      wal_pages_(wal_pages),
      page_size_(page_size),
      frame_(kWalFrameHeaderSize + page_size) {}

Result<std::span<const uint8_t>> ImagePageReader::Read(Pgno pgno) {
  const std::span<uint8_t> page(frame_.data() + kWalFrameHeaderSize,
                                page_size_);
  auto it = wal_pages_.find(pgno);
  if (it == wal_pages_.end()) {
    LK_RETURN_IF_ERROR(db_.ReadFullAt(
        page.data(), page.size(), static_cast<int64_t>(pgno - 1) * page_size_));
    return std::span<const uint8_t>(page);
  }
  if (wal_ == nullptr || header_ == nullptr) {
    return base::InternalError("page " + std::to_string(pgno) +
                               " is listed in a WAL that was not given");
  }
  LK_RETURN_IF_ERROR(
      wal_->ReadFullAt(frame_.data(), frame_.size(), it->second));
  const WalFrameHeader fh = WalFrameHeader::Decode(frame_.data());
  if (fh.salt1 != header_->salt1 || fh.salt2 != header_->salt2 ||
      fh.pgno != pgno) {
    return base::UnavailableError(
        wal_->path() + ": the WAL changed while reading it (the frame at " +
        "offset " + std::to_string(it->second) + " no longer holds page " +
        std::to_string(pgno) + ")");
  }
  return std::span<const uint8_t>(page);
}

}  // namespace litekeep::sqlite
