// Reading blobs: the shared RangedReader (storage/ranged_reader.h) with
// Azure's GET (x-ms-range, If-Match).
#include "storage/abs/client_impl.h"
#include "storage/ranged_reader.h"

namespace litekeep::storage::abs {

Result<std::unique_ptr<base::Reader>> AbsClient::OpenBlob(std::string blob,
                                                          int64_t offset,
                                                          int64_t length) {
  RangedReader::Hooks hooks;
  hooks.where = Where(blob);
  hooks.open = [this, blob](const std::string& range, const std::string& pin) {
    Request r;
    r.kind = Kind::kGet;
    r.blob = blob;
    if (!range.empty()) r.headers.emplace_back("x-ms-range", range);
    // A resumed read must continue the same blob, not a replacement.
    if (!pin.empty()) r.headers.emplace_back("If-Match", pin);
    return OpenOnce(r);
  };
  hooks.error = [this, blob](const HttpResponse& resp) {
    return ResponseError(resp, "get", blob);
  };
  return RangedReader::Open(std::move(hooks), opts_.retry, offset, length);
}

Result<std::unique_ptr<base::Reader>> AbsClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  return OpenBlob(BlobName(level, min_txid, max_txid), offset, length);
}

Result<std::unique_ptr<base::Reader>> AbsClient::OpenObject(
    const std::string& key) {
  return OpenBlob(opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
}

}  // namespace litekeep::storage::abs
