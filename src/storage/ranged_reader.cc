// The resumable ranged GET reader shared by the HTTP backends.
#include "storage/ranged_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace litekeep::storage {

RangedReader::RangedReader(Hooks hooks, const RetryPolicy& retry,
                           int64_t offset, int64_t length)
    : hooks_(std::move(hooks)),
      offset_(std::max<int64_t>(offset, 0)),
      remaining_(length < 0 ? -1 : length),
      budget_(retry, /*clock_from_first_failure=*/true) {}

Result<std::unique_ptr<base::Reader>> RangedReader::Open(
    Hooks hooks, const RetryPolicy& retry, int64_t offset, int64_t length) {
  auto reader =
      std::make_unique<RangedReader>(std::move(hooks), retry, offset, length);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

Status RangedReader::GiveUp() const {
  return budget_.GiveUp("get " + hooks_.where);
}

bool RangedReader::Failed(const Status& s) {
  stream_.reset();
  return budget_.RetryAfterFailure(s);
}

Status RangedReader::OpenStream() {
  std::string range;
  if (offset_ > 0 || remaining_ >= 0) {
    range = "bytes=" + std::to_string(offset_) + "-";
    if (remaining_ >= 0) range += std::to_string(offset_ + remaining_ - 1);
  }
  LK_ASSIGN_OR_RETURN(auto stream, hooks_.open(range, pin_));
  const long status = stream->status();
  if (status == 416) {  // the range starts at or past the end
    eof_ = true;
    return Status::Ok();
  }
  if (status != 200 && status != 206) {
    HttpResponse resp = stream->head();
    auto body = stream->ReadAll();
    if (body.ok()) resp.body = std::move(*body);
    return hooks_.error(resp);
  }
  if (pin_.empty())
    pin_ = stream->head().Header(hooks_.pin_header).value_or("");
  stream_expected_ = -1;
  if (auto len = stream->head().Header("content-length")) {
    stream_expected_ = std::strtoll(len->c_str(), nullptr, 10);
  }
  stream_got_ = 0;
  // A store that ignored Range sends the whole object from byte 0.
  skip_ = (status == 200 && offset_ > 0) ? offset_ : 0;
  if (status == 200 && remaining_ >= 0 && stream_expected_ >= 0) {
    stream_expected_ = std::min(stream_expected_, offset_ + remaining_);
  }
  stream_ = std::move(stream);
  return Status::Ok();
}

Status RangedReader::Start() {
  if (remaining_ == 0) {
    eof_ = true;
    return Status::Ok();
  }
  for (;;) {
    Status s = OpenStream();
    if (s.ok() || !RetryPolicy::Retryable(s)) return s;
    if (!budget_.RetryAfterFailure(s)) return GiveUp();
  }
}

Result<size_t> RangedReader::Read(std::span<uint8_t> buf) {
  while (!eof_) {
    if (remaining_ == 0) {
      eof_ = true;
      break;
    }
    if (!stream_) {
      Status s = OpenStream();
      if (!s.ok()) {
        if (!RetryPolicy::Retryable(s)) return s;
        if (!Failed(s)) return GiveUp();
        continue;
      }
      if (eof_) break;
    }
    std::span<uint8_t> want = buf;
    if (remaining_ >= 0 &&
        static_cast<int64_t>(want.size()) > remaining_ + skip_) {
      want = want.first(static_cast<size_t>(remaining_ + skip_));
    }
    auto n = stream_->Read(want);
    if (!n.ok()) {
      if (!RetryPolicy::Retryable(n.status())) return n.status();
      if (!Failed(n.status())) return GiveUp();
      continue;
    }
    if (*n == 0) {
      // End of this response: complete only if every announced byte came.
      if (stream_expected_ >= 0 && stream_got_ < stream_expected_) {
        Status truncated = base::UnavailableError(
            "get " + hooks_.where + ": truncated body (" +
            std::to_string(stream_got_) + " of " +
            std::to_string(stream_expected_) + " bytes)");
        if (!Failed(truncated)) return GiveUp();
        continue;
      }
      // A range past the end of the object reads what is there.
      stream_.reset();
      eof_ = true;
      break;
    }
    stream_got_ += static_cast<int64_t>(*n);
    size_t got = *n;
    if (skip_ > 0) {
      const size_t drop = static_cast<size_t>(
          std::min<int64_t>(skip_, static_cast<int64_t>(got)));
      skip_ -= static_cast<int64_t>(drop);
      if (drop == got) continue;
      std::memmove(buf.data(), buf.data() + drop, got - drop);
      got -= drop;
    }
    offset_ += static_cast<int64_t>(got);
    if (remaining_ > 0) remaining_ -= static_cast<int64_t>(got);
    return got;
  }
  return size_t{0};
}

}  // namespace litekeep::storage
