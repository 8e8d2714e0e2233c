// ReplicaClient: the one seam between litekeep and a replica's storage
// (file, S3, Azure Blob, SFTP, GCS). Everything above storage/ sees only this
// interface; storage/registry.cc picks the concrete backend for a URL.
//
// Contract (every backend, checked by the conformance suite in
// tests/support/replica_conformance.*, run by each backend's test):
//  * Files are addressed by (level, min TXID, max TXID); the object name is
//    built and parsed only by storage/layout.* and ltx/file_name.* as
//    docs/storage_layout.md says. A listing shows exactly the canonical
//    names (ltx::ParseFileName) and skips every other object.
//  * WriteFile is atomic: a reader sees either no file or the whole file,
//    never a prefix. When it returns Ok the file is durable (fsync'd /
//    acknowledged by the store). Writing an existing name replaces it with
//    the new content (same TXID range means same logical content).
//  * ListFiles(level) returns every complete file of that level, sorted by
//    min TXID then max TXID; temporary/partial uploads are never listed.
//    An empty or missing level is an empty list, not an error.
//  * OpenFile on a missing file returns kNotFound naming the object.
//  * DeleteFiles ignores files that are already gone.
//  * Transient failures (network, 5xx, throttling) are kUnavailable so the
//    caller may retry; everything else is permanent.
//  * Methods may be called from several threads at once.
//  * Generic object access (ListObjects/OpenObject) reaches objects that are
//    not LTX files, such as Litestream 0.3's generations/ tree. A key is a
//    '/'-separated path relative to the replica path ("generations/<id>/wal/
//    00000000_00000000.wal.lz4"), never starting with '/'. ListObjects(prefix)
//    returns every complete object whose key starts with prefix, at any
//    depth, sorted by key, with its size, modification time (file mtime, S3
//    LastModified) and S3's ETag as listed; a missing prefix is an empty list.
//    OpenObject on a missing key returns kNotFound naming the object. Both
//    default to kUnimplemented for backends that do not offer them.
//  * Conditional writes of small control objects (the replica lease,
//    docs/architecture.md "Replica lease"): ReadVersioned returns an object
//    whole with an opaque version that changes at every write; WriteIf
//    creates a key only if it is absent (if_version empty) or replaces it
//    only if its version is still if_version, atomically against every other
//    WriteIf of that key. A failed condition is kAlreadyExists (create) or
//    kFailedPrecondition (replace; also when the key is gone). An answer
//    lost in transit can report a write that happened as a failed condition:
//    callers re-read and compare the content. Keys as for OpenObject. Both
//    default to kUnimplemented (docs/storage_layout.md says what each
//    backend guarantees).
//  * Fenced writes (the replica lease's fencing, docs/architecture.md
//    "Fencing"): WriteFileFenced and DeleteFilesFenced call the fence's
//    check with the fence object as it is when the file is about to be
//    published (renamed into place) or deleted, and do nothing but return
//    its error when it fails. Where the backend can, the check and the
//    publish are atomic against every WriteIf of the fence key (file: both
//    under that key's lock); elsewhere (the default) they are plain
//    WriteFile/DeleteFiles and the caller's own check before the write is
//    all there is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"

namespace litekeep::storage {

// What a listing says about one LTX file.
struct FileInfo {
  int level = 0;
  TxId min_txid = 0;
  TxId max_txid = 0;
  int64_t size = 0;     // bytes
  TimePoint created{};  // the LTX header timestamp where the store keeps it
};

// How exact FileInfo::created must be (ReplicaClient::SetCreatedTimes).
enum class CreatedTimes {
  // The LTX creation time as the store keeps it, even where that costs a
  // request per file (S3: one HEAD per file not seen before). Point-in-time
  // restore by timestamp, retention and compaction need it.
  kExact,
  // What the listing itself carries: the exact time where it has it, else
  // the store's modification time (S3: LastModified, the upload time). For
  // callers that never compare creation times (plans of the newest state).
  kListed,
};

// What a generic listing says about one object (any name).
struct ObjectInfo {
  std::string key;  // relative to the replica path, '/'-separated
  int64_t size = 0;
  TimePoint modified{};  // file mtime / S3 LastModified
  std::string etag;      // S3 ETag as listed ("" where the store has none)
};

// A small object read whole, with the store's version of it.
struct VersionedObject {
  std::string data;
  std::string version;  // opaque: ETag, or what the backend derives
};

// What a fenced write checks right before it publishes: the object `key`
// (nullptr when absent) must satisfy check; its error refuses the write.
struct PublishFence {
  std::string key;
  std::function<base::Status(const VersionedObject*)> check;
};

// Request counters by kind (they become metrics).
struct RequestCounts {
  uint64_t list = 0, get = 0, put = 0, del = 0, head = 0;
  // Of those, the requests that failed: the store could not be reached or
  // answered with an error (a missing object included). Successes are the
  // difference.
  uint64_t list_errors = 0, get_errors = 0, put_errors = 0, del_errors = 0,
           head_errors = 0;
};

class ReplicaClient {
 public:
  virtual ~ReplicaClient() = default;

  // Backend name: "file", "s3", "abs", "sftp", "gcs".
  virtual std::string Type() const = 0;
  // A URL naming the replica, safe to print (no secrets).
  virtual std::string Describe() const = 0;

  // Every file of one level, sorted by (min TXID, max TXID).
  virtual Result<std::vector<FileInfo>> ListFiles(int level) = 0;

  // Opens a file for reading from offset; length < 0 reads to the end.
  virtual Result<std::unique_ptr<base::Reader>> OpenFile(
      int level, TxId min_txid, TxId max_txid, int64_t offset = 0,
      int64_t length = -1) = 0;

  // Atomically writes a file of `size` bytes read from data. info.size is
  // the byte count; info.created becomes the stored creation time.
  virtual base::Status WriteFile(const FileInfo& info, base::Reader& data) = 0;

  // Deletes files; missing ones are not an error.
  virtual base::Status DeleteFiles(const std::vector<FileInfo>& files) = 0;

  // Removes everything under the replica path (used by tests and `reset`).
  virtual base::Status DeleteAll() = 0;

  // Every object under prefix (recursive), sorted by key. See the contract.
  virtual Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix);

  // Opens one object for reading from its start. See the contract.
  virtual Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key);

  // The object (at most 1 MiB) and its version. See the contract.
  virtual Result<VersionedObject> ReadVersioned(const std::string& key);

  // Writes data as key if the condition holds; returns the new version.
  // See the contract.
  virtual Result<std::string> WriteIf(const std::string& key,
                                      const std::string& data,
                                      const std::string& if_version);

  // WriteFile / DeleteFiles that happen only if fence.check passes right
  // before the publish. See the contract.
  virtual base::Status WriteFileFenced(const FileInfo& info, base::Reader& data,
                                       const PublishFence& fence);
  virtual base::Status DeleteFilesFenced(const std::vector<FileInfo>& files,
                                         const PublishFence& fence);

  virtual RequestCounts request_counts() const { return {}; }

  // How exact FileInfo::created is in later ListFiles calls (kExact until
  // set). Backends whose listings carry the exact time ignore it. May be
  // called while other threads list.
  virtual void SetCreatedTimes(CreatedTimes) {}

  // The creation time of a file that ListFiles returned, as a kExact
  // listing would give it, whatever SetCreatedTimes said: file.created
  // where listings carry the exact time (the default), else at most one
  // request the first time (S3: a HEAD). kNotFound when the file is gone.
  // A decorator that forwards SetCreatedTimes forwards this too.
  virtual Result<TimePoint> CreatedTime(const FileInfo& file) {
    return file.created;
  }
};

// The largest TXID in the replica across all levels (0 when empty).
Result<TxId> MaxTxId(ReplicaClient& client);

}  // namespace litekeep::storage
