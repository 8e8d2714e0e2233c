// The VFS's read path: pages from the write overlay, the hydrated copy,
// the page cache, or coalesced ranged GETs with sequential read-ahead.
#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "ltx/file_name.h"
#include "ltx/frame.h"
#include "vfs/database.h"

namespace litekeep::vfs {

Status Database::FetchRun(const Version& v, Pgno pgno, int window,
                          std::span<uint8_t> out) {
  const PageLoc first = v.pages[pgno - 1];
  const FileIndex& file = *v.files[first.file - 1];
  const std::string name = FileName(file.info);
  // A file no larger than a full read-ahead run is read whole and
  // verified (docs/vfs.md "What is verified"); its run then goes up to
  // the read-ahead cap.
  const bool whole =
      file.info.size <=
      std::max<int64_t>(kWholeFileBytes,
                        int64_t{options_.prefetch_pages} * v.page_size);
  if (whole) window = std::max(window, options_.prefetch_pages);
  Pgno end = pgno + 1;  // exclusive
  uint64_t len = first.size;
  while (static_cast<int>(end - pgno) < window && end <= v.commit) {
    const PageLoc& next = v.pages[end - 1];
    if (next.file != first.file || next.offset != first.offset + len ||
        cache_.Contains(file.id, end)) {
      break;
    }
    len += next.size;
    ++end;
  }
  std::vector<uint8_t> bytes;
  uint64_t at = 0;  // where the run starts in bytes
  if (whole) {
    LK_ASSIGN_OR_RETURN(bytes,
                        ReadRange(*client_, file.info, 0, file.info.size));
    Status s = VerifyWholeFile(bytes, name);
    if (!s.ok()) return s.WithContext(client_->Describe());
    if (first.offset + len > bytes.size()) {
      return base::CorruptError(client_->Describe() + ": " + name +
                                ": page index points past the end");
    }
    at = first.offset;
  } else {
    LK_ASSIGN_OR_RETURN(bytes, ReadRange(*client_, file.info,
                                         static_cast<int64_t>(first.offset),
                                         static_cast<int64_t>(len)));
  }
  // Decode the whole run before caching any of it: a bad frame leaves
  // nothing behind.
  std::vector<uint8_t> pages(size_t{end - pgno} * v.page_size);
  for (Pgno p = pgno; p < end; ++p) {
    const PageLoc& loc = v.pages[p - 1];
    std::span<uint8_t> page(pages.data() + size_t{p - pgno} * v.page_size,
                            v.page_size);
    Status s = ltx::DecodePageFrame(
        std::span<const uint8_t>(bytes.data() + at, loc.size), p, page,
        loc.offset, name);
    if (!s.ok()) return s.WithContext(client_->Describe());
    at += loc.size;
  }
  for (Pgno p = pgno; p < end; ++p) {
    cache_.Put(file.id, p,
               std::span<const uint8_t>(
                   pages.data() + size_t{p - pgno} * v.page_size, v.page_size));
  }
  std::memcpy(out.data(), pages.data(), out.size());
  return Status::Ok();
}

Status Database::GetPage(const Version& v, Pgno pgno, std::span<uint8_t> out) {
  bool from_overlay = false;
  if (options_.write_enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = overlay_.find(pgno); it != overlay_.end()) {
      std::memcpy(out.data(), it->second.first.data(), out.size());
      from_overlay = true;
    }
  }
  if (!from_overlay) {
    if (pgno == 0 || pgno > v.pages.size() || v.pages[pgno - 1].file == 0) {
      if (pgno == ltx::LockPgno(v.page_size) || pgno > v.pages.size()) {
        std::memset(out.data(), 0, out.size());
        return Status::Ok();
      }
      return base::CorruptError("litekeep vfs: page " + std::to_string(pgno) +
                                " of TXID " + ltx::FormatTxId(v.txid) +
                                " is in no LTX file");
    }
    const PageLoc& loc = v.pages[pgno - 1];
    const FileIndex& file = *v.files[loc.file - 1];
    std::shared_ptr<base::File> local;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (hydrated_ && file.info.max_txid <= hydrated_txid_) local = hydrated_;
    }
    if (local) {
      LK_RETURN_IF_ERROR(
          local->ReadFullAt(out.data(), out.size(),
                            static_cast<int64_t>(pgno - 1) * v.page_size));
    } else if (!cache_.Get(file.id, pgno, out)) {
      // Sequential scans grow the read-ahead window; random reads fetch one.
      readahead_ = pgno == last_pgno_ + 1
                       ? std::min(readahead_ * 2, options_.prefetch_pages)
                       : 1;
      LK_RETURN_IF_ERROR(FetchRun(v, pgno, readahead_, out));
    }
  }
  last_pgno_ = pgno;
  if (pgno == 1 && !from_overlay && out.size() >= 100) {
    // Rollback-journal mode (no WAL, no shm) and a change counter that
    // moves with the TXID, so SQLite drops its cache when the version does.
    out[18] = 1;
    out[19] = 1;
    base::PutBE32(out.data() + 24, static_cast<uint32_t>(v.txid));
    base::PutBE32(out.data() + 92, static_cast<uint32_t>(v.txid));
  }
  return Status::Ok();
}

int64_t Database::FileSize() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.write_enabled) {
    return int64_t{write_commit_} * write_page_size_;
  }
  return int64_t{current_->commit} * current_->page_size;
}

Status Database::Read(void* buf, int amt, int64_t offset, bool* short_read) {
  std::shared_ptr<const Version> v;
  uint32_t page_size;
  int64_t size;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = current_;
    page_size = options_.write_enabled ? write_page_size_ : v->page_size;
    size = options_.write_enabled ? int64_t{write_commit_} * page_size
                                  : int64_t{v->commit} * page_size;
  }
  auto* dst = static_cast<uint8_t*>(buf);
  *short_read = false;
  int64_t end = offset + amt;
  if (end > size) {
    *short_read = true;
    int64_t keep = std::max<int64_t>(0, size - offset);
    std::memset(dst + keep, 0, static_cast<size_t>(amt - keep));
    end = size;
  }
  if (offset >= end) return Status::Ok();
  std::vector<uint8_t> page(page_size);
  for (int64_t at = offset; at < end;) {
    auto pgno = static_cast<Pgno>(at / page_size + 1);
    int64_t page_start = int64_t{pgno - 1} * page_size;
    LK_RETURN_IF_ERROR(GetPage(*v, pgno, page));
    int64_t from = at - page_start;
    int64_t n = std::min<int64_t>(page_size - from, end - at);
    std::memcpy(dst + (at - offset), page.data() + from,
                static_cast<size_t>(n));
    at += n;
  }
  return Status::Ok();
}

}  // namespace litekeep::vfs
