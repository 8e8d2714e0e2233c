// Page frames of an LTX file, in memory up to a limit and then in a private
// unlinked temporary file.
#include "ltx/frame_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace litekeep::ltx {
namespace {

// Frames per read of the temporary file (64 KiB).
constexpr size_t kReadFrames = 8192;

// A private file without a name in $TMPDIR or /tmp: O_TMPFILE (0600, no
// name anyone could open), or where the file system lacks it a mkostemp
// file (0600, O_EXCL, random name) unlinked at once.
Result<base::File> SpoolFile() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && *env ? env : "/tmp";
  int tmp = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (tmp >= 0) return base::File(tmp, dir + "/(litekeep page index spool)");
  std::string pattern = dir + "/litekeep-frames-XXXXXX";
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    return base::ErrnoError(
        "ltx page index spool: create a temporary file in " +
            pattern.substr(0, pattern.rfind('/')),
        errno);
  }
  ::unlink(pattern.c_str());
  return base::File(fd, pattern);
}

}  // namespace

FrameSpool::FrameSpool(size_t memory_frames)
    : memory_frames_(std::max<size_t>(memory_frames, 1)) {}

Status FrameSpool::Spill() {
  if (!file_.valid()) {
    LK_ASSIGN_OR_RETURN(file_, SpoolFile());
  }
  Status s = file_.WriteAll(mem_.data(), mem_.size() * sizeof(Frame))
                 .WithContext("ltx page index spool");
  if (!s.ok()) return s;
  spilled_ += mem_.size();
  mem_.clear();  // keeps its capacity: memory_frames_ frames at most
  return Status::Ok();
}

Status FrameSpool::Append(Frame frame) {
  if (!error_.ok()) return error_;
  if (mem_.size() >= memory_frames_) {
    error_ = Spill();
    if (!error_.ok()) return error_;
  }
  mem_.push_back(frame);
  return Status::Ok();
}

void FrameSpool::Rewind() {
  next_ = 0;
  read_buf_.clear();
  read_pos_ = 0;
}

Result<bool> FrameSpool::Next(Frame* frame) {
  if (!error_.ok()) return error_;
  if (next_ >= size()) return false;
  if (next_ >= spilled_) {
    *frame = mem_[next_ - spilled_];
    ++next_;
    return true;
  }
  if (read_pos_ == read_buf_.size()) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kReadFrames, spilled_ - next_));
    read_buf_.resize(n);
    Status s = file_.ReadFullAt(read_buf_.data(), n * sizeof(Frame),
                                static_cast<int64_t>(next_ * sizeof(Frame)));
    if (!s.ok()) {
      error_ = s.WithContext("ltx page index spool");
      return error_;
    }
    read_pos_ = 0;
  }
  *frame = read_buf_[read_pos_++];
  ++next_;
  return true;
}

void FrameSpool::Clear() {
  mem_ = {};
  read_buf_ = {};
  read_pos_ = 0;
  spilled_ = 0;
  next_ = 0;
  file_ = base::File();
  error_ = Status::Ok();
}

}  // namespace litekeep::ltx
