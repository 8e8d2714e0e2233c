// The Azure Blob client's parts, shared by the files that implement it
// (client.cc: request building, signing, retries, errors; listing.cc;
// reader.cc; upload.cc; delete.cc). Not used outside storage/abs/.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/abs/options.h"
#include "storage/abs/shared_key.h"
#include "storage/http.h"
#include "storage/listing.h"
#include "storage/replica_client.h"
#include "storage/retry.h"

namespace litekeep::storage::abs {

using base::Status;

// The metadata name (after "x-ms-meta-") holding the LTX creation time,
// as Litestream's Azure client writes it.
inline constexpr std::string_view kTimestampMetadata = "litestreamtimestamp";

// Request kinds, for the request counters.
enum class Kind { kList, kGet, kPut, kDel, kHead };

// One blob of a listing (its metadata's litestreamtimestamp as `created`).
using Listed = ListedObject;

class AbsClient : public ReplicaClient {
 public:
  explicit AbsClient(AbsOptions opts);

  std::string Type() const override { return "abs"; }
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
    std::string blob;  // "" = the container itself
    KeyValues query;
    KeyValues headers;
    std::string_view body;
    Kind kind = Kind::kGet;
    std::string prefix;  // a listing's prefix, for messages
  };
  // One attempt (counted); the response may be any status.
  Result<std::unique_ptr<HttpStream>> OpenOnce(const Request& r);
  // Sends with retries (one RetryBudget) on transient failures; returns the
  // last response (any status) or kUnavailable naming the request.
  Result<HttpResponse> Execute(const Request& r, std::string_view op);
  // The Status for an error answer: names the operation and blob, says what
  // to check, never contains a credential.
  Status ResponseError(const HttpResponse& r, std::string_view op,
                       const std::string& blob) const;
  // "abs://account@container/blob", for messages.
  std::string Where(const std::string& blob) const;
  Status CreateContainer();

 private:
  HttpRequest Build(const Request& r) const;
  // A RangedReader over one blob (full name).
  Result<std::unique_ptr<base::Reader>> OpenBlob(std::string blob,
                                                 int64_t offset,
                                                 int64_t length);
  // Every blob whose name starts with prefix (List Blobs, all pages, with
  // metadata). A store that repeats a marker or pages past max_list_pages
  // is an error naming the container and the prefix.
  Result<std::vector<Listed>> ListBlobs(const std::string& prefix);
  Status DeleteBlobs(const std::vector<std::string>& blobs);
  Status PutSingle(const std::string& blob, const FileInfo& info,
                   const std::string& body);
  Status PutBlocks(const std::string& blob, const FileInfo& info,
                   base::Reader& data, std::string first_block);
  Status PutBlock(const std::string& blob, const std::string& id,
                  const std::string& body);
  // After a refused conditional write: Ok when the stored blob has this
  // size (and MD5, when given), else kAlreadyExists.
  Status CheckExisting(const std::string& blob, int64_t size,
                       const std::string& md5_base64);
  KeyValues WriteHeaders(const FileInfo& info) const;
  std::string BlobName(int level, TxId min_txid, TxId max_txid) const;

  AbsOptions opts_;
  HttpClient http_;
  std::string scheme_;     // "https"
  std::string authority_;  // host[:port]
  std::string base_path_;  // endpoint path ("/devstoreaccount1" or "")

  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};
};

}  // namespace litekeep::storage::abs
