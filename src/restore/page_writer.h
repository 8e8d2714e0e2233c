// PageWriter: writes decoded pages to the restore output. Pages are decoded
// into 1 MiB batches that a writer thread stores with one pwrite per run of
// consecutive page numbers, so decoding overlaps with writing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::restore {

class PageWriter {
 public:
  // Default batch: 1 MiB; three batches are in memory at most.
  static constexpr size_t kDefaultBatchBytes = size_t{1} << 20;

  // out must outlive the writer and must not be used by anyone else until
  // Flush returns. batch_bytes is rounded up to a whole page.
  explicit PageWriter(base::File* out, size_t batch_bytes = kDefaultBatchBytes);
  // Stops the writer thread; pages not yet flushed may be dropped.
  ~PageWriter();
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;

  // Room for the next page (page_size bytes). Fill it, then call Commit
  // with its page number before asking for another. A different page size
  // than the pages not yet flushed is an error: Flush first.
  Result<std::span<uint8_t>> Slot(uint32_t page_size);
  // The slot now holds page pgno (>= 1), to be written at
  // (pgno - 1) * page_size.
  base::Status Commit(Pgno pgno);
  // Gives back a slot that was not filled (e.g. the decoder reached the
  // end of the pages); no-op without an open slot.
  void Abandon() { slot_open_ = false; }
  // Writes every committed page and waits for it; returns the first write
  // error, if any. Afterwards the file may be used directly (truncate,
  // fsync) until the next Slot.
  base::Status Flush();
  // pwrite calls made so far (for tests).
  size_t writes() const;

 private:
  // Consecutive pages: data[start, start + len) goes to file offset.
  struct Run {
    int64_t offset;
    size_t start;
    size_t len;
  };
  struct Batch {
    std::vector<uint8_t> data;
    size_t len = 0;         // bytes of committed pages in data
    std::vector<Run> runs;  // cover data[0, len) in order
  };

  void WriterLoop();
  // Hands current_ to the writer thread and takes a free batch.
  base::Status Submit();

  base::File* out_;
  size_t batch_bytes_;
  uint32_t page_size_ = 0;
  Batch* current_ = nullptr;
  bool slot_open_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch> batches_;  // fixed at construction: current, queue, free
  std::deque<Batch*> queue_;    // waiting for the writer thread
  std::vector<Batch*> free_;
  bool writing_ = false;  // the writer thread holds a batch
  bool stop_ = false;
  base::Status error_;
  size_t writes_ = 0;
  std::thread thread_;
};

}  // namespace litekeep::restore
