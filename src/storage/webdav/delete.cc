// Deleting: one DELETE per file (several at once); DeleteAll removes the
// replica's collection (a DELETE of a collection is recursive).
#include "base/parallel.h"
#include "storage/layout.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {

Status WebdavClient::DeletePath(const std::string& path, bool collection) {
  Request r;
  r.method = "DELETE";
  r.path = path;
  r.collection = collection;
  r.kind = Kind::kDel;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "delete"));
  if (resp.status == 404) return Status::Ok();  // already gone
  if (resp.status != 204 && resp.status != 200 && resp.status != 202) {
    return ResponseError(resp, "delete", path);
  }
  return Status::Ok();
}

Status WebdavClient::DeletePaths(const std::vector<std::string>& paths) {
  std::vector<Status> errors(paths.size());
  base::ParallelFor(paths.size(), opts_.concurrency,
                    [&](size_t i) { errors[i] = DeletePath(paths[i], false); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& p : paths) created_.erase(p);
  }
  for (const auto& e : errors) LK_RETURN_IF_ERROR(e);
  return Status::Ok();
}

Status WebdavClient::DeleteFiles(const std::vector<FileInfo>& files) {
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const auto& f : files) {
    paths.push_back(LtxFilePath(opts_.path, f.level, f.min_txid, f.max_txid));
  }
  return DeletePaths(paths);
}

Status WebdavClient::DeleteAll() {
  Status s;
  if (!opts_.path.empty()) {
    s = DeletePath(opts_.path, true);
  } else {
    // The server root itself stays: remove what is in it.
    bool missing = false;
    LK_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ReadDir("", &missing));
    std::vector<Status> errors(entries.size());
    base::ParallelFor(entries.size(), opts_.concurrency, [&](size_t i) {
      errors[i] = DeletePath(entries[i].name, entries[i].collection);
    });
    for (const auto& e : errors) {
      if (s.ok()) s = e;
    }
  }
  ForgetCollections(opts_.path, /*with_times=*/true);
  return s;
}

}  // namespace litekeep::storage::webdav
