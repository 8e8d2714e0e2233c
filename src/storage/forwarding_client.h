// A ReplicaClient that passes every call to another one: the base of the
// wrappers that change a few calls (metrics, an index, a lease, encryption,
// fault injection in tests), so a call they do not change, including one
// added to ReplicaClient later, still reaches the store.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/replica_client.h"

namespace litekeep::storage {

class ForwardingReplicaClient : public ReplicaClient {
 public:
  explicit ForwardingReplicaClient(std::shared_ptr<ReplicaClient> inner)
      : inner_(std::move(inner)) {}

  std::string Type() const override { return inner_->Type(); }
  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<FileInfo>> ListFiles(int level) override {
    return inner_->ListFiles(level);
  }
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid,
                                                 int64_t offset = 0,
                                                 int64_t length = -1) override {
    return inner_->OpenFile(level, min_txid, max_txid, offset, length);
  }
  base::Status WriteFile(const FileInfo& info, base::Reader& data) override {
    return inner_->WriteFile(info, data);
  }
  base::Status DeleteFiles(const std::vector<FileInfo>& files) override {
    return inner_->DeleteFiles(files);
  }
  // A wrapper that changes WriteFile or DeleteFiles must change these two
  // the same way: they pass on to the inner client's fenced calls.
  base::Status WriteFileFenced(const FileInfo& info, base::Reader& data,
                               const PublishFence& fence) override {
    return inner_->WriteFileFenced(info, data, fence);
  }
  base::Status DeleteFilesFenced(const std::vector<FileInfo>& files,
                                 const PublishFence& fence) override {
    return inner_->DeleteFilesFenced(files, fence);
  }
  base::Status DeleteAll() override { return inner_->DeleteAll(); }
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override {
    return inner_->ListObjects(prefix);
  }
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override {
    return inner_->OpenObject(key);
  }
  Result<VersionedObject> ReadVersioned(const std::string& key) override {
    return inner_->ReadVersioned(key);
  }
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override {
    return inner_->WriteIf(key, data, if_version);
  }
  RequestCounts request_counts() const override {
    return inner_->request_counts();
  }
  void SetCreatedTimes(CreatedTimes times) override {
    inner_->SetCreatedTimes(times);
  }
  Result<TimePoint> CreatedTime(const FileInfo& file) override {
    return inner_->CreatedTime(file);
  }

 protected:
  ReplicaClient& inner() const { return *inner_; }
  const std::shared_ptr<ReplicaClient>& inner_ptr() const { return inner_; }

 private:
  std::shared_ptr<ReplicaClient> inner_;
};

}  // namespace litekeep::storage
