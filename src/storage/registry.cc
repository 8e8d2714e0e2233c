// Backend selection by replica type.
#include "storage/registry.h"

#include "storage/file/file_client.h"
#include "storage/s3/client.h"

namespace litekeep::storage {

Result<std::unique_ptr<ReplicaClient>> NewReplicaClient(
    const config::ReplicaConfig& replica) {
  const std::string& type = replica.type.empty() ? "file" : replica.type;
  if (type == "file") {
    if (replica.path.empty()) {
      return base::InvalidArgumentError(
          "file replica has no path (set `path:` or use file:///dir)");
    }
    return std::unique_ptr<ReplicaClient>(new FileReplicaClient(replica.path));
  }
  if (type == "s3") {
    s3::S3Options o;
    o.bucket = replica.bucket;
    o.path = replica.path;
    o.region = replica.region;
    o.endpoint = replica.endpoint;
    if (replica.force_path_style || !replica.endpoint.empty()) {
      o.force_path_style = replica.force_path_style || !replica.endpoint.empty();
    }
    o.skip_verify = replica.skip_verify;
    o.access_key_id = replica.access_key_id;
    o.secret_access_key = replica.secret_access_key;
    if (replica.sign_payload) o.sign_payload = *replica.sign_payload;
    if (replica.require_content_md5) o.content_md5 = *replica.require_content_md5;
    if (replica.part_size) o.part_size = *replica.part_size;
    if (replica.concurrency) o.concurrency = static_cast<int>(*replica.concurrency);
    return s3::NewS3ReplicaClient(o);
  }
  return base::UnimplementedError("replica type \"" + type +
                                  "\" is not supported by this build "
                                  "(supported: file, s3)");
}

}  // namespace litekeep::storage
