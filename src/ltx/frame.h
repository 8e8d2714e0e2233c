// LTX page frames (docs/format.md §3): one page's payload in the current
// block encoding or the legacy LZ4-frame encoding, with the size limits
// every reader applies. The streaming Decoder and range reads of single
// frames (the VFS) both decode through these functions. Errors are kCorrupt
// "<name>: offset N: <rule>: <details>".
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"

struct LZ4F_dctx_s;

namespace litekeep::ltx {

// Longest payload accepted for one page: no valid LZ4 encoding of a page
// comes close, and it bounds what a corrupt size field can make us read.
size_t MaxPagePayload(uint32_t page_size);

// Block encoding: checks the compressed size csize (the size field) against
// MaxPagePayload. `offset` is the size field's file offset.
Status CheckBlockSize(uint32_t csize, Pgno pgno, uint32_t page_size,
                      uint64_t offset, const std::string& name);

// Block encoding: decompresses `block` into page; it must give exactly
// page.size() bytes. `offset` is the block's file offset.
Status DecompressBlock(std::span<const uint8_t> block, Pgno pgno,
                       std::span<uint8_t> page, uint64_t offset,
                       const std::string& name);

// The legacy encoding: one LZ4 frame holding exactly one page. Keeps its
// LZ4F context across pages.
class LegacyFrameDecoder {
 public:
  // The next n bytes of the frame (kCorrupt "truncated" when it ends).
  using Take = std::function<Result<std::span<const uint8_t>>(size_t n)>;

  LegacyFrameDecoder();
  ~LegacyFrameDecoder();
  LegacyFrameDecoder(const LegacyFrameDecoder&) = delete;
  LegacyFrameDecoder& operator=(const LegacyFrameDecoder&) = delete;

  // Pulls the frame through take (only as many bytes as the frame has; no
  // block longer than MaxPagePayload) and decompresses it into page.
  // `offset` is the frame's file offset.
  Status Decode(const Take& take, Pgno pgno, std::span<uint8_t> page,
                uint64_t offset, const std::string& name);

 private:
  LZ4F_dctx_s* ctx_ = nullptr;
  std::vector<uint8_t> scratch_;
};

// Decodes one whole frame read on its own (page header included) into page
// (page_size bytes). `offset` is the frame's file offset; kCorrupt naming
// `name` and the page when the frame is not page pgno, breaks a size limit
// or does not decompress to exactly one page.
Status DecodePageFrame(std::span<const uint8_t> frame, Pgno pgno,
                       std::span<uint8_t> page, uint64_t offset,
                       const std::string& name);

}  // namespace litekeep::ltx
