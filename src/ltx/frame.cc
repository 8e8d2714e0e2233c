// LTX page frames: block and legacy LZ4-frame payloads, and whole frames
// read on their own.
#include "ltx/frame.h"

#include <fmt/format.h>
#include <lz4.h>
#include <lz4frame.h>

#include <cstring>

#include "base/coding.h"
#include "ltx/format.h"

namespace litekeep::ltx {

size_t MaxPagePayload(uint32_t page_size) {
  return 2 * static_cast<size_t>(page_size) + 1024;
}

Status CheckBlockSize(uint32_t csize, Pgno pgno, uint32_t page_size,
                      uint64_t offset, const std::string& name) {
  if (csize == 0) {
    return CorruptAt(offset, "compressed size",
                     fmt::format("page {}: compressed size is 0", pgno))
        .WithContext(name);
  }
  if (csize > MaxPagePayload(page_size)) {
    return CorruptAt(offset, "compressed size",
                     fmt::format("page {}: compressed size {} is impossible "
                                 "for a {}-byte page",
                                 pgno, csize, page_size))
        .WithContext(name);
  }
  return Status::Ok();
}

Status DecompressBlock(std::span<const uint8_t> block, Pgno pgno,
                       std::span<uint8_t> page, uint64_t offset,
                       const std::string& name) {
  int n = LZ4_decompress_safe(reinterpret_cast<const char*>(block.data()),
                              reinterpret_cast<char*>(page.data()),
                              static_cast<int>(block.size()),
                              static_cast<int>(page.size()));
  if (n == static_cast<int>(page.size())) return Status::Ok();
  return CorruptAt(
             offset, "page data",
             n < 0 ? fmt::format("page {}: LZ4 block is malformed or "
                                 "decompresses to more than the page size {}",
                                 pgno, page.size())
                   : fmt::format("page {}: LZ4 block decompresses to {} bytes, "
                                 "not the page size {}",
                                 pgno, n, page.size()))
      .WithContext(name);
}

LegacyFrameDecoder::LegacyFrameDecoder() {
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION))) {
    ctx_ = nullptr;
  }
}

LegacyFrameDecoder::~LegacyFrameDecoder() {
  if (ctx_ != nullptr) LZ4F_freeDecompressionContext(ctx_);
}

Status LegacyFrameDecoder::Decode(const Take& take, Pgno pgno,
                                  std::span<uint8_t> page, uint64_t offset,
                                  const std::string& name) {
  auto corrupt = [&](uint64_t at, const std::string& details) {
    return CorruptAt(
               at, "page data",
               fmt::format("page {}: legacy LZ4 frame: {}", pgno, details))
        .WithContext(name);
  };
  if (ctx_ == nullptr) {
    return base::InternalError(name + ": cannot create an LZ4F context");
  }
  LZ4F_resetDecompressionContext(ctx_);
  // One byte of room past the page reveals a frame that is too long.
  scratch_.resize(page.size() + 1);
  size_t produced = 0;
  uint64_t consumed = 0;
  size_t hint = LZ4F_HEADER_SIZE_MIN;
  while (hint != 0) {
    const uint64_t at = offset + consumed;
    if (hint > MaxPagePayload(static_cast<uint32_t>(page.size())) + 16) {
      return corrupt(at, fmt::format("a block of {} bytes is impossible "
                                     "for a {}-byte page",
                                     hint, page.size()));
    }
    LK_ASSIGN_OR_RETURN(std::span<const uint8_t> src, take(hint));
    consumed += src.size();
    size_t src_size = src.size();
    size_t dst_size = scratch_.size() - produced;
    size_t r = LZ4F_decompress(ctx_, scratch_.data() + produced, &dst_size,
                               src.data(), &src_size, nullptr);
    if (LZ4F_isError(r)) return corrupt(at, LZ4F_getErrorName(r));
    produced += dst_size;
    if (produced > page.size() || src_size != src.size()) {
      return corrupt(at, fmt::format("decompresses to more than the page "
                                     "size {}",
                                     page.size()));
    }
    hint = r;
  }
  if (produced != page.size()) {
    return corrupt(offset,
                   fmt::format("decompresses to {} bytes, not the page size {}",
                               produced, page.size()));
  }
  std::memcpy(page.data(), scratch_.data(), page.size());
  return Status::Ok();
}

Status DecodePageFrame(std::span<const uint8_t> frame, Pgno pgno,
                       std::span<uint8_t> page, uint64_t offset,
                       const std::string& name) {
  auto bad = [&](uint64_t at, std::string_view rule, const std::string& why) {
    return CorruptAt(at, rule, fmt::format("page {}: {}", pgno, why))
        .WithContext(name);
  };
  if (frame.size() < kPageHeaderSize + 1) {
    return bad(offset, "truncated", "frame too short");
  }
  const Pgno got = base::GetBE32(frame.data());
  const uint16_t flags = base::GetBE16(frame.data() + 4);
  if (got != pgno) {
    return bad(offset, "page header",
               "frame holds page " + std::to_string(got));
  }
  std::span<const uint8_t> payload = frame.subspan(kPageHeaderSize);
  const uint64_t payload_offset = offset + kPageHeaderSize;
  if (flags == kPageFlagSize) {
    if (payload.size() < 4) return bad(offset, "truncated", "frame too short");
    const uint32_t n = base::GetBE32(payload.data());
    LK_RETURN_IF_ERROR(CheckBlockSize(
        n, pgno, static_cast<uint32_t>(page.size()), payload_offset, name));
    if (n != payload.size() - 4) {
      return bad(
          payload_offset, "compressed size",
          "compressed size " + std::to_string(n) + " does not match the frame");
    }
    return DecompressBlock(payload.subspan(4), pgno, page, payload_offset + 4,
                           name);
  }
  if (flags != 0) return bad(offset + 4, "page flags", "unknown page flags");
  size_t pos = 0;
  LegacyFrameDecoder legacy;
  auto take = [&](size_t n) -> Result<std::span<const uint8_t>> {
    if (payload.size() - pos < n) {
      return bad(payload_offset + pos, "truncated",
                 "legacy LZ4 frame runs past the frame");
    }
    std::span<const uint8_t> out = payload.subspan(pos, n);
    pos += n;
    return out;
  };
  LK_RETURN_IF_ERROR(legacy.Decode(take, pgno, page, payload_offset, name));
  if (pos != payload.size()) {
    return bad(payload_offset + pos, "page data",
               "legacy LZ4 frame ends before the frame does");
  }
  return Status::Ok();
}

}  // namespace litekeep::ltx
