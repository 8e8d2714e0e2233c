// GCS listings: objects.list pages (and a guard against stores that loop),
// LTX files of a level with their stored creation times, and generic
// objects under the replica path.
#include <algorithm>
#include <set>

#include "storage/gcs/client_impl.h"
#include "storage/hash.h"
#include "storage/layout.h"

namespace litekeep::storage::gcs {

Result<std::vector<ListedObject>> GcsClient::ListNames(
    const std::string& prefix) {
  std::vector<ListedObject> out;
  std::string token;
  std::set<std::string> seen_tokens;
  for (int page = 0;; ++page) {
    if (page >= std::max(1, opts_.max_list_pages)) {
      return base::UnavailableError(
          "list " + Where(prefix) + ": more than " +
          std::to_string(opts_.max_list_pages) +
          " pages; the store keeps answering with a nextPageToken");
    }
    Request r;
    r.kind = Kind::kList;
    r.path = "/storage/v1/b/" + UriEncode(opts_.bucket, true) + "/o";
    r.object = prefix;
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!token.empty()) r.query.emplace_back("pageToken", token);
    if (opts_.list_page_size > 0) {
      r.query.emplace_back("maxResults", std::to_string(opts_.list_page_size));
    }
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "list"));
    if (resp.status != 200) return ResponseError(resp, "list", prefix);
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    if (!j.is_object()) {
      return base::UnavailableError("list " + Where(prefix) +
                                    ": the answer is not JSON");
    }
    if (auto items = j.find("items"); items != j.end() && items->is_array()) {
      for (const auto& o : *items) {
        if (o.is_object()) out.push_back(ParseObjectResource(o));
      }
    }
    auto next = j.find("nextPageToken");
    token =
        next != j.end() && next->is_string() ? next->get<std::string>() : "";
    if (token.empty()) break;
    if (!seen_tokens.insert(token).second) {
      return base::UnavailableError(
          "list " + Where(prefix) + ": the store repeated page token \"" +
          token + "\" after " + std::to_string(page + 1) +
          " pages; refusing to loop (a store bug: check the endpoint)");
    }
  }
  return out;
}

Result<std::vector<FileInfo>> GcsClient::ListFiles(int level) {
  const std::string prefix = LtxLevelDir(opts_.path, level) + "/";
  LK_ASSIGN_OR_RETURN(std::vector<ListedObject> listed, ListNames(prefix));
  return LevelFiles(listed, prefix, level);
}

// Generic objects: names relative to the replica path ("" = bucket).
Result<std::vector<ObjectInfo>> GcsClient::ListObjects(
    const std::string& prefix) {
  const std::string base = opts_.path.empty() ? "" : opts_.path + "/";
  LK_ASSIGN_OR_RETURN(std::vector<ListedObject> listed,
                      ListNames(base + prefix));
  return RelativeObjects(listed, base);
}

}  // namespace litekeep::storage::gcs
