// The S3 client's parts, shared by the files that implement it (client.cc:
// request plumbing; errors.cc; listing.cc; reader.cc; upload.cc;
// delete.cc). Not used outside storage/s3/.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/http.h"
#include "storage/replica_client.h"
#include "storage/retry.h"
#include "storage/s3/options.h"
#include "storage/s3/sigv4.h"
#include "storage/url.h"

namespace litekeep::storage::s3 {

// Request kinds, for the request counters.
enum class Kind { kList, kGet, kPut, kDel, kHead };

// One object of a listing.
struct Listed {
  std::string key;
  int64_t size = 0;
  TimePoint last_modified{};
  std::string etag;  // as listed, quotes included
};

class S3Client : public ReplicaClient {
 public:
  S3Client(S3Options opts, Credentials creds)
      : opts_(std::move(opts)),
        creds_(std::move(creds)),
        http_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                          .stall_timeout = opts_.stall_timeout,
                          .skip_verify = opts_.skip_verify,
                          .ca_bundle = opts_.ca_bundle}) {
    std::string ep = opts_.endpoint;
    if (ep.empty()) {
      scheme_ = "https";
      path_style_ = opts_.force_path_style.value_or(false);
    } else {
      size_t sep = ep.find("://");
      if (sep == std::string::npos) {
        bool local = ep.rfind("localhost", 0) == 0 || ep.rfind("127.", 0) == 0;
        scheme_ = local ? "http" : "https";
      } else {
        scheme_ = ep.substr(0, sep);
        ep = ep.substr(sep + 3);
      }
      while (!ep.empty() && ep.back() == '/') ep.pop_back();
      authority_ = ep;
      path_style_ = opts_.force_path_style.value_or(true);
    }
    region_ = opts_.region;
    if (region_.empty() && !opts_.endpoint.empty()) region_ = "us-east-1";
  }

  std::string Type() const override { return "s3"; }

  std::string Describe() const override {
    std::string out = "s3://" + opts_.bucket + "/" + opts_.path;
    if (!opts_.endpoint.empty()) {
      out += "?endpoint=" + RedactUrlText(opts_.endpoint);
    }
    return out;
  }

  RequestCounts request_counts() const override {
    RequestCounts c;
    c.list = counts_[0].load();
    c.get = counts_[1].load();
    c.put = counts_[2].load();
    c.del = counts_[3].load();
    c.head = counts_[4].load();
    c.list_errors = errors_[0].load();
    c.get_errors = errors_[1].load();
    c.put_errors = errors_[2].load();
    c.del_errors = errors_[3].load();
    c.head_errors = errors_[4].load();
    return c;
  }

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  void SetCreatedTimes(CreatedTimes times) override { created_times_ = times; }
  Result<TimePoint> CreatedTime(const FileInfo& file) override;
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
    std::string key;  // "" = the bucket itself
    KeyValues query;
    KeyValues headers;
    std::string_view body;
    Kind kind = Kind::kGet;
    // No-progress limit for this request (0: the client's stall_timeout).
    std::chrono::milliseconds stall_timeout{0};
  };
  Result<std::unique_ptr<HttpStream>> OpenOnce(const Request& r);
  Status ResponseError(const HttpResponse& r, std::string_view op,
                       const std::string& key) const;
  const S3Options& options() const { return opts_; }
  std::string Where(const std::string& key) const {
    return "s3://" + opts_.bucket + "/" + key;
  }

 private:
  Status EnsureRegion();
  // A RangedReader over one object (full key).
  Result<std::unique_ptr<base::Reader>> OpenKey(std::string key, int64_t offset,
                                                int64_t length);
  std::string Region() {
    std::lock_guard<std::mutex> lock(mu_);
    return region_;
  }
  HttpRequest Build(const Request& r, std::string_view region);
  // Sends with retries (one RetryBudget) on transient failures; returns the
  // last response (any status) or kUnavailable naming the request.
  Result<HttpResponse> Execute(const Request& r, std::string_view op);
  Status DeleteKeys(const std::vector<std::string>& keys);
  // Every object under prefix (ListObjectsV2, all pages). A store that
  // repeats a continuation token or pages past max_list_pages is an error
  // naming the bucket and the prefix.
  Result<std::vector<Listed>> ListKeys(const std::string& prefix);
  // A HEAD of key (any status).
  Result<HttpResponse> HeadKey(const std::string& key);
  // The stored creation time of key (a HEAD, remembered): its
  // x-amz-meta-litestream-timestamp, else `listed` (the object has no such
  // metadata). kNotFound when the object is gone.
  Result<TimePoint> HeadCreated(const std::string& key, TimePoint listed);
  Status PutSmall(const std::string& key, const FileInfo& info,
                  std::string body);
  Status PutMultipart(const std::string& key, const FileInfo& info,
                      base::Reader& data, std::string first_part);
  Status PutPart(const std::string& key, const std::string& upload_id, int part,
                 const std::string& body, std::string* etag);
  Status CheckExisting(const std::string& key, int64_t size,
                       const std::string& md5_hex);
  // Whether a multipart upload whose Complete failed (NoSuchUpload, or no
  // answer within the retries) was completed by an earlier attempt: the
  // object exists with the upload's size and either the ETag its parts
  // make or this upload's creation-time metadata. Ok if so.
  Status CheckCompleted(const std::string& key, const FileInfo& info,
                        const std::map<int, std::string>& etags,
                        const Status& failure);
  KeyValues WriteHeaders(const FileInfo& info) const;
  std::string PayloadHash(std::string_view body) const {
    return opts_.sign_payload ? Sha256Hex(body) : std::string(kUnsignedPayload);
  }

  S3Options opts_;
  Credentials creds_;
  HttpClient http_;
  std::string scheme_;
  std::string authority_;  // host[:port] of the endpoint
  bool path_style_ = true;

  std::mutex mu_;
  std::string region_;
  bool region_checked_ = false;
  std::unordered_map<std::string, TimePoint> created_;  // key -> metadata time
  std::atomic<CreatedTimes> created_times_{CreatedTimes::kExact};

  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};  // failed requests by kind
};

}  // namespace litekeep::storage::s3
