// RangedReader: the one object body reader of the HTTP backends (S3, Azure
// Blob, GCS). It streams a GET for a byte range, and after a transient
// failure (reset, stall, 5xx, short body) resumes with a ranged GET from the
// next byte, pinned to the first answer's version (ETag / generation) so a
// replaced object is never spliced, under one retry budget per reader. A 416
// answer is the end of the object; every byte a response announced must
// arrive. Each backend supplies the hook that builds and sends one GET.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/io.h"
#include "base/status.h"
#include "storage/http.h"
#include "storage/retry.h"

namespace litekeep::storage {

class RangedReader : public base::Reader {
 public:
  struct Hooks {
    // Sends one (counted) GET attempt. `range` is the Range value
    // ("bytes=A-" or "bytes=A-B"), or "" for the whole object; `pin` is the
    // version the first answer gave ("" on the first attempt), which the
    // request must make a precondition (If-Match, ifGenerationMatch).
    std::function<Result<std::unique_ptr<HttpStream>>(const std::string& range,
                                                      const std::string& pin)>
        open;
    // The Status for an error answer (any status but 200, 206, 416); the
    // response carries its body.
    std::function<Status(const HttpResponse& response)> error;
    // The response header (lower-case) holding the version to pin.
    std::string pin_header = "etag";
    // The object, for messages ("s3://bucket/key").
    std::string where;
  };

  // Reads length bytes from offset (length < 0: to the end).
  RangedReader(Hooks hooks, const RetryPolicy& retry, int64_t offset,
               int64_t length);
  // Sends the first request (errors such as kNotFound surface here).
  Status Start();
  Result<size_t> Read(std::span<uint8_t> buf) override;

  // Opens a reader and sends its first request.
  static Result<std::unique_ptr<base::Reader>> Open(Hooks hooks,
                                                    const RetryPolicy& retry,
                                                    int64_t offset,
                                                    int64_t length);

 private:
  Status OpenStream();
  // Records a transient failure; false when the budget is spent.
  bool Failed(const Status& s);
  Status GiveUp() const;

  Hooks hooks_;
  int64_t offset_;     // next absolute byte
  int64_t remaining_;  // bytes still wanted; -1 = to the end
  std::string pin_;
  std::unique_ptr<HttpStream> stream_;
  int64_t stream_expected_ = -1;  // bytes the current response announced
  int64_t stream_got_ = 0;
  int64_t skip_ = 0;  // bytes to drop (the store ignored the Range header)
  bool eof_ = false;
  // Shared by Start and every Read: progress does not renew it.
  RetryBudget budget_;
};

}  // namespace litekeep::storage
