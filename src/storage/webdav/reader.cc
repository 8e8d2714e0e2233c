// Reading files: the shared RangedReader (storage/ranged_reader.h) with a
// plain GET and Range, pinned to the first answer's ETag (If-Match) when
// resuming, where the server gives one.
#include "storage/layout.h"
#include "storage/ranged_reader.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {

Result<std::unique_ptr<base::Reader>> WebdavClient::OpenPath(std::string path,
                                                             int64_t offset,
                                                             int64_t length) {
  RangedReader::Hooks hooks;
  hooks.where = Where(path);
  hooks.open = [this, path](const std::string& range, const std::string& pin) {
    Request r;
    r.kind = Kind::kGet;
    r.path = path;
    if (!range.empty()) r.headers.emplace_back("Range", range);
    // A resumed read must continue the same file, not a replacement.
    if (!pin.empty()) r.headers.emplace_back("If-Match", pin);
    return OpenOnce(r);
  };
  hooks.error = [this, path](const HttpResponse& resp) {
    return ResponseError(resp, "get", path);
  };
  return RangedReader::Open(std::move(hooks), opts_.retry, offset, length);
}

Result<std::unique_ptr<base::Reader>> WebdavClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  return OpenPath(LtxFilePath(opts_.path, level, min_txid, max_txid), offset,
                  length);
}

Result<std::unique_ptr<base::Reader>> WebdavClient::OpenObject(
    const std::string& key) {
  return OpenPath(Join(key), 0, -1);
}

}  // namespace litekeep::storage::webdav
