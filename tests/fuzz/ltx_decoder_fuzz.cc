// libFuzzer target: the streaming LTX decoder (src/ltx/decoder.h) and the
// page-index tail reader used for range reads, fed arbitrary bytes. Every
// outcome must be a page stream or a Status; never a crash or UB.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/io.h"
#include "ltx/decoder.h"

using namespace litekeep;

namespace {

// Decodes page by page, as restore does, then closes.
void DecodeStreaming(std::span<const uint8_t> data) {
  base::SpanReader in(data);
  ltx::Decoder dec(&in, "fuzz.ltx");
  if (!dec.DecodeHeader().ok()) return;
  uint32_t page_size = dec.header().page_size;
  if (page_size == 0 || page_size > 65536) return;
  std::vector<uint8_t> page(page_size);
  for (int i = 0; i < 100000; ++i) {
    Pgno pgno = 0;
    auto more = dec.DecodePage(&pgno, page);
    if (!more.ok() || !*more) break;
  }
  (void)dec.Close();
}

// Reads the page index from the file's tail, as the VFS does.
void DecodeTail(std::span<const uint8_t> data) {
  if (data.size() < 24) return;
  auto want = ltx::PageIndexTailLength(data.last(24), data.size(), "fuzz.ltx");
  if (!want.ok() || *want > data.size()) return;
  (void)ltx::DecodePageIndexFromTail(data.last(*want), data.size(), "fuzz.ltx");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  DecodeStreaming(in);
  (void)ltx::DecodeAll(in, "fuzz.ltx", [](Pgno, std::span<const uint8_t>) {});
  DecodeTail(in);
  return 0;
}
