// Azure listings: List Blobs pages with metadata (and a guard against
// stores that loop), LTX files of a level with their stored creation
// times, and generic objects under the replica path.
#include <algorithm>
#include <set>

#include "base/rfc3339.h"
#include "storage/abs/client_impl.h"
#include "storage/layout.h"
#include "storage/xml.h"

namespace litekeep::storage::abs {

Result<std::vector<Listed>> AbsClient::ListBlobs(const std::string& prefix) {
  std::vector<Listed> out;
  std::string marker;
  std::set<std::string> seen_markers;
  for (int page = 0;; ++page) {
    if (page >= std::max(1, opts_.max_list_pages)) {
      return base::UnavailableError(
          "list " + Where(prefix) + ": more than " +
          std::to_string(opts_.max_list_pages) +
          " pages; the store keeps answering with a NextMarker");
    }
    Request r;
    r.kind = Kind::kList;
    r.query = {
        {"restype", "container"}, {"comp", "list"}, {"include", "metadata"}};
    r.prefix = prefix;
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!marker.empty()) r.query.emplace_back("marker", marker);
    if (opts_.list_page_size > 0) {
      r.query.emplace_back("maxresults", std::to_string(opts_.list_page_size));
    }
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "list"));
    if (resp.status != 200) return ResponseError(resp, "list", prefix);
    for (std::string_view b : XmlBlocks(resp.body, "Blob")) {
      Listed l;
      l.name = XmlText(b, "Name");
      l.size = std::strtoll(XmlText(b, "Content-Length").c_str(), nullptr, 10);
      l.modified =
          ParseRfc1123(XmlText(b, "Last-Modified")).value_or(TimePoint{});
      l.etag = XmlText(b, "Etag");
      std::string meta = XmlText(b, std::string(kTimestampMetadata));
      if (auto t = base::ParseRfc3339(meta); t.ok()) l.created = *t;
      out.push_back(std::move(l));
    }
    marker = XmlText(resp.body, "NextMarker");
    if (marker.empty()) break;
    if (!seen_markers.insert(marker).second) {
      return base::UnavailableError(
          "list " + Where(prefix) + ": the store repeated marker \"" + marker +
          "\" after " + std::to_string(page + 1) +
          " pages; refusing to loop (a store bug: check the endpoint)");
    }
  }
  return out;
}

std::string AbsClient::BlobName(int level, TxId min_txid, TxId max_txid) const {
  return LtxFilePath(opts_.path, level, min_txid, max_txid);
}

Result<std::vector<FileInfo>> AbsClient::ListFiles(int level) {
  const std::string prefix = LtxLevelDir(opts_.path, level) + "/";
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListBlobs(prefix));
  return LevelFiles(listed, prefix, level);
}

// Generic objects: names relative to the replica path ("" = container).
Result<std::vector<ObjectInfo>> AbsClient::ListObjects(
    const std::string& prefix) {
  const std::string base = opts_.path.empty() ? "" : opts_.path + "/";
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListBlobs(base + prefix));
  return RelativeObjects(listed, base);
}

}  // namespace litekeep::storage::abs
