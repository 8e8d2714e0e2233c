// Reading objects: the shared RangedReader (storage/ranged_reader.h) with
// GCS's media GET (alt=media, Range), pinned to the first answer's
// generation (x-goog-generation, ifGenerationMatch) when resuming.
#include "storage/gcs/client_impl.h"
#include "storage/layout.h"
#include "storage/ranged_reader.h"

namespace litekeep::storage::gcs {

Result<std::unique_ptr<base::Reader>> GcsClient::OpenName(std::string name,
                                                          int64_t offset,
                                                          int64_t length) {
  RangedReader::Hooks hooks;
  hooks.where = Where(name);
  hooks.pin_header = "x-goog-generation";
  hooks.open = [this, name](const std::string& range, const std::string& pin) {
    Request r;
    r.kind = Kind::kGet;
    r.path = ObjectPath(name);
    r.object = name;
    r.query = {{"alt", "media"}};
    // A resumed read must continue the same object, not a replacement.
    if (!pin.empty()) r.query.emplace_back("ifGenerationMatch", pin);
    if (!range.empty()) r.headers.emplace_back("Range", range);
    return OpenOnce(r);
  };
  hooks.error = [this, name](const HttpResponse& resp) {
    return ResponseError(resp, "get", name);
  };
  return RangedReader::Open(std::move(hooks), opts_.retry, offset, length);
}

Result<std::unique_ptr<base::Reader>> GcsClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  return OpenName(ObjectName(level, min_txid, max_txid), offset, length);
}

Result<std::unique_ptr<base::Reader>> GcsClient::OpenObject(
    const std::string& key) {
  return OpenName(opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
}

}  // namespace litekeep::storage::gcs
