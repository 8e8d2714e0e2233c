// Reading S3 objects: the shared RangedReader (storage/ranged_reader.h) with
// S3's GET (Range, If-Match, the SSE-C headers).
#include "storage/ranged_reader.h"
#include "storage/s3/client_impl.h"
#include "storage/s3/keys.h"

namespace litekeep::storage::s3 {

Result<std::unique_ptr<base::Reader>> S3Client::OpenKey(std::string key,
                                                        int64_t offset,
                                                        int64_t length) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  RangedReader::Hooks hooks;
  hooks.where = Where(key);
  hooks.open = [this, key](const std::string& range, const std::string& pin) {
    Request r;
    r.kind = Kind::kGet;
    r.key = key;
    if (!range.empty()) r.headers.emplace_back("Range", range);
    // A resumed read must continue the same object, not a replacement.
    if (!pin.empty()) r.headers.emplace_back("If-Match", pin);
    for (auto& kv : CustomerKeyHeaders(opts_)) {
      r.headers.push_back(std::move(kv));
    }
    return OpenOnce(r);
  };
  hooks.error = [this, key](const HttpResponse& resp) {
    return ResponseError(resp, "get", key);
  };
  return RangedReader::Open(std::move(hooks), opts_.retry, offset, length);
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  return OpenKey(ObjectKey(opts_.path, level, min_txid, max_txid), offset,
                 length);
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenObject(
    const std::string& key) {
  return OpenKey(opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
}

}  // namespace litekeep::storage::s3
