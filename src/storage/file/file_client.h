// The local-directory replica backend ("file" type). Layout:
// <root>/ltx/<level>/<min:016x>-<max:016x>.ltx; a file's mtime holds its
// creation time (as Litestream does). Writes go to a temporary name in the
// same directory, are fsync'd, renamed into place, and the directory is
// fsync'd, so a file is either absent or complete and durable.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "storage/replica_client.h"

namespace litekeep::storage {

class FileReplicaClient : public ReplicaClient {
 public:
  // root: the replica directory (created on first write).
  explicit FileReplicaClient(std::string root);

  std::string Type() const override { return "file"; }
  std::string Describe() const override { return "file://" + root_; }
  const std::string& root() const { return root_; }

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  base::Status WriteFile(const FileInfo& info, base::Reader& data) override;
  base::Status DeleteFiles(const std::vector<FileInfo>& files) override;
  base::Status DeleteAll() override;
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  // Conditional writes (docs/storage_layout.md, "Local directory"): create
  // with link(2) of a complete temporary file, replace under an flock on
  // "<key>.lock" after comparing the version (inode and CRC-64 of the
  // content).
  Result<VersionedObject> ReadVersioned(const std::string& key) override;
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override;
  // Fenced writes (docs/architecture.md, "Fencing"): the check and the
  // rename (or the unlinks) happen under the flock on "<fence key>.lock"
  // that every WriteIf replace of the key holds, so they are atomic against
  // a lease takeover.
  base::Status WriteFileFenced(const FileInfo& info, base::Reader& data,
                               const PublishFence& fence) override;
  base::Status DeleteFilesFenced(const std::vector<FileInfo>& files,
                                 const PublishFence& fence) override;
  RequestCounts request_counts() const override;

 private:
  base::Status Write(const FileInfo& info, base::Reader& data,
                     const PublishFence* fence);
  base::Status Delete(const std::vector<FileInfo>& files,
                      const PublishFence* fence);
  // Runs publish under the fence key's lock once fence.check passed.
  base::Status UnderFence(const PublishFence& fence,
                          const std::function<base::Status()>& publish);

  std::string root_;
  std::atomic<uint64_t> lists_{0}, gets_{0}, puts_{0}, dels_{0};
  std::atomic<uint64_t> list_errors_{0}, get_errors_{0}, put_errors_{0},
      del_errors_{0};
};

}  // namespace litekeep::storage
