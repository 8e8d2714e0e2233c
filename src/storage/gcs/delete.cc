// Deleting objects: one objects.delete per name (several at once; the JSON
// batch endpoint is not used), and DeleteAll.
#include "base/parallel.h"
#include "storage/gcs/client_impl.h"

namespace litekeep::storage::gcs {

Status GcsClient::DeleteNames(const std::vector<std::string>& names) {
  std::vector<Status> errors(names.size());
  base::ParallelFor(names.size(), opts_.delete_concurrency, [&](size_t i) {
    Request r;
    r.method = "DELETE";
    r.kind = Kind::kDel;
    r.path = ObjectPath(names[i]);
    r.object = names[i];
    auto resp = Execute(r, "delete");
    if (!resp.ok()) {
      errors[i] = resp.status();
    } else if (resp->status == 404) {
      Status s = ResponseError(*resp, "delete", names[i]);
      // Already gone is fine; a missing bucket is not.
      if (s.code() != base::Code::kNotFound) errors[i] = s;
    } else if (resp->status != 204 && resp->status != 200) {
      errors[i] = ResponseError(*resp, "delete", names[i]);
    }
  });
  for (const auto& e : errors) LK_RETURN_IF_ERROR(e);
  return Status::Ok();
}

Status GcsClient::DeleteFiles(const std::vector<FileInfo>& files) {
  std::vector<std::string> names;
  names.reserve(files.size());
  for (const auto& f : files) {
    names.push_back(ObjectName(f.level, f.min_txid, f.max_txid));
  }
  return DeleteNames(names);
}

Status GcsClient::DeleteAll() {
  LK_ASSIGN_OR_RETURN(std::vector<ListedObject> listed,
                      ListNames(opts_.path.empty() ? "" : opts_.path + "/"));
  std::vector<std::string> names;
  for (auto& l : listed) names.push_back(std::move(l.name));
  return DeleteNames(names);
}

}  // namespace litekeep::storage::gcs
