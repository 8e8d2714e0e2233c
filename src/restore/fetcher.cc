// Parallel ranged downloads for restore: a pool of threads takes the next
// range of the next few files, writes it at its offset in the file's
// scratch copy, and wakes the reader waiting for it.
#include "restore/fetcher.h"

#include <algorithm>

#include "ltx/format.h"
#include "restore/executor.h"

namespace litekeep::restore {
namespace {

// The largest an LTX file with this header can be: every page of the
// database, each stored uncompressed with the largest frame and index
// overhead either page encoding has (docs/format.md §3-5).
uint64_t MaxLtxSize(const ltx::Header& h) {
  const uint64_t per_page =
      ltx::kPageHeaderSize + 4 + h.page_size + h.page_size / 255 + 64 + 30;
  return ltx::kHeaderSize + uint64_t{h.commit} * per_page +
         ltx::kPageHeaderSize + 8 + ltx::kTrailerSize;
}

// Refuses a listed size far beyond what the file's header allows (it would
// fill the disk); an invalid header is the decoder's to report, naming the
// rule.
Status CheckListedSize(const base::File& out, int64_t listed) {
  uint8_t head[ltx::kHeaderSize];
  LK_RETURN_IF_ERROR(out.ReadFullAt(head, sizeof(head), 0));
  auto h = ltx::Header::Decode({head, sizeof(head)});
  if (h.ok() && h->Validate().ok() &&
      static_cast<uint64_t>(listed) > MaxLtxSize(*h)) {
    return base::CorruptError(
        "listed size " + std::to_string(listed) + " bytes exceeds the " +
        std::to_string(MaxLtxSize(*h)) + " bytes an LTX file of " +
        std::to_string(h->commit) + " pages of " +
        std::to_string(h->page_size) + " bytes can take");
  }
  return Status::Ok();
}

}  // namespace

struct Fetcher::FileState {
  std::shared_ptr<base::File> file;  // the scratch copy; null until started
  size_t ranges = 0;
  size_t next = 0;         // next range to start
  std::vector<char> done;  // per range
  // The failed range with the lowest index (ranges.size() if none) and its
  // error: a reader sees it on reaching that range, so an early range's
  // error wins over a later one's, whichever finished first.
  size_t error_range = 0;
  Status error;
};

// Reads file i's scratch copy up to the ranges that have landed.
class Fetcher::StreamReader : public base::Reader {
 public:
  StreamReader(Fetcher* f, size_t i) : f_(f), i_(i) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    const int64_t size = f_->files_[i_].size;
    if (pos_ >= size || buf.empty()) return size_t{0};
    const int64_t rb = f_->options_.range_bytes;
    const size_t range = static_cast<size_t>(pos_ / rb);
    std::shared_ptr<base::File> file;
    {
      std::unique_lock<std::mutex> l(f_->mu_);
      FileState& st = *f_->state_[i_];
      auto failed = [&] { return !st.error.ok() && st.error_range <= range; };
      f_->landed_.wait(l,
                       [&] { return f_->stop_ || failed() || st.done[range]; });
      if (failed()) return st.error;
      if (!st.done[range]) return base::CancelledError("restore cancelled");
      file = st.file;
    }
    const int64_t end = std::min(size, static_cast<int64_t>(range + 1) * rb);
    const size_t n = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(buf.size()), end - pos_));
    LK_RETURN_IF_ERROR(file->ReadFullAt(buf.data(), n, pos_));
    pos_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  Fetcher* f_;
  size_t i_;
  int64_t pos_ = 0;
};

Fetcher::Fetcher(storage::ReplicaClient& replica,
                 const std::vector<storage::FileInfo>& files,
                 ScratchDir* scratch, FetchOptions options)
    : replica_(replica), files_(files), scratch_(scratch), options_(options) {
  options_.parallelism = std::max(1, options_.parallelism);
  options_.range_bytes = std::max<int64_t>(options_.range_bytes, 1 << 16);
  options_.files_ahead = std::max<size_t>(options_.files_ahead, 1);
  for (const auto& f : files_) {
    auto st = std::make_unique<FileState>();
    const int64_t size = std::max<int64_t>(f.size, 0);
    st->ranges =
        size == 0 ? 1
                  : static_cast<size_t>((size - 1) / options_.range_bytes + 1);
    st->done.assign(st->ranges, 0);
    st->error_range = st->ranges;
    if (f.size < 0) {
      st->error_range = 0;
      st->error = base::CorruptError("listed size " + std::to_string(f.size) +
                                     " is not a byte count");
    }
    state_.push_back(std::move(st));
  }
  for (int t = 0; t < options_.parallelism; ++t) {
    threads_.emplace_back([this] { Work(); });
  }
}

Fetcher::~Fetcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  work_.notify_all();
  landed_.notify_all();
  for (auto& t : threads_) t.join();
}

std::unique_ptr<base::Reader> Fetcher::Open(size_t i) {
  return std::make_unique<StreamReader>(this, i);
}

Status Fetcher::Error(size_t i) {
  std::lock_guard<std::mutex> l(mu_);
  return state_[i]->error;  // the lowest failed range's
}

void Fetcher::Release(size_t i) {
  {
    std::lock_guard<std::mutex> l(mu_);
    state_[i]->file.reset();  // closed once no download holds it
    first_ = std::max(first_, i + 1);
  }
  work_.notify_all();
}

void Fetcher::Work() {
  // The HTTP stream already buffers up to 1 MiB ahead of this copy.
  std::vector<uint8_t> buf(256 << 10);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (stop_) return;
    // The first range not yet started, in plan order, within the window.
    size_t file = state_.size(), range = 0;
    const size_t last = std::min(state_.size(), first_ + options_.files_ahead);
    for (size_t i = first_; i < last; ++i) {
      FileState& st = *state_[i];
      if (!st.error.ok() || st.next >= st.ranges) continue;
      if (!st.file) {
        auto created = scratch_->CreateAnonymous("dl-" + std::to_string(i));
        if (!created.ok()) {
          st.error = created.status();
          st.error_range = 0;
          landed_.notify_all();
          continue;
        }
        st.file = std::make_shared<base::File>(std::move(*created));
      }
      file = i;
      range = st.next++;
      break;
    }
    if (file == state_.size()) {
      work_.wait(l);
      continue;
    }
    std::shared_ptr<base::File> out = state_[file]->file;
    l.unlock();
    Status s = FetchRange(file, range, *out, buf);
    out.reset();
    l.lock();
    FileState& st = *state_[file];
    if (!s.ok()) {
      if (st.error.ok() || range < st.error_range) {
        st.error = s;
        st.error_range = range;
      }
    } else {
      st.done[range] = 1;
    }
    landed_.notify_all();
  }
}

Status Fetcher::FetchRange(size_t i, size_t range, base::File& out,
                           std::vector<uint8_t>& buf) {
  const storage::FileInfo& f = files_[i];
  const int64_t rb = options_.range_bytes;
  const int64_t offset = static_cast<int64_t>(range) * rb;
  const int64_t want = std::min<int64_t>(rb, f.size - offset);
  const bool last = range + 1 == state_[i]->ranges;
  // The last range is read to the end of the object, so a body longer than
  // listed shows; the object reader resumes a broken transfer at the byte
  // where it stopped (docs/reliability.md).
  LK_ASSIGN_OR_RETURN(auto in,
                      replica_.OpenFile(f.level, f.min_txid, f.max_txid, offset,
                                        last ? -1 : want));
  int64_t got = 0;
  for (;;) {
    const size_t cap = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(buf.size()), want - got + 1));
    LK_ASSIGN_OR_RETURN(size_t n,
                        in->Read(std::span<uint8_t>(buf.data(), cap)));
    if (n == 0) break;
    if (got + static_cast<int64_t>(n) > want) {
      return base::CorruptError("the store sent more than the listed " +
                                std::to_string(f.size) +
                                " bytes; refusing to read further");
    }
    LK_RETURN_IF_ERROR(out.WriteAt(buf.data(), n, offset + got));
    const bool header_landed =
        range == 0 && got < static_cast<int64_t>(ltx::kHeaderSize) &&
        got + static_cast<int64_t>(n) >= static_cast<int64_t>(ltx::kHeaderSize);
    got += static_cast<int64_t>(n);
    if (header_landed) LK_RETURN_IF_ERROR(CheckListedSize(out, f.size));
    if (stop_) return base::CancelledError("restore cancelled");
  }
  if (got < want) {
    return base::CorruptError("the store sent " + std::to_string(offset + got) +
                              " of the listed " + std::to_string(f.size) +
                              " bytes");
  }
  return Status::Ok();
}

}  // namespace litekeep::restore
