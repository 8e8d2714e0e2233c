// PageWriter: batches of consecutive pages, written by one writer thread.
#include "restore/page_writer.h"

#include <fcntl.h>

#include <algorithm>
#include <climits>
#include <string>

namespace litekeep::restore {
namespace {
// One batch is being filled, one waits, one is written.
constexpr size_t kBatches = 3;
}  // namespace

PageWriter::PageWriter(base::File* out, size_t batch_bytes)
    : out_(out), batch_bytes_(batch_bytes), batches_(kBatches) {
  current_ = &batches_[0];
  for (size_t i = 1; i < batches_.size(); ++i) free_.push_back(&batches_[i]);
  thread_ = std::thread([this] { WriterLoop(); });
}

PageWriter::~PageWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PageWriter::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Batch* b = queue_.front();
    queue_.pop_front();
    writing_ = true;
    const bool failed = !error_.ok();
    lock.unlock();
    base::Status s;
    if (!failed) {
      int64_t lo = INT64_MAX, hi = 0;
      for (const Run& r : b->runs) {
        s = out_->WriteAt(b->data.data() + r.start, r.len, r.offset);
        if (!s.ok()) break;
        lo = std::min(lo, r.offset);
        hi = std::max(hi, r.offset + static_cast<int64_t>(r.len));
      }
      if (s.ok() && lo < hi) {
        // Start writeback now so the final fsync has little left to wait
        // for; the fsync still makes the file durable.
        (void)::sync_file_range(out_->fd(), lo, hi - lo, SYNC_FILE_RANGE_WRITE);
      }
    }
    lock.lock();
    if (!failed) writes_ += b->runs.size();
    if (!s.ok() && error_.ok()) error_ = s;
    b->len = 0;
    b->runs.clear();
    free_.push_back(b);
    writing_ = false;
    cv_.notify_all();
  }
}

size_t PageWriter::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

base::Status PageWriter::Submit() {
  std::unique_lock<std::mutex> lock(mu_);
  if (current_->len > 0)
    queue_.push_back(current_);
  else
    free_.push_back(current_);
  cv_.notify_all();
  cv_.wait(lock, [this] { return !free_.empty(); });
  current_ = free_.back();
  free_.pop_back();
  current_->len = 0;
  current_->runs.clear();
  return error_;
}

Result<std::span<uint8_t>> PageWriter::Slot(uint32_t page_size) {
  if (slot_open_) {
    return base::FailedPreconditionError(
        "PageWriter::Slot called again before Commit");
  }
  if (page_size == 0) {
    return base::InvalidArgumentError("PageWriter: page size 0");
  }
  if (current_->len > 0 && page_size != page_size_) {
    return base::FailedPreconditionError(
        "PageWriter: the page size changed without a Flush");
  }
  if (page_size != page_size_) {
    page_size_ = page_size;
    const size_t pages =
        std::max<size_t>(1, (batch_bytes_ + page_size - 1) / page_size);
    // Only this thread touches batches that are not queued, and queued
    // ones are empty here: Flush emptied them before the size changed.
    LK_RETURN_IF_ERROR(Flush());
    for (Batch& b : batches_) b.data.resize(pages * page_size);
  } else if (current_->len + page_size > current_->data.size()) {
    LK_RETURN_IF_ERROR(Submit());
  }
  slot_open_ = true;
  return std::span<uint8_t>(current_->data.data() + current_->len, page_size);
}

base::Status PageWriter::Commit(Pgno pgno) {
  if (!slot_open_) {
    return base::FailedPreconditionError("PageWriter::Commit without a Slot");
  }
  if (pgno == 0) return base::InvalidArgumentError("PageWriter: page 0");
  slot_open_ = false;
  const int64_t offset = static_cast<int64_t>(pgno - 1) * page_size_;
  Batch* b = current_;
  if (!b->runs.empty() &&
      b->runs.back().offset + static_cast<int64_t>(b->runs.back().len) ==
          offset) {
    b->runs.back().len += page_size_;
  } else {
    b->runs.push_back({offset, b->len, page_size_});
  }
  b->len += page_size_;
  return base::Status::Ok();
}

base::Status PageWriter::Flush() {
  if (slot_open_) {
    return base::FailedPreconditionError("PageWriter::Flush before Commit");
  }
  LK_RETURN_IF_ERROR(Submit());
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && !writing_; });
  return error_;
}

}  // namespace litekeep::restore
