// The page frames of an LTX file in file order, (pgno, frame size) pairs, as
// the encoder needs them to write the page index and the decoder to check
// it. Memory is bounded whatever the number of pages (docs/architecture.md,
// "Large databases"): the first frames stay in memory, the rest go to a
// private temporary file (O_TMPFILE in $TMPDIR or /tmp, or mkstemp
// unlinked at once), 8 bytes per frame, read back once in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::ltx {

class FrameSpool {
 public:
  struct Frame {
    Pgno pgno = 0;
    uint32_t size = 0;  // whole frame length
  };
  // Frames kept in memory before the spool moves to a file (8 bytes each):
  // 512 KiB, the frames of a 256 MiB database of 4 KiB pages.
  static constexpr size_t kDefaultMemoryFrames = 64 * 1024;

  explicit FrameSpool(size_t memory_frames = kDefaultMemoryFrames);
  FrameSpool(FrameSpool&&) noexcept = default;
  FrameSpool& operator=(FrameSpool&&) noexcept = default;

  // Adds a frame after the others. Fails (the spool is then unusable) only
  // when the temporary file cannot be created or written; the error names it.
  Status Append(Frame frame);
  // Frames appended since construction or Clear.
  uint64_t size() const { return spilled_ + mem_.size(); }
  // Whether some frames went to the temporary file.
  bool spilled() const { return file_.valid(); }

  // Reads the frames back in order: Rewind, then Next until it returns false.
  // No Append between Rewind and the last Next.
  void Rewind();
  Result<bool> Next(Frame* frame);

  // Forgets every frame and closes the temporary file; memory is released.
  void Clear();

 private:
  // Writes mem_ to the end of the file (created first if needed).
  Status Spill();

  size_t memory_frames_;
  std::vector<Frame> mem_;  // frames after the first spilled_
  uint64_t spilled_ = 0;    // frames in the file
  base::File file_;
  Status error_;
  // Reading: the next frame's number, and a block of file frames.
  uint64_t next_ = 0;
  std::vector<Frame> read_buf_;
  size_t read_pos_ = 0;
};

}  // namespace litekeep::ltx
