// A ReplicaClient wrapper for the replicate process: an index of the LTX
// files in the replica, kept from one full listing plus every write and
// delete made through it, so compaction and retention ask the store nothing
// when nothing changed; and a local copy of the recent change files
// (levels 0-8) it uploaded, so compaction reads them from disk instead of
// GETting back what was just written. docs/architecture.md ("Requests")
// says when the index is reconciled with the store.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "storage/forwarding_client.h"

namespace litekeep::replicate {

struct ReplicaIndexOptions {
  // Where local copies of uploaded change files are kept (the database's
  // hidden state directory + "/ltx"); empty: no local copies.
  std::string cache_dir;
};

class IndexedReplica : public storage::ForwardingReplicaClient {
 public:
  IndexedReplica(std::shared_ptr<storage::ReplicaClient> inner,
                 ReplicaIndexOptions options);

  // From the index; the first call lists every level of the store once.
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override;
  // The local copy when there is one, else the store.
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid,
                                                 int64_t offset = 0,
                                                 int64_t length = -1) override;
  // Writes to the store; on success records the file (and keeps a local
  // copy of a change file).
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override;
  base::Status DeleteFiles(
      const std::vector<storage::FileInfo>& files) override;
  // The same, through the inner client's fenced calls.
  base::Status WriteFileFenced(const storage::FileInfo& info,
                               base::Reader& data,
                               const storage::PublishFence& fence) override;
  base::Status DeleteFilesFenced(const std::vector<storage::FileInfo>& files,
                                 const storage::PublishFence& fence) override;
  base::Status DeleteAll() override;

  // Lists every level of the store again and replaces the index with what
  // it holds (files written or deleted by someone else appear or go).
  base::Status Reconcile();

  // Local copies kept now (for tests).
  size_t cached_files() const;

 private:
  // WriteFile and DeleteFiles, fenced when fence is not null.
  base::Status Write(const storage::FileInfo& info, base::Reader& data,
                     const storage::PublishFence* fence);
  base::Status Delete(const std::vector<storage::FileInfo>& files,
                      const storage::PublishFence* fence);

  using Key = std::tuple<int, TxId, TxId>;
  static Key KeyOf(const storage::FileInfo& f) {
    return {f.level, f.min_txid, f.max_txid};
  }
  base::Status LoadLocked();
  std::string CachePath(const Key& k) const;
  // Drops local copies no compaction will read again: those of `level`
  // merged into a file of level + 1 ending at or after `max_txid`.
  void PruneCacheLocked(int level, TxId max_txid);
  void DropCachedLocked(const Key& k);

  ReplicaIndexOptions options_;
  mutable std::mutex mu_;
  bool loaded_ = false;
  std::map<Key, storage::FileInfo> files_;
  std::map<Key, std::string> cached_;  // key -> local path
  uint64_t seq_ = 0;
};

}  // namespace litekeep::replicate
