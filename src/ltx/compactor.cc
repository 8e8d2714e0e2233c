// LTX compactor: a streaming k-way merge of LTX files by page number.
#include "ltx/compactor.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/file_name.h"

namespace litekeep::ltx {
namespace {

// One input being merged: its decoder and the page it is positioned on.
struct Cursor {
  std::unique_ptr<Decoder> decoder;
  std::vector<uint8_t> page;
  Pgno pgno = 0;  // current page; 0 once the input has no more pages
  // Pages above this are dropped (or zeroed) because this input or a later
  // one shrank the database below them.
  Pgno valid_through = 0;
};

// Counts bytes written through to another writer.
class CountingWriter : public base::Writer {
 public:
  explicit CountingWriter(base::Writer* out) : out_(out) {}
  base::Status Write(std::span<const uint8_t> data) override {
    bytes_ += data.size();
    return out_->Write(data);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  base::Writer* out_;
  uint64_t bytes_ = 0;
};

base::Status Advance(Cursor& c) {
  Pgno next = 0;
  LK_ASSIGN_OR_RETURN(bool more, c.decoder->DecodePage(&next, c.page));
  c.pgno = more ? next : 0;
  return base::Status::Ok();
}

std::string RangeName(const Header& h) {
  return FormatFileName(h.min_txid, h.max_txid);
}

}  // namespace

Result<CompactResult> Compact(std::span<const CompactInput> inputs,
                              base::Writer* out,
                              const CompactOptions& options) {
  if (inputs.empty()) {
    return base::InvalidArgumentError("ltx compactor: no input files");
  }
  std::vector<Cursor> cursors(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    cursors[i].decoder =
        std::make_unique<Decoder>(inputs[i].reader, inputs[i].name);
    cursors[i].decoder->set_keep_page_index(false);  // memory flat at any size
    LK_RETURN_IF_ERROR(cursors[i].decoder->DecodeHeader());
  }
  const Header& first = cursors.front().decoder->header();
  const Header& last = cursors.back().decoder->header();
  int64_t newest_ms = first.timestamp_ms;
  for (size_t i = 1; i < cursors.size(); ++i) {
    const Header& prev = cursors[i - 1].decoder->header();
    const Header& h = cursors[i].decoder->header();
    if (h.page_size != first.page_size) {
      return base::InvalidArgumentError(fmt::format(
          "ltx compactor: {} has page size {} but {} has {}", inputs[i].name,
          h.page_size, inputs[0].name, first.page_size));
    }
    if (h.min_txid > prev.max_txid + 1 || h.max_txid <= prev.max_txid) {
      return base::InvalidArgumentError(fmt::format(
          "ltx compactor: {} does not continue {} (inputs must chain in TXID "
          "order without a gap)",
          RangeName(h), RangeName(prev)));
    }
    newest_ms = std::max(newest_ms, h.timestamp_ms);
  }
  if (last.commit == 0) {
    return base::InvalidArgumentError(
        "ltx compactor: " + inputs.back().name +
        " leaves an empty database, which a NoChecksum file cannot describe");
  }

  // valid_through[i] = min commit of inputs i..n-1: a page image of input i
  // above it was cut off by a later (or its own) commit.
  Pgno min_commit = std::numeric_limits<Pgno>::max();
  for (size_t i = cursors.size(); i-- > 0;) {
    min_commit = std::min(min_commit, cursors[i].decoder->header().commit);
    cursors[i].valid_through = min_commit;
  }
  const bool snapshot = first.IsSnapshot();
  const Pgno commit = last.commit;
  const Pgno lock = LockPgno(first.page_size);
  // Pages from here to commit are written even when no input has them:
  // with zeros where a shrink cut them off (all of them for a snapshot).
  const Pgno all_from = snapshot ? 1 : min_commit + 1;

  Header h;
  h.flags = kHeaderFlagNoChecksum;
  h.page_size = first.page_size;
  h.commit = commit;
  h.min_txid = first.min_txid;
  h.max_txid = last.max_txid;
  h.timestamp_ms = options.timestamp_ms.value_or(newest_ms);
  h.node_id = options.node_id;

  CountingWriter counted(out);
  Encoder enc(&counted, options.encoding);
  LK_RETURN_IF_ERROR(enc.EncodeHeader(h));
  for (Cursor& c : cursors) {
    c.page.resize(first.page_size);
    LK_RETURN_IF_ERROR(Advance(c));
  }
  const std::vector<uint8_t> zero(first.page_size, 0);
  uint64_t pages = 0;
  Pgno fill = all_from;  // next page of the always-written range
  for (;;) {
    if (fill == lock) ++fill;
    Pgno pgno = fill <= commit ? fill : 0;
    for (const Cursor& c : cursors) {
      if (c.pgno != 0 && (pgno == 0 || c.pgno < pgno)) pgno = c.pgno;
    }
    if (pgno == 0) break;
    // The newest input holding this page decides its image.
    const Cursor* newest = nullptr;
    for (const Cursor& c : cursors) {
      if (c.pgno == pgno) newest = &c;
    }
    if (pgno <= commit) {
      if (newest != nullptr && pgno <= newest->valid_through) {
        LK_RETURN_IF_ERROR(enc.EncodePage(pgno, newest->page));
        ++pages;
      } else if (newest != nullptr || pgno >= all_from) {
        LK_RETURN_IF_ERROR(enc.EncodePage(pgno, zero));
        ++pages;
      }
    }
    if (pgno >= fill) fill = pgno + 1;
    for (Cursor& c : cursors) {
      if (c.pgno == pgno) LK_RETURN_IF_ERROR(Advance(c));
    }
  }
  // Verify every input to its last byte (index, trailer, file checksum).
  for (Cursor& c : cursors) LK_RETURN_IF_ERROR(c.decoder->Close());
  LK_RETURN_IF_ERROR(enc.Close(0));
  CompactResult result;
  result.header = h;
  result.pages = pages;
  result.bytes = counted.bytes();
  return result;
}

}  // namespace litekeep::ltx
