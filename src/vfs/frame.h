// Decodes one LTX page frame read on its own by a range read (docs/format.md
// §3): the current block encoding and the legacy LZ4-frame encoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "base/types.h"

namespace litekeep::vfs {

// Decodes frame (exactly one whole frame) into page (page_size bytes).
// kCorrupt naming `name` and the page when the frame is not page pgno or
// does not decompress to exactly page.size() bytes.
Status DecodeFrame(std::span<const uint8_t> frame, Pgno pgno,
                   std::span<uint8_t> page, const std::string& name);

}  // namespace litekeep::vfs
