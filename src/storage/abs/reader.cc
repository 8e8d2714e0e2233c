// Reading blobs: a ranged GET stream (x-ms-range) that resumes after
// transient failures under one retry budget per reader, pinned to the
// first answer's ETag, and checks that every announced byte arrived.
#include <algorithm>

#include "storage/abs/client_impl.h"

namespace litekeep::storage::abs {

BlobReader::BlobReader(AbsClient* client, std::string blob, int64_t offset,
                       int64_t length)
    : client_(client),
      blob_(std::move(blob)),
      offset_(offset),
      remaining_(length),
      budget_(client->retry(), /*clock_from_first_failure=*/true) {}

Status BlobReader::OpenStream() {
  AbsClient::Request r;
  r.kind = Kind::kGet;
  r.blob = blob_;
  if (offset_ > 0 || remaining_ >= 0) {
    std::string range = "bytes=" + std::to_string(offset_) + "-";
    if (remaining_ >= 0) range += std::to_string(offset_ + remaining_ - 1);
    r.headers.emplace_back("x-ms-range", range);
  }
  // A resumed read must continue the same blob, not a replacement.
  if (!etag_.empty()) r.headers.emplace_back("If-Match", etag_);
  LK_ASSIGN_OR_RETURN(auto stream, client_->OpenOnce(r));
  const long status = stream->status();
  if (status == 416) {  // the range starts at or past the end
    eof_ = true;
    return Status::Ok();
  }
  if (status != 200 && status != 206) {
    HttpResponse resp = stream->head();
    auto body = stream->ReadAll();
    if (body.ok()) resp.body = std::move(*body);
    return client_->ResponseError(resp, "get", blob_);
  }
  if (status == 200 && offset_ > 0) {
    return base::CorruptError("get " + client_->Where(blob_) +
                              ": the store ignored the byte range");
  }
  if (etag_.empty()) etag_ = stream->head().Header("etag").value_or("");
  stream_expected_ = -1;
  if (auto len = stream->head().Header("content-length")) {
    stream_expected_ = std::strtoll(len->c_str(), nullptr, 10);
  }
  stream_got_ = 0;
  stream_ = std::move(stream);
  return Status::Ok();
}

Status BlobReader::Start() {
  if (remaining_ == 0) {
    eof_ = true;
    return Status::Ok();
  }
  for (;;) {
    Status s = OpenStream();
    if (s.ok() || !RetryPolicy::Retryable(s)) return s;
    if (!budget_.RetryAfterFailure(s)) {
      return budget_.GiveUp("get " + client_->Where(blob_));
    }
  }
}

Result<size_t> BlobReader::Read(std::span<uint8_t> buf) {
  auto give_up = [&] { return budget_.GiveUp("get " + client_->Where(blob_)); };
  while (!eof_) {
    if (remaining_ == 0) {
      eof_ = true;
      break;
    }
    if (!stream_) {
      Status s = OpenStream();
      if (!s.ok()) {
        if (!RetryPolicy::Retryable(s) || !budget_.RetryAfterFailure(s)) {
          return RetryPolicy::Retryable(s) ? give_up() : s;
        }
        continue;
      }
      if (eof_) break;
    }
    std::span<uint8_t> want = buf;
    if (remaining_ >= 0 && static_cast<int64_t>(want.size()) > remaining_) {
      want = want.first(static_cast<size_t>(remaining_));
    }
    auto n = stream_->Read(want);
    Status failure;
    if (!n.ok()) {
      failure = n.status();
    } else if (*n == 0 && stream_expected_ >= 0 &&
               stream_got_ < stream_expected_) {
      failure = base::UnavailableError(
          "get " + client_->Where(blob_) + ": truncated body (" +
          std::to_string(stream_got_) + " of " +
          std::to_string(stream_expected_) + " bytes)");
    }
    if (!failure.ok()) {
      stream_.reset();
      if (!RetryPolicy::Retryable(failure)) return failure;
      if (!budget_.RetryAfterFailure(failure)) return give_up();
      continue;
    }
    if (*n == 0) {
      stream_.reset();
      eof_ = true;
      break;
    }
    stream_got_ += static_cast<int64_t>(*n);
    offset_ += static_cast<int64_t>(*n);
    if (remaining_ > 0) remaining_ -= static_cast<int64_t>(*n);
    return *n;
  }
  return size_t{0};
}

Result<std::unique_ptr<base::Reader>> AbsClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  auto reader = std::make_unique<BlobReader>(
      this, BlobName(level, min_txid, max_txid), std::max<int64_t>(offset, 0),
      length < 0 ? -1 : length);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

Result<std::unique_ptr<base::Reader>> AbsClient::OpenObject(
    const std::string& key) {
  auto reader = std::make_unique<BlobReader>(
      this, opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

}  // namespace litekeep::storage::abs
