// Strict streaming LTX decoder (docs/format.md): current block encoding and
// legacy LZ4-frame pages, page index, trailer and every checksum.
#include "ltx/decoder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "ltx/file_name.h"
#include "ltx/frame.h"

namespace litekeep::ltx {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kSizeFieldSize = 8;
// Bytes after the index: the 8-byte size field and the trailer.
constexpr size_t kIndexTailSize = kSizeFieldSize + kTrailerSize;

constexpr uint64_t kMinTxIdOffset = 16;

}  // namespace

Decoder::Decoder(base::Reader* in, std::string name)
    : in_(in), name_(std::move(name)) {}

Decoder::~Decoder() = default;

base::Status Decoder::Fail(base::Status s) {
  if (!s.ok() && error_.ok()) error_ = s;
  return s;
}

Result<size_t> Decoder::Fill(size_t n) {
  size_t avail = rend_ - rpos_;
  if (avail >= n || eof_) return avail;
  if (rpos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + rpos_, avail);
    rpos_ = 0;
    rend_ = avail;
  }
  if (buf_.size() < n) buf_.resize(std::max(n, kReadChunk));
  while (rend_ < n) {
    Result<size_t> got =
        in_->Read(std::span<uint8_t>(buf_.data() + rend_, buf_.size() - rend_));
    if (!got.ok()) {
      return got.status().WithContext(
          fmt::format("{}: offset {}: read", name_, offset_ + (rend_ - rpos_)));
    }
    if (*got == 0) {
      eof_ = true;
      break;
    }
    rend_ += *got;
  }
  return rend_ - rpos_;
}

Result<std::span<const uint8_t>> Decoder::Take(size_t n, std::string_view what,
                                               Pgno pgno) {
  size_t avail = rend_ - rpos_;
  if (avail < n) {
    LK_ASSIGN_OR_RETURN(avail, Fill(n));
  }
  if (avail < n) {
    const std::string label =
        pgno == 0 ? std::string(what) : fmt::format("page {} {}", pgno, what);
    return CorruptAt(offset_, "truncated",
                     fmt::format("{} needs {} bytes but the data ends after {} "
                                 "(unexpected end of file at offset {})",
                                 label, n, avail, offset_ + avail))
        .WithContext(name_);
  }
  std::span<const uint8_t> out(buf_.data() + rpos_, n);
  rpos_ += n;
  offset_ += n;
  return out;
}

Result<uint64_t> Decoder::ReadUvarint() {
  LK_ASSIGN_OR_RETURN(size_t avail, Fill(base::kMaxVarintLen64));
  std::span<const uint8_t> in(buf_.data() + rpos_,
                              std::min(avail, base::kMaxVarintLen64));
  std::optional<base::VarintResult> v = base::GetUvarint(in);
  if (!v) {
    bool all_continued =
        std::all_of(in.begin(), in.end(), [](uint8_t b) { return b >= 0x80; });
    if (in.size() < base::kMaxVarintLen64 && all_continued) {
      return CorruptAt(offset_, "truncated",
                       "page index varint runs past the end of the file "
                       "(unexpected end)")
          .WithContext(name_);
    }
    return CorruptAt(offset_, "page index",
                     "invalid varint (over-long or overflowing 64 bits)")
        .WithContext(name_);
  }
  crc_.Update(in.first(v->length));
  rpos_ += v->length;
  offset_ += v->length;
  return v->value;
}

base::Status Decoder::DecodeHeader() {
  if (header_done_) {
    return base::FailedPreconditionError(name_ + ": header already decoded");
  }
  if (!error_.ok()) return error_;
  header_done_ = true;
  Result<std::span<const uint8_t>> bytes = Take(kHeaderSize, "the header");
  if (!bytes.ok()) return Fail(bytes.status());
  Result<Header> h = Header::Decode(*bytes);
  if (!h.ok()) return Fail(h.status().WithContext(name_));
  crc_.Update(*bytes);
  header_ = *h;
  base::Status valid = header_.Validate();
  if (!valid.ok()) return Fail(valid.WithContext(name_));
  const std::string base_name = base::BaseName(name_);
  if (HasFileNameShape(base_name)) {
    std::optional<TxRange> named = ParseFileName(base_name);
    if (!named || named->min_txid != header_.min_txid ||
        named->max_txid != header_.max_txid) {
      return Fail(CorruptAt(kMinTxIdOffset, "file name",
                            fmt::format("{} does not match the header's TXID "
                                        "range (expected {})",
                                        base_name,
                                        FormatFileName(header_.min_txid,
                                                       header_.max_txid)))
                      .WithContext(name_));
    }
  }
  if (header_.IsSnapshot() && !header_.NoChecksum()) {
    db_checksum_.emplace(header_.page_size);
  }
  return base::Status::Ok();
}

Result<bool> Decoder::DecodePage(Pgno* pgno, std::span<uint8_t> page) {
  if (!error_.ok()) return error_;
  if (!header_done_ || closed_) {
    return base::FailedPreconditionError(
        name_ + ": DecodePage needs a decoded header and an open decoder");
  }
  if (pages_done_) return false;
  if (page.size() != header_.page_size) {
    return base::InvalidArgumentError(
        fmt::format("{}: page buffer has {} bytes, the page size is {}", name_,
                    page.size(), header_.page_size));
  }
  Result<bool> r = DecodePageImpl(pgno, page);
  if (!r.ok()) return Fail(r.status());
  return r;
}

Result<bool> Decoder::DecodePageImpl(Pgno* pgno, std::span<uint8_t> page) {
  const uint64_t frame_offset = offset_;
  LK_ASSIGN_OR_RETURN(std::span<const uint8_t> ph,
                      Take(kPageHeaderSize, "page header"));
  uint8_t page_header[kPageHeaderSize];
  std::memcpy(page_header, ph.data(), kPageHeaderSize);
  const Pgno p = base::GetBE32(page_header);
  const uint16_t flags = base::GetBE16(page_header + 4);
  auto corrupt = [&](uint64_t at, std::string_view rule,
                     const std::string& details) {
    return CorruptAt(at, rule, details).WithContext(name_);
  };

  if (p == 0) {
    if (flags != 0) {
      return corrupt(frame_offset, "page header",
                     fmt::format("pgno 0 with flags 0x{:04x}; pgno 0 is "
                                 "reserved for the end-of-pages marker, which "
                                 "is 6 zero bytes",
                                 flags));
    }
    crc_.Update(page_header, kPageHeaderSize);
    LK_RETURN_IF_ERROR(CheckSnapshotComplete(header_, prev_pgno_, frame_offset)
                           .WithContext(name_));
    pages_done_ = true;
    return false;
  }
  if ((flags & ~kPageFlagSize) != 0) {
    return corrupt(frame_offset + 4, "page flags",
                   fmt::format("page {}: flags 0x{:04x} have unknown bits "
                               "(only 0x0001 is defined; 0 marks a legacy "
                               "LZ4-frame page)",
                               p, flags));
  }
  LK_RETURN_IF_ERROR(
      CheckPageNumber(header_, prev_pgno_, p, frame_offset).WithContext(name_));

  if ((flags & kPageFlagSize) != 0) {
    LK_ASSIGN_OR_RETURN(std::span<const uint8_t> size_field,
                        Take(4, "compressed-size field", p));
    const uint32_t csize = base::GetBE32(size_field.data());
    crc_.Update(page_header, kPageHeaderSize);
    crc_.Update(size_field);
    LK_RETURN_IF_ERROR(CheckBlockSize(csize, p, header_.page_size,
                                      frame_offset + kPageHeaderSize, name_));
    const uint64_t block_offset = offset_;
    LK_ASSIGN_OR_RETURN(std::span<const uint8_t> block,
                        Take(csize, "LZ4 block", p));
    LK_RETURN_IF_ERROR(DecompressBlock(block, p, page, block_offset, name_));
  } else {
    crc_.Update(page_header, kPageHeaderSize);
    LK_RETURN_IF_ERROR(DecodeLegacyFrame(p, page));
  }
  crc_.Update(page);
  if (db_checksum_) db_checksum_->AddPage(p, page);
  if (offset_ - frame_offset > UINT32_MAX) {
    return corrupt(frame_offset, "page frame",
                   fmt::format("page {} frame of {} bytes is larger than any "
                               "page encoding allows",
                               p, offset_ - frame_offset));
  }
  if (frames_.size() == 0) first_frame_offset_ = frame_offset;
  LK_RETURN_IF_ERROR(
      frames_.Append({p, static_cast<uint32_t>(offset_ - frame_offset)}));
  prev_pgno_ = p;
  *pgno = p;
  return true;
}

base::Status Decoder::DecodeLegacyFrame(Pgno pgno, std::span<uint8_t> page) {
  if (!legacy_) legacy_ = std::make_unique<LegacyFrameDecoder>();
  return legacy_->Decode(
      [this, pgno](size_t n) { return Take(n, "LZ4 frame", pgno); }, pgno, page,
      offset_, name_);
}

base::Status Decoder::Close() {
  if (!error_.ok()) return error_;
  if (!header_done_ || closed_) {
    return base::FailedPreconditionError(
        name_ + ": Close needs a decoded header and an open decoder");
  }
  std::vector<uint8_t> page;
  while (!pages_done_) {
    page.resize(header_.page_size);
    Pgno pgno;
    Result<bool> more = DecodePage(&pgno, page);
    if (!more.ok()) return more.status();
  }
  return Fail(CloseImpl());
}

base::Status Decoder::CloseImpl() {
  const uint64_t index_offset = offset_;
  auto corrupt = [&](uint64_t at, const std::string& details) {
    return CorruptAt(at, "page index", details).WithContext(name_);
  };
  // Each entry is checked against the frame at the same position as it is
  // read (frames and entries are both in strictly increasing pgno order, so
  // they must agree one by one). Reported once the index is read: the first
  // ordering problem, else the first disagreement.
  base::Status unsorted, mismatch;
  frames_.Rewind();
  FrameSpool::Frame frame_buf;
  // The frame at the entry's position; nullptr once all were compared.
  const FrameSpool::Frame* frame = nullptr;
  auto next_frame = [&]() -> base::Status {
    LK_ASSIGN_OR_RETURN(bool more, frames_.Next(&frame_buf));
    frame = more ? &frame_buf : nullptr;
    return base::Status::Ok();
  };
  LK_RETURN_IF_ERROR(next_frame());
  uint64_t frame_offset = first_frame_offset_;
  Pgno prev = 0;
  index_.clear();
  index_entries_ = 0;
  for (;;) {
    const uint64_t entry_offset = offset_;
    LK_ASSIGN_OR_RETURN(uint64_t pgno, ReadUvarint());
    if (pgno == 0) break;
    LK_ASSIGN_OR_RETURN(uint64_t offset, ReadUvarint());
    LK_ASSIGN_OR_RETURN(uint64_t size, ReadUvarint());
    if (pgno > UINT32_MAX) {
      return CorruptAt(entry_offset, "page index",
                       fmt::format("page number {} does not fit 32 bits", pgno))
          .WithContext(name_);
    }
    const PageIndexEntry e{static_cast<Pgno>(pgno), offset, size};
    if (index_entries_ > 0 && e.pgno <= prev && unsorted.ok()) {
      unsorted = corrupt(entry_offset,
                         fmt::format("not sorted by pgno without duplicates: "
                                     "page {} follows page {}",
                                     e.pgno, prev));
    }
    prev = e.pgno;
    if (mismatch.ok()) {
      if (frame == nullptr || e.pgno < frame->pgno) {
        mismatch = corrupt(entry_offset,
                           fmt::format("entry for page {} but the file has no "
                                       "such page",
                                       e.pgno));
      } else if (frame->pgno < e.pgno) {
        mismatch = corrupt(
            frame_offset,
            fmt::format("page {} has no page index entry", frame->pgno));
      } else if (e.offset != frame_offset || e.size != frame->size) {
        mismatch = corrupt(
            entry_offset,
            fmt::format("entry for page {} says offset {} size {}, but "
                        "the frame is at offset {} with size {}",
                        e.pgno, e.offset, e.size, frame_offset, frame->size));
      }
    }
    if (frame != nullptr) {
      frame_offset += frame->size;
      LK_RETURN_IF_ERROR(next_frame());
    }
    if (keep_index_) index_.push_back(e);
    ++index_entries_;
  }
  if (mismatch.ok() && frame != nullptr) {
    mismatch = corrupt(frame_offset, fmt::format("page {} has no page index "
                                                 "entry",
                                                 frame->pgno));
  }
  frames_.Clear();
  if (!unsorted.ok()) return unsorted;
  if (!mismatch.ok()) return mismatch;
  const uint64_t index_length = offset_ - index_offset;

  const uint64_t size_offset = offset_;
  LK_ASSIGN_OR_RETURN(std::span<const uint8_t> size_field,
                      Take(kSizeFieldSize, "page index size field"));
  crc_.Update(size_field);
  const uint64_t size = base::GetBE64(size_field.data());
  if (size != index_length) {
    return CorruptAt(size_offset, "index size",
                     fmt::format("page index size field is {} but the index "
                                 "(entries and terminator from offset {}) is "
                                 "{} bytes",
                                 size, index_offset, index_length))
        .WithContext(name_);
  }

  const uint64_t trailer_offset = offset_;
  LK_ASSIGN_OR_RETURN(std::span<const uint8_t> trailer,
                      Take(kTrailerSize, "trailer"));
  crc_.Update(trailer.first(8));
  trailer_.post_apply_checksum = base::GetBE64(trailer.data());
  trailer_.file_checksum = base::GetBE64(trailer.data() + 8);
  LK_ASSIGN_OR_RETURN(size_t extra, Fill(1));
  if (extra > 0) {
    return CorruptAt(offset_, "trailing data",
                     "unexpected bytes after the trailer")
        .WithContext(name_);
  }
  LK_RETURN_IF_ERROR(
      ValidateTrailer(header_, trailer_, trailer_offset).WithContext(name_));
  const uint64_t computed = kChecksumFlag | crc_.Value();
  if (computed != trailer_.file_checksum) {
    return CorruptAt(trailer_offset + 8, "file checksum",
                     fmt::format("mismatch: the trailer says {:016x}, the file "
                                 "hashes to {:016x}",
                                 trailer_.file_checksum, computed))
        .WithContext(name_);
  }
  if (db_checksum_ && db_checksum_->Value() != trailer_.post_apply_checksum) {
    return CorruptAt(
               trailer_offset, "post-apply checksum",
               fmt::format("{:016x} does not match the database checksum "
                           "{:016x} of the snapshot's pages",
                           trailer_.post_apply_checksum, db_checksum_->Value()))
        .WithContext(name_);
  }
  closed_ = true;
  return base::Status::Ok();
}

Result<uint64_t> PageIndexTailLength(std::span<const uint8_t> last,
                                     uint64_t file_size,
                                     const std::string& name) {
  constexpr uint64_t kMinFile =
      kHeaderSize + kPageHeaderSize + 1 + kIndexTailSize;
  if (file_size < kMinFile) {
    return CorruptAt(0, "truncated",
                     fmt::format("{} bytes is shorter than the smallest LTX "
                                 "file ({} bytes)",
                                 file_size, kMinFile))
        .WithContext(name);
  }
  if (last.size() < kIndexTailSize || last.size() > file_size) {
    return base::InvalidArgumentError(
        fmt::format("{}: need the last {} bytes of the file, got {}", name,
                    kIndexTailSize, last.size()));
  }
  const uint64_t size_offset = file_size - kIndexTailSize;
  const uint64_t size =
      base::GetBE64(last.data() + last.size() - kIndexTailSize);
  const uint64_t room = size_offset - kHeaderSize - kPageHeaderSize;
  if (size == 0 || size > room) {
    return CorruptAt(size_offset, "index size",
                     fmt::format("page index size field is {} but the index "
                                 "must be 1 to {} bytes in a file of {} bytes",
                                 size, room, file_size))
        .WithContext(name);
  }
  return size + kIndexTailSize + kPageHeaderSize;
}

Result<std::vector<PageIndexEntry>> DecodePageIndexFromTail(
    std::span<const uint8_t> tail, uint64_t file_size,
    const std::string& name) {
  LK_ASSIGN_OR_RETURN(uint64_t wanted,
                      PageIndexTailLength(tail, file_size, name));
  const uint64_t size = wanted - kIndexTailSize - kPageHeaderSize;
  if (tail.size() < size + kIndexTailSize) {
    return base::InvalidArgumentError(
        fmt::format("{}: the page index needs the last {} bytes of the file, "
                    "got {}",
                    name, size + kIndexTailSize, tail.size()));
  }
  const uint64_t size_offset = file_size - kIndexTailSize;
  const uint64_t index_offset = size_offset - size;
  // tail[i] is the byte at file offset file_size - tail.size() + i.
  const uint64_t tail_start = file_size - tail.size();
  std::span<const uint8_t> index =
      tail.subspan(index_offset - tail_start, size);
  auto corrupt = [&](uint64_t at, std::string_view rule,
                     const std::string& details) {
    return CorruptAt(at, rule, details).WithContext(name);
  };

  std::vector<PageIndexEntry> entries;
  size_t pos = 0;
  uint64_t next_frame = kHeaderSize;
  for (;;) {
    const uint64_t entry_offset = index_offset + pos;
    uint64_t v[3];
    for (int k = 0; k < 3; ++k) {
      std::optional<base::VarintResult> r =
          base::GetUvarint(index.subspan(pos));
      if (!r) {
        return corrupt(index_offset + pos, "index size",
                       fmt::format("no valid index of {} bytes (per the size "
                                   "field) starts at offset {}",
                                   size, index_offset));
      }
      pos += r->length;
      v[k] = r->value;
      if (k == 0 && v[0] == 0) break;
    }
    if (v[0] == 0) break;
    if (v[0] > UINT32_MAX) {
      return corrupt(entry_offset, "page index",
                     fmt::format("page number {} does not fit 32 bits", v[0]));
    }
    if (!entries.empty() && v[0] <= entries.back().pgno) {
      return corrupt(entry_offset, "page index",
                     fmt::format("not sorted by pgno without duplicates: page "
                                 "{} follows page {}",
                                 v[0], entries.back().pgno));
    }
    if (v[1] != next_frame || v[2] <= kPageHeaderSize ||
        v[2] > index_offset - kPageHeaderSize - v[1]) {
      return corrupt(entry_offset, "page index",
                     fmt::format("entry for page {} (offset {} size {}) does "
                                 "not describe the frame that follows the "
                                 "previous one at offset {}",
                                 v[0], v[1], v[2], next_frame));
    }
    next_frame = v[1] + v[2];
    entries.push_back({static_cast<Pgno>(v[0]), v[1], v[2]});
  }
  if (pos != size) {
    return corrupt(size_offset, "index size",
                   fmt::format("page index size field is {} but the index "
                               "(entries and terminator from offset {}) is {} "
                               "bytes",
                               size, index_offset, pos));
  }
  if (next_frame + kPageHeaderSize != index_offset) {
    return corrupt(index_offset, "page index",
                   fmt::format("the frames end at offset {} but the "
                               "end-of-pages marker before the index is at {}",
                               next_frame, index_offset - kPageHeaderSize));
  }
  if (tail.size() >= wanted) {
    std::span<const uint8_t> marker = tail.subspan(
        index_offset - kPageHeaderSize - tail_start, kPageHeaderSize);
    if (std::any_of(marker.begin(), marker.end(),
                    [](uint8_t b) { return b != 0; })) {
      return corrupt(index_offset - kPageHeaderSize, "index size",
                     "the 6 bytes before the index (per the size field) are "
                     "not the end-of-pages marker");
    }
  }
  return entries;
}

base::Status DecodeAll(
    std::span<const uint8_t> file, const std::string& name,
    const std::function<void(Pgno, std::span<const uint8_t>)>& on_page,
    Header* header_out, Trailer* trailer_out) {
  base::SpanReader reader(file);
  Decoder dec(&reader, name);
  LK_RETURN_IF_ERROR(dec.DecodeHeader());
  std::vector<uint8_t> page(dec.header().page_size);
  for (;;) {
    Pgno pgno = 0;
    LK_ASSIGN_OR_RETURN(bool more, dec.DecodePage(&pgno, page));
    if (!more) break;
    if (on_page) on_page(pgno, page);
  }
  LK_RETURN_IF_ERROR(dec.Close());
  if (header_out != nullptr) *header_out = dec.header();
  if (trailer_out != nullptr) *trailer_out = dec.trailer();
  return base::Status::Ok();
}

}  // namespace litekeep::ltx
