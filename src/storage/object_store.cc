// Picks the ObjectStore for a URL: the file backend's own walker, or an
// adapter over a replica backend's generic object access.
#include "storage/object_store.h"

#include "storage/file/object_store.h"
#include "storage/registry.h"

namespace litekeep::storage {
namespace {

// ObjectStore over ReplicaClient::ListObjects/OpenObject (S3 and any backend
// that implements them). The backend pages internally; the whole listing is
// passed on as one page.
class ReplicaObjectStore : public ObjectStore {
 public:
  explicit ReplicaObjectStore(std::unique_ptr<ReplicaClient> client)
      : client_(std::move(client)) {}

  std::string Describe() const override { return client_->Describe(); }

  Status List(
      const std::function<Status(std::vector<StoredObject>&&)>& page) override {
    LK_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed,
                        client_->ListObjects(""));
    std::vector<StoredObject> out;
    out.reserve(listed.size());
    for (auto& o : listed) {
      StoredObject s;
      s.key = std::move(o.key);
      s.size = o.size;
      s.modified = o.modified;
      s.etag = std::move(o.etag);
      out.push_back(std::move(s));
    }
    return page(std::move(out));
  }

  Result<std::unique_ptr<base::Reader>> Open(const std::string& key) override {
    return client_->OpenObject(key);
  }

  RequestCounts request_counts() const override {
    return client_->request_counts();
  }

 private:
  std::unique_ptr<ReplicaClient> client_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> NewObjectStore(
    const ReplicaSettings& source) {
  const std::string& type = source.type.empty() ? "file" : source.type;
  if (type == "file") {
    if (source.path.empty()) {
      return base::InvalidArgumentError(
          "file source has no path (use file:///dir or a directory)");
    }
    return std::unique_ptr<ObjectStore>(new FileObjectStore(source.path));
  }
  LK_ASSIGN_OR_RETURN(std::unique_ptr<ReplicaClient> client,
                      NewReplicaClient(source));
  return std::unique_ptr<ObjectStore>(
      new ReplicaObjectStore(std::move(client)));
}

}  // namespace litekeep::storage
