// Conditional access to small control objects on Azure Blob (the replica
// lease): Get Blob with its ETag, Put Blob with If-None-Match: * (create
// only: 409 BlobAlreadyExists) or If-Match: <ETag> (replace only if
// unchanged: 412 ConditionNotMet). docs/storage_layout.md, "Azure Blob".
#include "storage/abs/client_impl.h"
#include "storage/s3/sigv4.h"

namespace litekeep::storage::abs {

Result<VersionedObject> AbsClient::ReadVersioned(const std::string& key) {
  Request r;
  r.method = "GET";
  r.kind = Kind::kGet;
  r.blob = opts_.path.empty() ? key : opts_.path + "/" + key;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "get"));
  if (resp.status == 404) {
    return base::NotFoundError("get " + Where(r.blob) + ": no such blob");
  }
  if (resp.status != 200) return ResponseError(resp, "get", r.blob);
  VersionedObject out;
  out.version = resp.Header("etag").value_or("");
  if (out.version.empty()) {
    return base::UnavailableError("get " + Where(r.blob) +
                                  ": the store sent no ETag");
  }
  if (resp.body.size() > (1 << 20)) {
    return base::CorruptError("get " + Where(r.blob) + ": larger than 1 MiB");
  }
  out.data = std::move(resp.body);
  return out;
}

Result<std::string> AbsClient::WriteIf(const std::string& key,
                                       const std::string& data,
                                       const std::string& if_version) {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.blob = opts_.path.empty() ? key : opts_.path + "/" + key;
  r.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Content-MD5", s3::Md5Base64(data));
  if (if_version.empty()) {
    r.headers.emplace_back("If-None-Match", "*");
  } else {
    r.headers.emplace_back("If-Match", if_version);
  }
  r.body = data;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "conditional put"));
  if (resp.status == 409 || resp.status == 412 ||
      (resp.status == 404 && !if_version.empty())) {
    const std::string why = "HTTP " + std::to_string(resp.status);
    if (if_version.empty()) {
      return base::AlreadyExistsError("create " + Where(r.blob) +
                                      ": it already exists (" + why + ")");
    }
    return base::FailedPreconditionError("replace " + Where(r.blob) +
                                         ": it changed since it was read (" +
                                         why + ")");
  }
  if (resp.status != 201) {
    return ResponseError(resp, "conditional put", r.blob);
  }
  std::string etag = resp.Header("etag").value_or("");
  if (etag.empty()) {
    return base::UnavailableError("put " + Where(r.blob) +
                                  ": the store sent no ETag");
  }
  return etag;
}

}  // namespace litekeep::storage::abs
