// GCS listings: objects.list pages (and a guard against stores that loop),
// LTX files of a level with their stored creation times, and generic
// objects under the replica path.
#include <algorithm>
#include <set>

#include "storage/gcs/client_impl.h"
#include "storage/hash.h"
#include "storage/layout.h"

namespace litekeep::storage::gcs {

Result<std::vector<Listed>> GcsClient::ListNames(const std::string& prefix) {
  std::vector<Listed> out;
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
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListNames(prefix));
  std::vector<FileInfo> files;
  for (const auto& l : listed) {
    if (l.name.size() <= prefix.size() ||
        l.name.compare(0, prefix.size(), prefix) != 0 ||
        l.name.find('/', prefix.size()) != std::string::npos) {
      continue;
    }
    auto range =
        ltx::ParseFileName(std::string_view(l.name).substr(prefix.size()));
    if (!range) continue;
    FileInfo f;
    f.level = level;
    f.min_txid = range->min_txid;
    f.max_txid = range->max_txid;
    f.size = l.size;
    f.created = l.created.value_or(l.updated);
    files.push_back(f);
  }
  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) {
              return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                              : a.max_txid < b.max_txid;
            });
  return files;
}

// Generic objects: names relative to the replica path ("" = bucket).
Result<std::vector<ObjectInfo>> GcsClient::ListObjects(
    const std::string& prefix) {
  const std::string base = opts_.path.empty() ? "" : opts_.path + "/";
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListNames(base + prefix));
  std::vector<ObjectInfo> out;
  out.reserve(listed.size());
  for (auto& l : listed) {
    if (l.name.compare(0, base.size(), base) != 0) continue;
    ObjectInfo info;
    info.key = l.name.substr(base.size());
    info.size = l.size;
    info.modified = l.updated;
    info.etag = l.etag;
    out.push_back(std::move(info));
  }
  std::sort(
      out.begin(), out.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

}  // namespace litekeep::storage::gcs
