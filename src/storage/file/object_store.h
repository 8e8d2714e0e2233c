// The file backend of ObjectStore (storage/object_store.h): every regular
// file and symbolic link under a local directory, listed without following
// links, with a change tag from the inode, size and nanosecond mtime.
#pragma once

#include <atomic>
#include <string>

#include "storage/object_store.h"

namespace litekeep::storage {

class FileObjectStore : public ObjectStore {
 public:
  // root: the directory whose files are the objects (missing = empty).
  explicit FileObjectStore(std::string root);

  std::string Describe() const override { return "file://" + root_; }
  Status List(
      const std::function<Status(std::vector<StoredObject>&&)>& page) override;
  Result<std::unique_ptr<base::Reader>> Open(const std::string& key) override;
  RequestCounts request_counts() const override;

  // Objects per page passed to List's callback.
  static constexpr size_t kPageSize = 1000;

 private:
  std::string root_;
  std::atomic<uint64_t> lists_{0}, gets_{0}, list_errors_{0}, get_errors_{0};
};

}  // namespace litekeep::storage
