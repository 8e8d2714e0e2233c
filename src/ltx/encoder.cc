// Streaming LTX encoder: writes the current block encoding (flag 0x0001, u32
// size, LZ4 block per page) or the LZ4-frame encoding (flag 0x0000, one LZ4
// frame per page) and refuses anything docs/format.md forbids.
#include "ltx/encoder.h"

#include <fmt/format.h>
#include <lz4.h>
#include <lz4frame.h>

#include <cstring>
#include <string>

#include "base/coding.h"

namespace litekeep::ltx {
namespace {

constexpr size_t kBlockPrefixSize = kPageHeaderSize + 4;  // + size field

// The LZ4 frame of one page as ltx v0.5.0/v0.5.1 wrote it (pierrec/lz4's
// defaults there): 64 KiB blocks, independent, content checksum, no
// content size, no block checksums.
LZ4F_preferences_t FramePreferences() {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  return prefs;
}
// Frames are gathered up to this many bytes per Writer::Write.
constexpr size_t kFlushSize = 64 * 1024;

base::Status EncoderError(std::string_view rule, std::string_view details) {
  return base::InvalidArgumentError(
      fmt::format("ltx encoder: {}: {}", rule, details));
}

}  // namespace

Encoder::Encoder(base::Writer* out, PageEncoding encoding)
    : out_(out), encoding_(encoding) {}

base::Status Encoder::WriteRaw(std::span<const uint8_t> data, bool checksum) {
  if (checksum) crc_.Update(data);
  out_buf_.insert(out_buf_.end(), data.begin(), data.end());
  offset_ += data.size();
  return out_buf_.size() >= kFlushSize ? Flush() : base::Status::Ok();
}

base::Status Encoder::WriteIndexBytes(std::string& bytes) {
  base::Status s =
      WriteRaw({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
               /*checksum=*/true);
  bytes.clear();
  return s;
}

base::Status Encoder::Flush() {
  if (out_buf_.empty()) return base::Status::Ok();
  base::Status s = out_->Write(out_buf_);
  out_buf_.clear();
  if (!s.ok()) closed_ = true;  // the stream is now unusable
  return s;
}

base::Status Encoder::EncodeHeader(const Header& header) {
  if (header_done_) {
    return base::FailedPreconditionError("ltx encoder: header already written");
  }
  base::Status valid = header.Validate();
  if (!valid.ok()) return EncoderError("header", valid.message());
  header_ = header;
  header_done_ = true;
  if (header_.IsSnapshot() && !header_.NoChecksum()) {
    db_checksum_.emplace(header_.page_size);
  }
  if (encoding_ == PageEncoding::kLz4Frame) {
    const LZ4F_preferences_t prefs = FramePreferences();
    compress_buf_.resize(kPageHeaderSize +
                         LZ4F_compressFrameBound(header_.page_size, &prefs));
  } else {
    compress_buf_.resize(kBlockPrefixSize +
                         static_cast<size_t>(LZ4_compressBound(
                             static_cast<int>(header_.page_size))));
  }
  uint8_t buf[kHeaderSize];
  header_.Encode(buf);
  return WriteRaw(buf, /*checksum=*/true);
}

base::Status Encoder::CheckPage(Pgno pgno, size_t size) const {
  if (!header_done_ || closed_) {
    return base::FailedPreconditionError(
        "ltx encoder: EncodePage needs a header and an open encoder");
  }
  if (size != header_.page_size) {
    return EncoderError("page data",
                        fmt::format("page {} has {} bytes, not "
                                    "the page size {}",
                                    pgno, size, header_.page_size));
  }
  base::Status valid = CheckPageNumber(header_, prev_pgno_, pgno, offset_);
  if (!valid.ok()) return EncoderError("page", valid.message());
  return base::Status::Ok();
}

Result<size_t> Encoder::Compress(Pgno pgno, std::span<const uint8_t> data,
                                 size_t prefix_size) {
  char* dst = compress_buf_.data() + prefix_size;
  const size_t capacity = compress_buf_.size() - prefix_size;
  if (encoding_ == PageEncoding::kLz4Frame) {
    const LZ4F_preferences_t prefs = FramePreferences();
    size_t n =
        LZ4F_compressFrame(dst, capacity, data.data(), data.size(), &prefs);
    if (!LZ4F_isError(n)) return n;
    return base::InternalError(
        fmt::format("ltx encoder: LZ4 frame compression of page {} failed: {}",
                    pgno, LZ4F_getErrorName(n)));
  }
  int n = LZ4_compress_default(reinterpret_cast<const char*>(data.data()), dst,
                               static_cast<int>(data.size()),
                               static_cast<int>(capacity));
  if (n > 0) return static_cast<size_t>(n);
  return base::InternalError(
      fmt::format("ltx encoder: LZ4 compression of page {} failed", pgno));
}

base::Status Encoder::EncodePage(Pgno pgno, std::span<const uint8_t> data) {
  LK_RETURN_IF_ERROR(CheckPage(pgno, data.size()));
  const bool block = encoding_ == PageEncoding::kBlock;
  const size_t prefix_size = block ? kBlockPrefixSize : kPageHeaderSize;
  LK_ASSIGN_OR_RETURN(size_t n, Compress(pgno, data, prefix_size));
  auto* prefix = reinterpret_cast<uint8_t*>(compress_buf_.data());
  base::PutBE32(prefix, pgno);
  base::PutBE16(prefix + 4, block ? kPageFlagSize : 0);
  if (block) base::PutBE32(prefix + kPageHeaderSize, static_cast<uint32_t>(n));
  // The checksum stream takes the page header, the size field (block
  // encoding) and the decompressed page; the file takes the compressed
  // payload.
  crc_.Update(prefix, prefix_size);
  crc_.Update(data);
  if (db_checksum_) db_checksum_->AddPage(pgno, data);
  const uint64_t frame_offset = offset_;
  const size_t frame_size = prefix_size + n;
  LK_RETURN_IF_ERROR(WriteRaw({prefix, frame_size}, /*checksum=*/false));
  if (frames_.size() == 0) first_frame_offset_ = frame_offset;
  base::Status spooled =
      frames_.Append({pgno, static_cast<uint32_t>(frame_size)});
  if (!spooled.ok()) {
    closed_ = true;  // the index can no longer be written
    return spooled;
  }
  prev_pgno_ = pgno;
  return base::Status::Ok();
}

base::Status Encoder::Close(uint64_t post_apply_checksum) {
  if (!header_done_ || closed_) {
    return base::FailedPreconditionError(
        "ltx encoder: Close needs a header and an open encoder");
  }
  base::Status complete = CheckSnapshotComplete(header_, prev_pgno_, offset_);
  if (!complete.ok()) return EncoderError("pages", complete.message());
  Trailer trailer{post_apply_checksum, kChecksumFlag};
  base::Status valid = ValidateTrailer(header_, trailer, 0);
  if (!valid.ok()) return EncoderError("trailer", valid.message());
  if (db_checksum_ && db_checksum_->Value() != post_apply_checksum) {
    return EncoderError(
        "post-apply checksum",
        fmt::format("{:016x} is not the database checksum {:016x} of the "
                    "snapshot's pages",
                    post_apply_checksum, db_checksum_->Value()));
  }

  // The end-of-pages marker, then the index entries streamed from the
  // spooled frames: the file checksum covers both.
  const uint8_t marker[kPageHeaderSize] = {};
  LK_RETURN_IF_ERROR(WriteRaw(marker, /*checksum=*/true));
  const uint64_t index_offset = offset_;
  std::string entries;
  uint64_t frame_offset = first_frame_offset_;
  frames_.Rewind();
  FrameSpool::Frame f;
  for (;;) {
    Result<bool> more = frames_.Next(&f);
    if (!more.ok()) {
      closed_ = true;
      return more.status();
    }
    if (!*more) break;
    base::PutUvarint(entries, f.pgno);
    base::PutUvarint(entries, frame_offset);
    base::PutUvarint(entries, f.size);
    frame_offset += f.size;
    if (entries.size() >= kFlushSize) {
      LK_RETURN_IF_ERROR(WriteIndexBytes(entries));
    }
  }
  base::PutUvarint(entries, 0);
  LK_RETURN_IF_ERROR(WriteIndexBytes(entries));
  uint8_t buf[8];
  base::PutBE64(buf, offset_ - index_offset);
  LK_RETURN_IF_ERROR(WriteRaw(buf, /*checksum=*/true));
  base::PutBE64(buf, post_apply_checksum);
  LK_RETURN_IF_ERROR(WriteRaw(buf, /*checksum=*/true));
  trailer.file_checksum = kChecksumFlag | crc_.Value();
  base::PutBE64(buf, trailer.file_checksum);
  LK_RETURN_IF_ERROR(WriteRaw(buf, /*checksum=*/false));
  LK_RETURN_IF_ERROR(Flush());
  trailer_ = trailer;
  closed_ = true;
  return base::Status::Ok();
}

}  // namespace litekeep::ltx
