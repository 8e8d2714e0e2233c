// Conditional access to small control objects on GCS (the replica lease):
// a media GET whose version is the object's generation (x-goog-generation),
// and a media upload with ifGenerationMatch=0 (create only) or
// ifGenerationMatch=<generation> (replace only if unchanged); a refused
// precondition is HTTP 412. docs/storage_layout.md, "Google Cloud Storage".
#include <nlohmann/json.hpp>

#include "storage/gcs/client_impl.h"

namespace litekeep::storage::gcs {

Result<VersionedObject> GcsClient::ReadVersioned(const std::string& key) {
  const std::string name = opts_.path.empty() ? key : opts_.path + "/" + key;
  Request r;
  r.method = "GET";
  r.kind = Kind::kGet;
  r.path = ObjectPath(name);
  r.object = name;
  r.query = {{"alt", "media"}};
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "get"));
  if (resp.status == 404) {
    return base::NotFoundError("get " + Where(name) + ": no such object");
  }
  if (resp.status != 200) return ResponseError(resp, "get", name);
  VersionedObject out;
  out.version = resp.Header("x-goog-generation").value_or("");
  if (out.version.empty()) {
    return base::UnavailableError("get " + Where(name) +
                                  ": the store sent no x-goog-generation");
  }
  if (resp.body.size() > (1 << 20)) {
    return base::CorruptError("get " + Where(name) + ": larger than 1 MiB");
  }
  out.data = std::move(resp.body);
  return out;
}

Result<std::string> GcsClient::WriteIf(const std::string& key,
                                       const std::string& data,
                                       const std::string& if_version) {
  const std::string name = opts_.path.empty() ? key : opts_.path + "/" + key;
  Request r;
  r.method = "POST";
  r.kind = Kind::kPut;
  r.path = UploadPath();
  r.object = name;
  r.query = {{"uploadType", "media"},
             {"name", name},
             {"ifGenerationMatch", if_version.empty() ? "0" : if_version}};
  r.headers = {{"Content-Type", "application/json"}};
  r.body = data;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "conditional put"));
  if (resp.status == 412 || (resp.status == 404 && !if_version.empty())) {
    const std::string why = "HTTP " + std::to_string(resp.status);
    if (if_version.empty()) {
      return base::AlreadyExistsError("create " + Where(name) +
                                      ": it already exists (" + why + ")");
    }
    return base::FailedPreconditionError("replace " + Where(name) +
                                         ": it changed since it was read (" +
                                         why + ")");
  }
  if (resp.status != 200 && resp.status != 201) {
    return ResponseError(resp, "conditional put", name);
  }
  auto json = nlohmann::json::parse(resp.body, nullptr, false);
  if (json.is_discarded() || !json.contains("generation")) {
    return base::UnavailableError("put " + Where(name) +
                                  ": the answer names no generation");
  }
  const auto& g = json["generation"];
  return g.is_string() ? g.get<std::string>() : g.dump();
}

}  // namespace litekeep::storage::gcs
