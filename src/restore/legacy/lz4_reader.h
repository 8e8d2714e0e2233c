// A streaming reader of LZ4 frames (liblz4's frame API), as Litestream 0.3
// stores snapshots and WAL segments. Memory is one input buffer and the
// decoder's window, whatever the object size.
#pragma once

#include <lz4frame.h>

#include <string>
#include <vector>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::restore::legacy {

class Lz4FrameReader : public base::Reader {
 public:
  // in must outlive the reader; name (the object) appears in every error.
  Lz4FrameReader(base::Reader* in, std::string name);
  ~Lz4FrameReader() override;
  Lz4FrameReader(const Lz4FrameReader&) = delete;
  Lz4FrameReader& operator=(const Lz4FrameReader&) = delete;

  // Decompressed bytes; one or more concatenated frames. kCorrupt naming the
  // object when a frame is malformed, fails its checksum, or is truncated.
  Result<size_t> Read(std::span<uint8_t> buf) override;

  // Compressed bytes consumed so far.
  int64_t compressed_bytes() const { return consumed_; }

 private:
  base::Reader* in_;
  std::string name_;
  LZ4F_dctx* ctx_ = nullptr;
  std::vector<uint8_t> in_buf_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool in_eof_ = false;
  bool in_frame_ = false;  // inside a frame (started, not yet finished)
  bool any_frame_ = false;
  int64_t consumed_ = 0;
};

}  // namespace litekeep::restore::legacy
