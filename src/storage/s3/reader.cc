// Reading S3 objects: a ranged GET stream that resumes after transient
// failures under one retry budget per reader, and checks that every
// announced byte arrived.
#include <cstring>

#include "storage/s3/client_impl.h"
#include "storage/s3/keys.h"

namespace litekeep::storage::s3 {

ObjectReader::ObjectReader(S3Client* client, std::string key, int64_t offset,
                           int64_t length)
    : client_(client),
      key_(std::move(key)),
      offset_(offset),
      remaining_(length),
      budget_(client->retry(), /*clock_from_first_failure=*/true) {}

Status ObjectReader::OpenStream() {
  S3Client::Request r;
  r.kind = Kind::kGet;
  r.key = key_;
  if (offset_ > 0 || remaining_ >= 0) {
    std::string range = "bytes=" + std::to_string(offset_) + "-";
    if (remaining_ >= 0) range += std::to_string(offset_ + remaining_ - 1);
    r.headers.emplace_back("Range", range);
  }
  if (!etag_.empty()) r.headers.emplace_back("If-Match", etag_);
  for (auto& kv : CustomerKeyHeaders(client_->options())) {
    r.headers.push_back(std::move(kv));
  }
  LK_ASSIGN_OR_RETURN(auto stream, client_->OpenOnce(r));
  const long status = stream->status();
  if (status == 416) {  // range starts at or past the end
    eof_ = true;
    return Status::Ok();
  }
  if (status != 200 && status != 206) {
    HttpResponse resp = stream->head();
    auto body = stream->ReadAll();
    if (body.ok()) resp.body = std::move(*body);
    return client_->ResponseError(resp, "get", key_);
  }
  if (etag_.empty()) etag_ = stream->head().Header("etag").value_or("");
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

Status ObjectReader::Start() {
  if (remaining_ == 0) {
    eof_ = true;
    return Status::Ok();
  }
  for (;;) {
    Status s = OpenStream();
    if (s.ok() || !RetryPolicy::Retryable(s)) return s;
    if (!budget_.RetryAfterFailure(s)) {
      return budget_.GiveUp("get " + client_->Where(key_));
    }
  }
}

Result<size_t> ObjectReader::Read(std::span<uint8_t> buf) {
  // Records a transient failure; false when the reader's budget is spent.
  auto failed = [&](const Status& s) {
    stream_.reset();
    return budget_.RetryAfterFailure(s);
  };
  while (!eof_) {
    if (remaining_ == 0) {
      eof_ = true;
      break;
    }
    if (!stream_) {
      Status s = OpenStream();
      if (!s.ok()) {
        if (!RetryPolicy::Retryable(s)) return s;
        if (!failed(s)) return budget_.GiveUp("get " + client_->Where(key_));
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
      if (!failed(n.status())) {
        return budget_.GiveUp("get " + client_->Where(key_));
      }
      continue;
    }
    if (*n == 0) {
      // End of this response: complete only if every announced byte came.
      if (stream_expected_ >= 0 && stream_got_ < stream_expected_) {
        Status truncated = base::UnavailableError(
            "get " + client_->Where(key_) + ": truncated body (" +
            std::to_string(stream_got_) + " of " +
            std::to_string(stream_expected_) + " bytes)");
        if (!failed(truncated)) {
          return budget_.GiveUp("get " + client_->Where(key_));
        }
        continue;
      }
      // A range past the end of the object reads what is there.
      stream_.reset();
      eof_ = true;
      break;
    }
    stream_got_ += static_cast<int64_t>(*n);
    size_t got = *n;
    size_t start = 0;
    if (skip_ > 0) {
      size_t drop = static_cast<size_t>(
          std::min<int64_t>(skip_, static_cast<int64_t>(got)));
      skip_ -= static_cast<int64_t>(drop);
      start = drop;
      if (start == got) continue;
      std::memmove(buf.data(), buf.data() + start, got - start);
      got -= start;
    }
    offset_ += static_cast<int64_t>(got);
    if (remaining_ > 0) remaining_ -= static_cast<int64_t>(got);
    return got;
  }
  return size_t{0};
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  auto reader = std::make_unique<ObjectReader>(
      this, ObjectKey(opts_.path, level, min_txid, max_txid),
      std::max<int64_t>(offset, 0), length < 0 ? -1 : length);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenObject(
    const std::string& key) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  auto reader = std::make_unique<ObjectReader>(
      this, opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

}  // namespace litekeep::storage::s3
