// Helpers shared by the LTX unit tests: encoding/decoding whole files in
// memory, page generators, and RawLtx, an independent byte-level builder
// that can write files our Encoder refuses (to test the decoder's rules)
// and legacy LZ4-frame pages.
#pragma once

#include <gtest/gtest.h>
#include <lz4.h>
#include <lz4frame.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "base/crc64.h"
#include "base/io.h"
#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/format.h"
#include "tests/support/test_util.h"

namespace litekeep::ltx::testutil {

using Page = std::pair<Pgno, std::string>;

// The golden vectors: tests/testdata/ltx of this repository.
inline std::string GoldenDir() { return litekeep::testing::GoldenLtxDir(); }

inline std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Everything a decoder reported for one file.
struct Decoded {
  base::Status status;
  Header header;
  Trailer trailer;
  std::vector<Page> pages;
  std::vector<PageIndexEntry> index;
};

inline Decoded DecodeFrom(base::Reader* reader, const std::string& name) {
  Decoded d;
  Decoder dec(reader, name);
  d.status = dec.DecodeHeader();
  if (!d.status.ok()) return d;
  d.header = dec.header();
  std::string page(d.header.page_size, '\0');
  for (;;) {
    Pgno pgno = 0;
    Result<bool> more = dec.DecodePage(
        &pgno, {reinterpret_cast<uint8_t*>(page.data()), page.size()});
    if (!more.ok()) {
      d.status = more.status();
      return d;
    }
    if (!*more) break;
    d.pages.emplace_back(pgno, page);
  }
  d.status = dec.Close();
  d.trailer = dec.trailer();
  d.index = dec.page_index();
  return d;
}

inline Decoded DecodeBytes(const std::string& file, const std::string& name) {
  base::SpanReader reader(AsBytes(file));
  return DecodeFrom(&reader, name);
}

// Encodes pages with our Encoder (pages stored with `encoding`); the status
// of the first failing call is stored in *status (ok when the file was
// written).
inline std::string EncodeFile(const Header& header,
                              const std::vector<Page>& pages, uint64_t post,
                              base::Status* status,
                              PageEncoding encoding = PageEncoding::kBlock) {
  std::string out;
  base::StringWriter writer(&out);
  Encoder enc(&writer, encoding);
  *status = enc.EncodeHeader(header);
  for (const Page& p : pages) {
    if (!status->ok()) return out;
    *status = enc.EncodePage(p.first, AsBytes(p.second));
  }
  if (status->ok()) *status = enc.Close(post);
  if (status->ok()) {
    EXPECT_EQ(enc.bytes_written(), out.size());
    EXPECT_EQ(enc.page_count(), pages.size());
  }
  return out;
}

inline uint64_t DbChecksum(uint32_t page_size, const std::vector<Page>& pages) {
  DatabaseChecksum c(page_size);
  for (const Page& p : pages) c.AddPage(p.first, AsBytes(p.second));
  return c.Value();
}

enum class PageKind { kRandom, kZero, kText, kMixed };

// A page of the given kind: incompressible, all zeros, repetitive text, or
// half random / half runs.
inline std::string MakePage(std::mt19937_64& rng, uint32_t size,
                            PageKind kind) {
  std::string p(size, '\0');
  switch (kind) {
    case PageKind::kZero:
      break;
    case PageKind::kRandom:
      for (auto& c : p) c = static_cast<char>(rng());
      break;
    case PageKind::kText: {
      static const std::string kWords[] = {"alpha ", "beta ",   "gamma ",
                                           "delta ", "Zürich ", "42 "};
      size_t i = 0;
      while (i < size) {
        const std::string& w = kWords[rng() % 6];
        for (char c : w) {
          if (i < size) p[i++] = c;
        }
      }
      break;
    }
    case PageKind::kMixed:
      for (uint32_t i = 0; i < size; ++i) {
        p[i] = (i / 64) % 2 == 0 ? static_cast<char>(rng()) : 'x';
      }
      break;
  }
  return p;
}

inline Header MakeHeader(uint32_t page_size, uint32_t commit, TxId min,
                         TxId max, bool no_checksum, uint64_t pre = 0) {
  Header h;
  h.flags = no_checksum ? kHeaderFlagNoChecksum : 0;
  h.page_size = page_size;
  h.commit = commit;
  h.min_txid = min;
  h.max_txid = max;
  h.timestamp_ms = 1718100000000 + static_cast<int64_t>(max);
  h.pre_apply_checksum = pre;
  if (min > 1) {
    h.wal_offset = 32;
    h.wal_size = 4120;
    h.wal_salt1 = 0x11223344;
    h.wal_salt2 = 0x55667788;
  }
  return h;
}

// Byte-level LTX writer independent of Encoder. Frames are emitted as
// given (any order, any flags); the index, size field and checksum are
// computed unless overridden.
class RawLtx {
 public:
  struct Frame {
    Pgno pgno;
    uint16_t flags;       // 1 = block, 0 = legacy LZ4 frame
    std::string payload;  // after the page header (incl. size field)
    std::string page;     // decompressed page, for the checksum stream
  };

  explicit RawLtx(const Header& h) : header(h) {}

  void AddBlockPage(Pgno pgno, const std::string& page) {
    std::string block(
        static_cast<size_t>(LZ4_compressBound(static_cast<int>(page.size()))),
        '\0');
    int n = LZ4_compress_default(page.data(), block.data(),
                                 static_cast<int>(page.size()),
                                 static_cast<int>(block.size()));
    block.resize(static_cast<size_t>(n));
    std::string payload(4, '\0');
    base::PutBE32(reinterpret_cast<uint8_t*>(payload.data()),
                  static_cast<uint32_t>(n));
    frames.push_back({pgno, kPageFlagSize, payload + block, page});
  }

  void AddLegacyPage(Pgno pgno, const std::string& page,
                     bool content_checksum = true) {
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.contentChecksumFlag =
        content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
    prefs.frameInfo.contentSize = page.size();
    std::string out(LZ4F_compressFrameBound(page.size(), &prefs), '\0');
    size_t n = LZ4F_compressFrame(out.data(), out.size(), page.data(),
                                  page.size(), &prefs);
    EXPECT_FALSE(LZ4F_isError(n));
    out.resize(n);
    frames.push_back({pgno, 0, out, page});
  }

  // The index entries of the frames as Build lays them out, in file order.
  std::vector<PageIndexEntry> FrameIndex() const {
    std::vector<PageIndexEntry> index;
    uint64_t offset = kHeaderSize;
    for (const Frame& f : frames) {
      const uint64_t size = kPageHeaderSize + f.payload.size();
      index.push_back({f.pgno, offset, size});
      offset += size;
    }
    return index;
  }

  // Serializes the file, computing offsets, index and file checksum.
  std::string Build() const {
    std::string out(kHeaderSize, '\0');
    header.Encode(reinterpret_cast<uint8_t*>(out.data()));
    if (!raw_header.empty()) out = raw_header;
    base::Crc64 crc;
    crc.Update(out.data(), out.size());
    std::vector<PageIndexEntry> index = FrameIndex();
    for (const Frame& f : frames) {
      std::string ph(kPageHeaderSize, '\0');
      base::PutBE32(reinterpret_cast<uint8_t*>(ph.data()), f.pgno);
      base::PutBE16(reinterpret_cast<uint8_t*>(ph.data()) + 4, f.flags);
      crc.Update(ph.data(), ph.size());
      if (f.flags & kPageFlagSize) crc.Update(f.payload.data(), 4);
      crc.Update(f.page.data(), f.page.size());
      out += ph + f.payload;
    }
    std::string tail(kPageHeaderSize, '\0');
    std::sort(index.begin(), index.end(),
              [](const auto& a, const auto& b) { return a.pgno < b.pgno; });
    if (index_override) index = *index_override;
    std::string idx;
    for (const auto& e : index) {
      base::PutUvarint(idx, e.pgno);
      base::PutUvarint(idx, e.offset);
      base::PutUvarint(idx, e.size);
    }
    base::PutUvarint(idx, 0);
    tail += idx;
    uint8_t b[8];
    base::PutBE64(b, size_field_override ? *size_field_override : idx.size());
    tail.append(reinterpret_cast<char*>(b), 8);
    base::PutBE64(b, post);
    tail.append(reinterpret_cast<char*>(b), 8);
    crc.Update(tail.data(), tail.size());
    base::PutBE64(b, file_checksum_override ? *file_checksum_override
                                            : (kChecksumFlag | crc.Value()));
    tail.append(reinterpret_cast<char*>(b), 8);
    return out + tail + trailing;
  }

  Header header;
  std::string raw_header;  // replaces the encoded header when set
  std::vector<Frame> frames;
  std::optional<std::vector<PageIndexEntry>> index_override;
  std::optional<uint64_t> size_field_override;
  std::optional<uint64_t> file_checksum_override;
  uint64_t post = 0;
  std::string trailing;
};

}  // namespace litekeep::ltx::testutil
