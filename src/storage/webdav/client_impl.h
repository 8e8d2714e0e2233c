// The WebDAV client's parts, shared by the files that implement it
// (client.cc: URLs, authorization, retries, errors; collections.cc: MKCOL
// and PROPFIND; listing.cc; reader.cc; upload.cc; delete.cc;
// conditional.cc). Not used outside storage/webdav/.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/http.h"
#include "storage/replica_client.h"
#include "storage/retry.h"
#include "storage/webdav/options.h"

namespace litekeep::storage::webdav {

using base::Status;

// Request kinds, for the request counters. PROPFIND is a list; MKCOL, MOVE,
// LOCK and UNLOCK count as puts.
enum class Kind { kList, kGet, kPut, kDel, kHead };

// One member of a collection, as PROPFIND Depth 1 reports it.
struct DirEntry {
  std::string name;  // the last path segment, decoded
  bool collection = false;
  int64_t size = 0;
  TimePoint modified{};
  std::string etag;
};

// Parses a 207 multistatus body: the members of the collection at
// `dir_path` (the decoded URL path that was asked for; the collection
// itself is left out). Namespace prefixes may be any.
std::vector<DirEntry> ParseMultistatus(std::string_view body,
                                       std::string_view dir_path);

// True for the names of this client's in-flight uploads
// ("<name>.tmp-<16 hex>"), which listings never show.
bool IsTempName(std::string_view name);

class WebdavClient : public ReplicaClient {
 public:
  explicit WebdavClient(WebdavOptions opts);

  std::string Type() const override { return "webdav"; }
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
  void SetCreatedTimes(CreatedTimes times) override { created_times_ = times; }
  Result<TimePoint> CreatedTime(const FileInfo& file) override;

  struct Request {
    std::string method = "GET";
    // '/'-separated, relative to the server URL, not encoded ("" = the
    // server URL itself).
    std::string path;
    bool collection = false;  // the URL ends in '/'
    KeyValues headers;
    std::string_view body;
    // A body too large to hold: a fresh reader per attempt, of body_size.
    std::function<Result<std::unique_ptr<base::Reader>>()> body_source;
    int64_t body_size = 0;
    Kind kind = Kind::kGet;
  };
  // One attempt (counted); the response may be any status. body_reader,
  // when given, must outlive the stream.
  Result<std::unique_ptr<HttpStream>> OpenOnce(
      const Request& r, base::Reader* body_reader = nullptr);
  // Sends with retries (one RetryBudget) on transient failures (transport
  // errors, 5xx, 429, 408); returns the last response (any status) or
  // kUnavailable naming the request.
  Result<HttpResponse> Execute(const Request& r, std::string_view op);
  // The Status for an error answer: names the operation and object, says
  // what to check, never contains a credential.
  Status ResponseError(const HttpResponse& r, std::string_view op,
                       const std::string& path) const;
  // "webdav://user@host/root/path", for messages (no password).
  std::string Where(const std::string& path) const;
  // The encoded URL of path (credentials never in it).
  std::string Url(const std::string& path, bool collection) const;

 private:
  // <path>/<key> ('/'-joined, the replica path may be empty).
  std::string Join(const std::string& key) const;
  // Creates every missing collection from the server URL down to dir
  // (MKCOL, parents first); remembers what exists.
  Status EnsureCollections(const std::string& dir);
  // Forgets the collections at and below `under` ("" = all), and with
  // with_times the creation times of the files there.
  void ForgetCollections(const std::string& under, bool with_times);
  // The members of a collection (PROPFIND Depth 1); *missing when the
  // collection does not exist (then the list is empty).
  Result<std::vector<DirEntry>> ReadDir(const std::string& dir, bool* missing);
  // The LTX header timestamp of a file (a ranged GET of its first 100
  // bytes); kCorrupt when those bytes are not an LTX header.
  Result<TimePoint> HeaderTime(const std::string& name);
  Result<std::unique_ptr<base::Reader>> OpenPath(std::string path,
                                                 int64_t offset,
                                                 int64_t length);
  // PUT to a temporary name beside `path`; returns that name.
  Result<std::string> PutTemp(const std::string& path, Request body);
  // MOVE from -> to. Returns the response (any status).
  Result<HttpResponse> Move(const std::string& from, const std::string& to,
                            bool overwrite, const std::string& lock_token);
  // DELETE; a missing path is not an error.
  Status DeletePath(const std::string& path, bool collection);
  Status DeletePaths(const std::vector<std::string>& paths);
  // Best-effort removal of a temporary upload (errors ignored).
  void DropTemp(const std::string& temp);
  // Replace under a WebDAV lock; kUnimplemented when the server has none.
  Result<std::string> ReplaceLocked(const std::string& path,
                                    const std::string& temp,
                                    const std::string& data,
                                    const std::string& if_version);
  Result<std::string> ReplaceUnlocked(const std::string& path,
                                      const std::string& temp,
                                      const std::string& data,
                                      const std::string& if_version);

  WebdavOptions opts_;
  HttpClient http_;
  std::string authorization_;     // "Basic …" (secret) or ""
  std::string root_path_;         // the server URL's path, decoded, no '/' end
  std::string scheme_authority_;  // "http://host:port"

  std::mutex mu_;
  std::set<std::string> collections_;  // known to exist
  // A file's creation time as last seen, with what identifies that
  // version of the file: its size and ETag ("" until a listing shows it
  // for a file this client wrote).
  struct KnownTime {
    int64_t size = 0;
    std::string etag;
    TimePoint created{};
  };
  // Creation times by file path.
  std::map<std::string, KnownTime> created_;
  std::atomic<bool> locks_unsupported_{false};
  // kListed: files not remembered get the server's getlastmodified (no
  // header GET).
  std::atomic<CreatedTimes> created_times_{CreatedTimes::kExact};

  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};
};

}  // namespace litekeep::storage::webdav
