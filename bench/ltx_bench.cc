// Micro-benchmarks of the LTX codec on 4 KiB pages: encode and decode
// throughput in both checksum modes, against in-process baselines (LZ4
// block compression/decompression alone, and CRC-64 alone) so the codec's
// own overhead shows as a ratio; and the two CRC-64 implementations.
#include <benchmark/benchmark.h>
#include <lz4.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/crc64.h"
#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/format.h"

namespace litekeep::ltx {
namespace {

constexpr uint32_t kPageSize = 4096;
constexpr Pgno kPages = 1024;  // 4 MiB per iteration

// Table-like pages: runs of small records with random ids and repeated
// text, compressing roughly 2:1 like typical SQLite b-tree pages.
const std::vector<std::string>& Pages() {
  static const std::vector<std::string> pages = [] {
    std::mt19937_64 rng(42);
    std::vector<std::string> v;
    for (Pgno p = 0; p < kPages; ++p) {
      std::string page;
      while (page.size() < kPageSize) {
        uint64_t id = rng();
        page.append(reinterpret_cast<const char*>(&id), 8);
        page += "user-" + std::to_string(rng() % 1000) + "@example.com|";
        page += (rng() % 2) ? "active|" : "disabled|";
      }
      page.resize(kPageSize);
      v.push_back(std::move(page));
    }
    return v;
  }();
  return pages;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Header MakeHeader(bool snapshot, bool no_checksum) {
  Header h;
  h.flags = no_checksum ? kHeaderFlagNoChecksum : 0;
  h.page_size = kPageSize;
  h.commit = kPages;
  h.min_txid = snapshot ? 1 : 2;
  h.max_txid = 2;
  h.timestamp_ms = 1718100000000;
  h.pre_apply_checksum = snapshot || no_checksum ? 0 : kChecksumFlag | 1;
  return h;
}

uint64_t PostApply(bool snapshot, bool no_checksum) {
  if (no_checksum) return 0;
  if (!snapshot) return kChecksumFlag | 2;
  DatabaseChecksum c(kPageSize);
  for (Pgno p = 1; p <= kPages; ++p) c.AddPage(p, Bytes(Pages()[p - 1]));
  return c.Value();
}

std::string Encode(bool snapshot, bool no_checksum, uint64_t post) {
  std::string out;
  out.reserve(size_t{kPages} * kPageSize);  // measure the codec, not realloc
  base::StringWriter w(&out);
  Encoder enc(&w);
  if (!enc.EncodeHeader(MakeHeader(snapshot, no_checksum)).ok()) return "";
  for (Pgno p = 1; p <= kPages; ++p) {
    if (!enc.EncodePage(p, Bytes(Pages()[p - 1])).ok()) return "";
  }
  if (!enc.Close(post).ok()) return "";
  return out;
}

// args: snapshot, no_checksum
void BM_Encode(benchmark::State& state) {
  const bool snapshot = state.range(0) != 0, no_checksum = state.range(1) != 0;
  const uint64_t post = PostApply(snapshot, no_checksum);
  size_t size = 0;
  for (auto _ : state) {
    std::string out = Encode(snapshot, no_checksum, post);
    if (out.empty()) state.SkipWithError("encode failed");
    size = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
  state.counters["ratio"] =
      static_cast<double>(size) / (double{kPages} * kPageSize);
}
BENCHMARK(BM_Encode)
    ->ArgNames({"snapshot", "nochecksum"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({1, 0});

void BM_Decode(benchmark::State& state) {
  const bool snapshot = state.range(0) != 0, no_checksum = state.range(1) != 0;
  const std::string file =
      Encode(snapshot, no_checksum, PostApply(snapshot, no_checksum));
  std::vector<uint8_t> page(kPageSize);
  for (auto _ : state) {
    base::SpanReader r(Bytes(file));
    Decoder dec(&r, "bench.ltx");
    if (!dec.DecodeHeader().ok()) state.SkipWithError("header");
    Pgno pgno;
    for (;;) {
      Result<bool> more = dec.DecodePage(&pgno, page);
      if (!more.ok()) state.SkipWithError("page");
      if (!more.ok() || !*more) break;
      benchmark::DoNotOptimize(page.data());
    }
    if (!dec.Close().ok()) state.SkipWithError("close");
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
}
BENCHMARK(BM_Decode)
    ->ArgNames({"snapshot", "nochecksum"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({1, 0});

// Baseline: LZ4 block compression of the same pages, nothing else.
void BM_BaselineLz4Compress(benchmark::State& state) {
  std::vector<char> dst(LZ4_compressBound(kPageSize));
  for (auto _ : state) {
    for (const std::string& p : Pages()) {
      int n = LZ4_compress_default(p.data(), dst.data(), kPageSize,
                                   static_cast<int>(dst.size()));
      benchmark::DoNotOptimize(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
}
BENCHMARK(BM_BaselineLz4Compress);

// Baseline: LZ4 block decompression of the same pages, nothing else.
void BM_BaselineLz4Decompress(benchmark::State& state) {
  std::vector<std::string> blocks;
  for (const std::string& p : Pages()) {
    std::string b(LZ4_compressBound(kPageSize), '\0');
    b.resize(LZ4_compress_default(p.data(), b.data(), kPageSize,
                                  static_cast<int>(b.size())));
    blocks.push_back(std::move(b));
  }
  std::vector<char> out(kPageSize);
  for (auto _ : state) {
    for (const std::string& b : blocks) {
      int n = LZ4_decompress_safe(b.data(), out.data(),
                                  static_cast<int>(b.size()), kPageSize);
      benchmark::DoNotOptimize(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
}
BENCHMARK(BM_BaselineLz4Decompress);

// Baseline: CRC-64/ISO over the same pages.
void BM_BaselineCrc64(benchmark::State& state) {
  for (auto _ : state) {
    base::Crc64 crc;
    for (const std::string& p : Pages()) crc.Update(p.data(), p.size());
    benchmark::DoNotOptimize(crc.Value());
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
}
BENCHMARK(BM_BaselineCrc64);

// The two CRC-64 implementations behind Crc64, side by side on the same
// pages: arg 0 = slicing-by-8 tables, 1 = PCLMULQDQ folding.
void BM_Crc64Impl(benchmark::State& state) {
  const bool clmul = state.range(0) != 0;
  if (clmul && !base::crc64_internal::HasClmul()) {
    state.SkipWithError("no PCLMULQDQ on this CPU");
    return;
  }
  for (auto _ : state) {
    uint64_t reg = ~uint64_t{0};
    for (const std::string& p : Pages()) {
      const auto* d = reinterpret_cast<const uint8_t*>(p.data());
      reg = clmul ? base::crc64_internal::UpdateClmul(reg, d, p.size())
                  : base::crc64_internal::UpdateTable(reg, d, p.size());
    }
    benchmark::DoNotOptimize(reg);
  }
  state.SetBytesProcessed(state.iterations() * int64_t{kPages} * kPageSize);
}
BENCHMARK(BM_Crc64Impl)->ArgName("clmul")->Arg(0)->Arg(1);

}  // namespace
}  // namespace litekeep::ltx
