// The GCS client's parts, shared by the files that implement it (client.cc:
// URLs, authorization, retries, errors; listing.cc; reader.cc; upload.cc;
// delete.cc). Not used outside storage/gcs/.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "storage/gcs/auth.h"
#include "storage/gcs/options.h"
#include "storage/http.h"
#include "storage/listing.h"
#include "storage/replica_client.h"
#include "storage/retry.h"

namespace litekeep::storage::gcs {

using base::Status;

// The custom metadata key holding the LTX creation time (RFC 3339), as
// Litestream's GCS client writes it.
inline constexpr char kTimestampMetadata[] = "litestream-timestamp";

// Request kinds, for the request counters.
enum class Kind { kList, kGet, kPut, kDel, kHead };

// An object resource: what a listing shows, plus its generation and MD5.
struct Listed : ListedObject {
  std::string generation;
  std::string md5_base64;
};

class GcsClient : public ReplicaClient {
 public:
  explicit GcsClient(GcsOptions opts);

  std::string Type() const override { return "gcs"; }
  std::string Describe() const override;
  RequestCounts request_counts() const override;

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  Status WriteFile(const FileInfo& info, base::Reader& data) override;
  Status DeleteFiles(const std::vector<FileInfo>& files) override;
  Status DeleteAll() override;
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  Result<VersionedObject> ReadVersioned(const std::string& key) override;
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override;

  struct Request {
    std::string method = "GET";
    // The path after the endpoint, already encoded ("/storage/v1/b/…"), or
    // an absolute URL (a resumable upload session).
    std::string path;
    KeyValues query;  // raw (name, value)
    KeyValues headers;
    std::string_view body;
    Kind kind = Kind::kGet;
    std::string object;  // the object (or listing prefix), for messages
  };
  // One attempt (counted), authorized; a refused token is fetched anew and
  // the request sent once more. The response may be any status.
  Result<std::unique_ptr<HttpStream>> OpenOnce(const Request& r);
  // Sends with retries (one RetryBudget) on transient failures; returns the
  // last response (any status) or kUnavailable naming the request.
  Result<HttpResponse> Execute(const Request& r, std::string_view op);
  // The Status for an error answer: names the operation and object, says
  // what to check, never contains a credential.
  Status ResponseError(const HttpResponse& r, std::string_view op,
                       const std::string& object) const;
  // "gs://bucket/object", for messages.
  std::string Where(const std::string& object) const;
  // Tokens fetched so far (tests).
  int token_fetches() const { return tokens_.fetches(); }

 private:
  HttpRequest Build(const Request& r, const std::string& token) const;
  // "/storage/v1/b/<bucket>/o/<encoded name>".
  std::string ObjectPath(const std::string& name) const;
  // "/upload/storage/v1/b/<bucket>/o".
  std::string UploadPath() const;
  Result<std::unique_ptr<base::Reader>> OpenName(std::string name,
                                                 int64_t offset,
                                                 int64_t length);
  // Every object whose name starts with prefix (all pages). A store that
  // repeats a page token or pages past max_list_pages is an error naming
  // the bucket and the prefix.
  Result<std::vector<ListedObject>> ListNames(const std::string& prefix);
  Status DeleteNames(const std::vector<std::string>& names);
  Status PutMultipart(const std::string& name, const FileInfo& info,
                      const std::string& body);
  Status PutResumable(const std::string& name, const FileInfo& info,
                      base::Reader& data, std::string first_chunk);
  // After a refused conditional write: Ok when the stored object has this
  // size and MD5, else kAlreadyExists.
  Status CheckExisting(const std::string& name, int64_t size,
                       const std::string& md5_base64);
  // The JSON resource of a new object (name, metadata, md5Hash if given).
  std::string ObjectResource(const std::string& name, const FileInfo& info,
                             const std::string& md5_base64) const;
  std::string ObjectName(int level, TxId min_txid, TxId max_txid) const;

  GcsOptions opts_;
  HttpClient http_;
  mutable TokenSource tokens_;

  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};
};

// Parses one object resource of the JSON API.
Listed ParseObjectResource(const nlohmann::json& object);

}  // namespace litekeep::storage::gcs
