// Streaming LTX encoder: writes the current v3 block encoding (flag 0x0001,
// u32 size, LZ4 block per page) and refuses anything docs/format.md forbids.
#include "ltx/encoder.h"

#include <fmt/format.h>
#include <lz4.h>

#include <cstring>
#include <string>

#include "base/coding.h"

namespace litekeep::ltx {
namespace {

constexpr size_t kFramePrefixSize = kPageHeaderSize + 4;  // + size field
// Frames are gathered up to this many bytes per Writer::Write.
constexpr size_t kFlushSize = 64 * 1024;

base::Status EncoderError(std::string_view rule, std::string_view details) {
  return base::InvalidArgumentError(
      fmt::format("ltx encoder: {}: {}", rule, details));
}

}  // namespace

Encoder::Encoder(base::Writer* out) : out_(out) {}

base::Status Encoder::WriteRaw(std::span<const uint8_t> data, bool checksum) {
  if (checksum) crc_.Update(data);
  out_buf_.insert(out_buf_.end(), data.begin(), data.end());
  offset_ += data.size();
  return out_buf_.size() >= kFlushSize ? Flush() : base::Status::Ok();
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
  compress_buf_.resize(kFramePrefixSize +
                       static_cast<size_t>(LZ4_compressBound(
                           static_cast<int>(header_.page_size))));
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

base::Status Encoder::EncodePage(Pgno pgno, std::span<const uint8_t> data) {
  LK_RETURN_IF_ERROR(CheckPage(pgno, data.size()));
  char* frame = compress_buf_.data();
  int n = LZ4_compress_default(
      reinterpret_cast<const char*>(data.data()), frame + kFramePrefixSize,
      static_cast<int>(data.size()),
      static_cast<int>(compress_buf_.size() - kFramePrefixSize));
  if (n <= 0) {
    return base::InternalError(
        fmt::format("ltx encoder: LZ4 compression of page {} failed", pgno));
  }
  auto* prefix = reinterpret_cast<uint8_t*>(frame);
  base::PutBE32(prefix, pgno);
  base::PutBE16(prefix + 4, kPageFlagSize);
  base::PutBE32(prefix + kPageHeaderSize, static_cast<uint32_t>(n));
  // The checksum stream takes the page header, the size field and the
  // decompressed page; the file takes the compressed block.
  crc_.Update(prefix, kFramePrefixSize);
  crc_.Update(data);
  if (db_checksum_) db_checksum_->AddPage(pgno, data);
  const uint64_t frame_offset = offset_;
  const size_t frame_size = kFramePrefixSize + static_cast<size_t>(n);
  LK_RETURN_IF_ERROR(WriteRaw({prefix, frame_size}, /*checksum=*/false));
  index_.push_back({pgno, frame_offset, frame_size});
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

  std::string tail(kPageHeaderSize, '\0');  // end-of-pages marker
  for (const PageIndexEntry& e : index_) {
    base::PutUvarint(tail, e.pgno);
    base::PutUvarint(tail, e.offset);
    base::PutUvarint(tail, e.size);
  }
  base::PutUvarint(tail, 0);
  const uint64_t index_size = tail.size() - kPageHeaderSize;
  uint8_t buf[8];
  base::PutBE64(buf, index_size);
  tail.append(reinterpret_cast<const char*>(buf), 8);
  base::PutBE64(buf, post_apply_checksum);
  tail.append(reinterpret_cast<const char*>(buf), 8);
  crc_.Update(tail.data(), tail.size());
  trailer.file_checksum = kChecksumFlag | crc_.Value();
  base::PutBE64(buf, trailer.file_checksum);
  tail.append(reinterpret_cast<const char*>(buf), 8);
  LK_RETURN_IF_ERROR(
      WriteRaw({reinterpret_cast<const uint8_t*>(tail.data()), tail.size()},
               /*checksum=*/false));
  LK_RETURN_IF_ERROR(Flush());
  trailer_ = trailer;
  closed_ = true;
  return base::Status::Ok();
}

}  // namespace litekeep::ltx
