// Streaming LZ4 frame decoding over a Reader.
#include "restore/legacy/lz4_reader.h"

namespace litekeep::restore::legacy {

Lz4FrameReader::Lz4FrameReader(base::Reader* in, std::string name)
    : in_(in), name_(std::move(name)), in_buf_(256 << 10) {
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION))) {
    ctx_ = nullptr;
  }
}

Lz4FrameReader::~Lz4FrameReader() {
  if (ctx_ != nullptr) LZ4F_freeDecompressionContext(ctx_);
}

Result<size_t> Lz4FrameReader::Read(std::span<uint8_t> buf) {
  if (ctx_ == nullptr)
    return base::InternalError("LZ4 decoder allocation failed");
  if (buf.empty()) return size_t{0};
  for (;;) {
    if (in_pos_ == in_len_ && !in_eof_) {
      auto n = in_->Read(in_buf_);
      if (!n.ok()) return n.status().WithContext("read " + name_);
      in_pos_ = 0;
      in_len_ = *n;
      if (*n == 0) in_eof_ = true;
    }
    if (in_pos_ == in_len_ && in_eof_) {
      if (in_frame_) {
        return base::CorruptError(name_ +
                                  ": truncated LZ4 frame (the object ends "
                                  "after " +
                                  std::to_string(consumed_) +
                                  " bytes, inside a frame)");
      }
      if (!any_frame_)
        return base::CorruptError(name_ + ": empty object, no LZ4 frame");
      return size_t{0};
    }
    size_t dst_size = buf.size();
    size_t src_size = in_len_ - in_pos_;
    size_t hint = LZ4F_decompress(ctx_, buf.data(), &dst_size,
                                  in_buf_.data() + in_pos_, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return base::CorruptError(name_ + ": bad LZ4 frame at compressed byte " +
                                std::to_string(consumed_) + " (" +
                                LZ4F_getErrorName(hint) + ")");
    }
    in_pos_ += src_size;
    consumed_ += static_cast<int64_t>(src_size);
    if (src_size > 0 || dst_size > 0) {
      any_frame_ = true;
      in_frame_ = hint != 0;
    }
    if (dst_size > 0) return dst_size;
  }
}

}  // namespace litekeep::restore::legacy
