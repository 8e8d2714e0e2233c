// Litestream 0.3 restore: snapshot, then WAL segments with checksums.
#include "restore/legacy/restorer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/io.h"
#include "restore/legacy/lz4_reader.h"
#include "sqlite/db_header.h"
#include "sqlite/wal.h"

namespace litekeep::restore::legacy {
namespace {

// Reads the segments of one WAL index as one stream, checking that each
// segment starts where the previous one ended.
class IndexStream {
 public:
  IndexStream(storage::ReplicaClient& replica, std::string where,
              const std::vector<const WalSegmentInfo*>& segments)
      : replica_(replica), where_(std::move(where)), segments_(segments) {}

  // Reads exactly buf.size() bytes; returns false at a clean end of the
  // index (no bytes) and sets *partial when the index ended mid-buffer.
  Result<bool> ReadFull(std::span<uint8_t> buf, bool* partial) {
    size_t got = 0;
    *partial = false;
    while (got < buf.size()) {
      if (!reader_) {
        if (next_ >= segments_.size()) {
          *partial = got > 0;
          return false;
        }
        const WalSegmentInfo& s = *segments_[next_];
        if (s.offset != position_) {
          return base::CorruptError(
              "missing WAL segment " +
              WalSegmentKey(s.generation, s.index, position_) + " in " +
              where_ + ": the segments of index " + Hex8(s.index) +
              " end at offset " + std::to_string(position_) +
              " but the next one, " + s.key + ", starts at " +
              std::to_string(s.offset));
        }
        auto opened = replica_.OpenObject(s.key);
        if (!opened.ok()) {
          return opened.status().WithContext("open " + s.key + " in " + where_);
        }
        raw_ = std::move(opened).value();
        current_name_ = s.key + " in " + where_;
        reader_ = std::make_unique<Lz4FrameReader>(raw_.get(), current_name_);
        ++next_;
        ++objects_;
      }
      LK_ASSIGN_OR_RETURN(size_t n, reader_->Read(buf.subspan(got)));
      if (n == 0) {
        bytes_read_ += reader_->compressed_bytes();
        reader_.reset();
        raw_.reset();
        continue;
      }
      got += n;
      position_ += static_cast<int64_t>(n);
    }
    return true;
  }

  // The object the last bytes came from.
  const std::string& current_name() const { return current_name_; }
  int64_t position() const { return position_; }
  int64_t bytes_read() const { return bytes_read_; }
  size_t objects() const { return objects_; }

 private:
  storage::ReplicaClient& replica_;
  std::string where_;
  std::vector<const WalSegmentInfo*> segments_;
  size_t next_ = 0;
  int64_t position_ = 0;  // uncompressed offset in the WAL index
  std::unique_ptr<base::Reader> raw_;
  std::unique_ptr<Lz4FrameReader> reader_;
  std::string current_name_;
  int64_t bytes_read_ = 0;
  size_t objects_ = 0;
};

}  // namespace

Result<RestoreResult> Restore(storage::ReplicaClient& replica, const Plan& plan,
                              const RestoreOptions& options) {
  const std::string& out_path = options.output;
  const std::string where = replica.Describe();
  // Temporaries live in a private directory beside the output (removed
  // with everything in it on every path out).
  LK_ASSIGN_OR_RETURN(ScratchDir dir, PrepareOutput(out_path, options.force));
  const std::string tmp_path = dir.path() + "/db";

  RestoreResult result;
  result.generation = plan.generation;
  result.index = plan.snapshot.index;
  LK_ASSIGN_OR_RETURN(base::File out, dir.CreateFile("db", O_RDWR));

  // 1. The snapshot: the whole database in one LZ4 stream.
  {
    const std::string name = plan.snapshot.key + " in " + where;
    auto opened = replica.OpenObject(plan.snapshot.key);
    if (!opened.ok())
      return opened.status().WithContext("open snapshot " + name);
    std::unique_ptr<base::Reader> raw = std::move(opened).value();
    Lz4FrameReader lz(raw.get(), name);
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
      LK_ASSIGN_OR_RETURN(size_t n, lz.Read(buf));
      if (n == 0) break;
      LK_RETURN_IF_ERROR(out.WriteAll(buf.data(), n));
    }
    result.bytes_read += lz.compressed_bytes();
    ++result.objects;
    auto header = sqlite::ReadDbHeader(out);
    if (!header.ok()) {
      return base::CorruptError(
          "snapshot " + name +
          " does not hold a SQLite database: " + header.status().message());
    }
    result.page_size = header->page_size;
    LK_ASSIGN_OR_RETURN(int64_t size, out.Size());
    if (header->page_size == 0 || size % header->page_size != 0) {
      return base::CorruptError(
          "snapshot " + name + " is " + std::to_string(size) +
          " bytes, not a whole number of " + std::to_string(header->page_size) +
          "-byte pages");
    }
    result.pages = static_cast<uint32_t>(size / header->page_size);
  }

  // 2. WAL indexes in order.
  std::vector<std::vector<const WalSegmentInfo*>> indexes;
  for (const auto& s : plan.segments) {
    if (indexes.empty() || indexes.back().front()->index != s.index) {
      indexes.emplace_back();
    }
    indexes.back().push_back(&s);
  }
  LK_ASSIGN_OR_RETURN(base::File scratch, dir.CreateFile("txn", O_RDWR));
  std::vector<uint8_t> frame;
  for (const auto& segs : indexes) {
    const uint32_t index = segs.front()->index;
    IndexStream stream(replica, where, segs);
    uint8_t hdr_buf[sqlite::kWalHeaderSize];
    bool partial = false;
    LK_ASSIGN_OR_RETURN(bool have, stream.ReadFull(hdr_buf, &partial));
    if (!have) {
      return base::CorruptError(stream.current_name() + ": WAL index " +
                                Hex8(index) + " is shorter than a WAL header");
    }
    auto hdr = sqlite::WalHeader::Decode(hdr_buf);
    if (!hdr.ok()) {
      return base::CorruptError(stream.current_name() + ": bad WAL header (" +
                                hdr.status().message() + ")");
    }
    if (hdr->page_size != result.page_size) {
      return base::CorruptError(stream.current_name() + ": WAL page size " +
                                std::to_string(hdr->page_size) +
                                " differs from the database's " +
                                std::to_string(result.page_size));
    }
    const size_t frame_size = sqlite::kWalFrameHeaderSize + hdr->page_size;
    frame.resize(frame_size);
    sqlite::WalChecksum ck = hdr->checksum;
    // The transaction being read: page -> its newest frame in the scratch file.
    std::map<Pgno, int64_t> pending;
    int64_t scratch_end = 0;
    result.index = index;
    result.offset = static_cast<int64_t>(sqlite::kWalHeaderSize);
    for (;;) {
      const int64_t frame_offset = stream.position();
      LK_ASSIGN_OR_RETURN(bool more, stream.ReadFull(frame, &partial));
      if (!more) break;
      sqlite::WalFrameHeader fh = sqlite::WalFrameHeader::Decode(frame.data());
      if (fh.salt1 != hdr->salt1 || fh.salt2 != hdr->salt2) {
        return base::CorruptError(
            stream.current_name() + ": WAL frame at offset " +
            std::to_string(frame_offset) + " of index " + Hex8(index) +
            " has salts that do not match its WAL header");
      }
      sqlite::WalChecksum next =
          sqlite::ComputeWalChecksum(hdr->big_endian(), {frame.data(), 8}, ck);
      next = sqlite::ComputeWalChecksum(
          hdr->big_endian(),
          {frame.data() + sqlite::kWalFrameHeaderSize, hdr->page_size}, next);
      if (!(next == fh.checksum)) {
        return base::CorruptError(
            stream.current_name() + ": WAL frame checksum mismatch at offset " +
            std::to_string(frame_offset) + " of index " + Hex8(index) +
            " (page " + std::to_string(fh.pgno) + ")");
      }
      if (fh.pgno == 0) {
        return base::CorruptError(stream.current_name() +
                                  ": WAL frame with page number 0 at offset " +
                                  std::to_string(frame_offset));
      }
      ck = next;
      LK_RETURN_IF_ERROR(
          scratch.WriteAt(frame.data() + sqlite::kWalFrameHeaderSize,
                          hdr->page_size, scratch_end));
      pending[fh.pgno] = scratch_end;
      scratch_end += hdr->page_size;
      if (fh.commit == 0) continue;
      // A complete transaction: apply it.
      std::vector<uint8_t>& page = frame;  // reuse the frame buffer
      for (const auto& [pgno, off] : pending) {
        if (pgno > fh.commit) continue;  // beyond the new end of the file
        LK_RETURN_IF_ERROR(
            scratch.ReadFullAt(page.data(), hdr->page_size, off));
        LK_RETURN_IF_ERROR(
            out.WriteAt(page.data(), hdr->page_size,
                        static_cast<int64_t>(pgno - 1) * hdr->page_size));
      }
      LK_RETURN_IF_ERROR(
          out.Truncate(static_cast<int64_t>(fh.commit) * hdr->page_size));
      pending.clear();
      scratch_end = 0;
      result.pages = fh.commit;
      result.offset = stream.position();
      ++result.transactions;
    }
    // Frames after the last commit frame (an unfinished transaction, or a
    // trailing partial frame) are ignored, as SQLite ignores them.
    result.bytes_read += stream.bytes_read();
    result.objects += stream.objects();
  }
  LK_RETURN_IF_ERROR(scratch.Close());
  LK_RETURN_IF_ERROR(out.Sync());
  LK_RETURN_IF_ERROR(out.Close());
  LK_RETURN_IF_ERROR(
      FinalizeOutput(tmp_path, out_path, options.integrity, options.force));
  return result;
}

}  // namespace litekeep::restore::legacy
