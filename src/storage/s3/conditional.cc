// Conditional access to small control objects on S3 (the replica lease):
// GET with the ETag, PUT with If-None-Match: * (create only) or If-Match:
// <ETag> (replace only if unchanged), as AWS S3 has supported since 2024
// (docs/storage_layout.md, "S3").
#include "storage/s3/client_impl.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {
namespace {

std::string ObjectKeyOf(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "/" + key;
}

}  // namespace

Result<VersionedObject> S3Client::ReadVersioned(const std::string& key) {
  Request r;
  r.method = "GET";
  r.kind = Kind::kGet;
  r.key = ObjectKeyOf(opts_.path, key);
  r.headers = CustomerKeyHeaders(opts_);
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "get"));
  if (resp.status == 404) {
    return base::NotFoundError("get " + Where(r.key) + ": no such object");
  }
  if (resp.status != 200) return ResponseError(resp, "get", r.key);
  VersionedObject out;
  out.version = resp.Header("etag").value_or("");
  if (out.version.empty()) {
    return base::UnavailableError("get " + Where(r.key) +
                                  ": the store sent no ETag");
  }
  if (resp.body.size() > (1 << 20)) {
    return base::CorruptError("get " + Where(r.key) + ": larger than 1 MiB");
  }
  out.data = std::move(resp.body);
  return out;
}

Result<std::string> S3Client::WriteIf(const std::string& key,
                                      const std::string& data,
                                      const std::string& if_version) {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.key = ObjectKeyOf(opts_.path, key);
  r.headers = CreateHeaders(opts_);
  r.headers.emplace_back("Content-Type", "application/json");
  if (opts_.content_md5) r.headers.emplace_back("Content-MD5", Md5Base64(data));
  if (if_version.empty()) {
    r.headers.emplace_back("If-None-Match", "*");
  } else {
    r.headers.emplace_back("If-Match", if_version);
  }
  r.body = data;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "conditional put"));
  // 412: the condition failed; 409 ConditionalRequestConflict: another
  // conditional write of the key won a race; 404: If-Match on a key that
  // is gone.
  if (resp.status == 412 || resp.status == 409 ||
      (resp.status == 404 && !if_version.empty())) {
    const std::string why = "HTTP " + std::to_string(resp.status) + " " +
                            XmlText(resp.body, "Code");
    if (if_version.empty()) {
      return base::AlreadyExistsError("create " + Where(r.key) +
                                      ": it already exists (" + why + ")");
    }
    return base::FailedPreconditionError("replace " + Where(r.key) +
                                         ": it changed since it was read (" +
                                         why + ")");
  }
  if (resp.status != 200) return ResponseError(resp, "conditional put", r.key);
  std::string etag = resp.Header("etag").value_or("");
  if (etag.empty()) {
    return base::UnavailableError("put " + Where(r.key) +
                                  ": the store sent no ETag");
  }
  return etag;
}

}  // namespace litekeep::storage::s3
