// Deleting blobs: one Delete Blob per name (no batch API, so every store
// and SAS scope works), several at once; DeleteAll.
#include "base/parallel.h"
#include "storage/abs/client_impl.h"

namespace litekeep::storage::abs {

Status AbsClient::DeleteBlobs(const std::vector<std::string>& blobs) {
  std::vector<Status> errors(blobs.size());
  base::ParallelFor(blobs.size(), opts_.delete_concurrency, [&](size_t i) {
    Request r;
    r.method = "DELETE";
    r.kind = Kind::kDel;
    r.blob = blobs[i];
    r.headers = {{"x-ms-delete-snapshots", "include"}};
    auto resp = Execute(r, "delete");
    if (!resp.ok()) {
      errors[i] = resp.status();
    } else if (resp->status == 404 &&
               resp->Header("x-ms-error-code").value_or("") !=
                   "ContainerNotFound") {
      // Already gone.
    } else if (resp->status != 202 && resp->status != 200) {
      errors[i] = ResponseError(*resp, "delete", blobs[i]);
    }
  });
  for (const auto& e : errors) LK_RETURN_IF_ERROR(e);
  return Status::Ok();
}

Status AbsClient::DeleteFiles(const std::vector<FileInfo>& files) {
  std::vector<std::string> blobs;
  blobs.reserve(files.size());
  for (const auto& f : files) {
    blobs.push_back(BlobName(f.level, f.min_txid, f.max_txid));
  }
  return DeleteBlobs(blobs);
}

Status AbsClient::DeleteAll() {
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed,
                      ListBlobs(opts_.path.empty() ? "" : opts_.path + "/"));
  std::vector<std::string> blobs;
  for (auto& l : listed) blobs.push_back(std::move(l.name));
  return DeleteBlobs(blobs);
}

}  // namespace litekeep::storage::abs
