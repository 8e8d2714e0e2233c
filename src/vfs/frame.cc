// Single page-frame decoding for range reads.
#include "vfs/frame.h"

#include <lz4.h>
#include <lz4frame.h>

#include "base/coding.h"
#include "ltx/format.h"

namespace litekeep::vfs {
namespace {

Status Bad(const std::string& name, Pgno pgno, const std::string& why) {
  return base::CorruptError(name + ": page " + std::to_string(pgno) + ": " +
                            why);
}

}  // namespace

Status DecodeFrame(std::span<const uint8_t> frame, Pgno pgno,
                   std::span<uint8_t> page, const std::string& name) {
  if (frame.size() < ltx::kPageHeaderSize + 1) {
    return Bad(name, pgno, "frame too short");
  }
  Pgno got = base::GetBE32(frame.data());
  uint16_t flags = base::GetBE16(frame.data() + 4);
  if (got != pgno) {
    return Bad(name, pgno, "frame holds page " + std::to_string(got));
  }
  std::span<const uint8_t> payload = frame.subspan(ltx::kPageHeaderSize);
  if (flags == ltx::kPageFlagSize) {
    if (payload.size() < 4) return Bad(name, pgno, "frame too short");
    uint32_t n = base::GetBE32(payload.data());
    if (n == 0 || n != payload.size() - 4) {
      return Bad(name, pgno, "compressed size " + std::to_string(n) +
                                 " does not match the frame");
    }
    int out = LZ4_decompress_safe(
        reinterpret_cast<const char*>(payload.data() + 4),
        reinterpret_cast<char*>(page.data()), static_cast<int>(n),
        static_cast<int>(page.size()));
    if (out != static_cast<int>(page.size())) {
      return Bad(name, pgno, "LZ4 block does not decompress to one page");
    }
    return Status::Ok();
  }
  if (flags != 0) return Bad(name, pgno, "unknown page flags");
  // Legacy: one LZ4 frame holding exactly one page.
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
    return base::InternalError("cannot create an LZ4F context");
  }
  size_t produced = 0, consumed = 0;
  size_t r = 1;
  while (r != 0 && consumed < payload.size()) {
    size_t in = payload.size() - consumed;
    size_t out = page.size() - produced;
    r = LZ4F_decompress(ctx, page.data() + produced, &out,
                        payload.data() + consumed, &in, nullptr);
    if (LZ4F_isError(r)) break;
    consumed += in;
    produced += out;
    if (in == 0 && out == 0) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (LZ4F_isError(r) || r != 0 || produced != page.size() ||
      consumed != payload.size()) {
    return Bad(name, pgno, "legacy LZ4 frame does not hold exactly one page");
  }
  return Status::Ok();
}

}  // namespace litekeep::vfs
