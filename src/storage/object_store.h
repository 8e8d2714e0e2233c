// ObjectStore: read access to ARBITRARY objects under a URL's prefix (not LTX
// files), for `litekeep sync` (docs/sync.md). It is a second, small seam
// beside ReplicaClient: listing with a change tag, and reading one object.
//
// Contract (every backend):
//  * Keys are '/'-separated and relative to the store's prefix (the path of
//    the URL), never starting with '/'. Keys are returned exactly as the
//    store holds them; callers validate them (a store may hold "a/../b").
//  * List returns every complete object under the prefix, at any depth,
//    sorted by key, in pages (each page is passed to the callback in order;
//    one page is one LIST request on remote stores). Each object carries its
//    size, modification time and a change tag (S3 ETag; file: inode, size
//    and nanosecond mtime): when the content changes, the tag or the size
//    changes. A missing prefix is an empty listing, not an error.
//  * Entries that are symbolic links (file backend) are listed with
//    symlink = true and never followed; Open refuses them.
//  * Open on a missing key is kNotFound naming the object; a reader fails
//    (kUnavailable/kIoError/kCorrupt) rather than return a short body.
//  * Transient failures are kUnavailable. Methods may be called from several
//    threads at once. request_counts() counts LIST and GET requests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "base/types.h"
#include "storage/settings.h"
#include "storage/replica_client.h"

namespace litekeep::storage {

// What a listing says about one object.
struct StoredObject {
  std::string key;  // relative to the prefix
  int64_t size = 0;
  TimePoint modified{};
  std::string etag;      // opaque change tag ("" when the store has none)
  bool symlink = false;  // a symbolic link (never followed)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // A URL naming the store and prefix, safe to print (no secrets).
  virtual std::string Describe() const = 0;

  // Calls page() with each page of the listing, in key order; stops at the
  // first error (the callback's or the store's) and returns it.
  virtual Status List(
      const std::function<Status(std::vector<StoredObject>&&)>& page) = 0;

  // Opens one object for reading from its start.
  virtual Result<std::unique_ptr<base::Reader>> Open(
      const std::string& key) = 0;

  virtual RequestCounts request_counts() const = 0;
};

// The object store for a parsed URL (storage::ParseReplicaUrl): the file
// backend for directories, else the replica backend's generic object access
// (ReplicaClient::ListObjects/OpenObject). kUnimplemented for a backend
// without it.
Result<std::unique_ptr<ObjectStore>> NewObjectStore(
    const ReplicaSettings& source);

}  // namespace litekeep::storage
