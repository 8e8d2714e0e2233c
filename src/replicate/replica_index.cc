// Index of a replica's LTX files and local copies of recent change files.
#include "replicate/replica_index.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>

#include "base/io.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/fence.h"
#include "storage/file_chain.h"

namespace litekeep::replicate {
namespace {

// Copies what it reads into a local file as well.
class TeeReader : public base::Reader {
 public:
  TeeReader(base::Reader* in, base::File* out) : in_(in), out_(out) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    LK_ASSIGN_OR_RETURN(size_t n, in_->Read(buf));
    if (n > 0 && copy_.ok()) copy_ = out_->WriteAll(buf.data(), n);
    return n;
  }
  // Whether the local copy is whole so far.
  const base::Status& copy_status() const { return copy_; }

 private:
  base::Reader* in_;
  base::File* out_;
  base::Status copy_;
};

}  // namespace

IndexedReplica::IndexedReplica(std::shared_ptr<storage::ReplicaClient> inner,
                               ReplicaIndexOptions options)
    : ForwardingReplicaClient(std::move(inner)), options_(std::move(options)) {
  if (!options_.cache_dir.empty()) {
    // Copies left by an earlier process may not match the replica any more
    // (it may have been reset): start empty.
    std::error_code ec;
    std::filesystem::remove_all(options_.cache_dir, ec);
    if (!base::MakeDirs(options_.cache_dir, 0700).ok()) {
      spdlog::warn("{}: cannot create {}; compaction reads from the replica",
                   Describe(), options_.cache_dir);
      options_.cache_dir.clear();
    }
  }
}

base::Status IndexedReplica::LoadLocked() {
  LK_ASSIGN_OR_RETURN(auto all,
                      storage::ListLevels(inner(), 0, ltx::kMaxLevel));
  // Files a replicator published after losing its lease are no history:
  // left out, and removed (through the lease's fence when there is one).
  LK_ASSIGN_OR_RETURN(auto stale, storage::DropStaleFiles(inner(), &all));
  if (!stale.empty()) {
    std::vector<storage::FileInfo> gone;
    for (const auto& f : stale) {
      spdlog::warn("removing {}", f.Describe(inner()));
      gone.push_back(f.file);
    }
    base::Status removed = inner().DeleteFiles(gone);
    if (!removed.ok()) {
      spdlog::warn("{}: stale files not removed: {}", Describe(),
                   removed.message());
    }
  }
  files_.clear();
  for (const auto& f : all) files_[KeyOf(f)] = f;
  for (auto it = cached_.begin(); it != cached_.end();) {
    if (files_.count(it->first) == 0) {
      ::unlink(it->second.c_str());
      it = cached_.erase(it);
    } else {
      ++it;
    }
  }
  loaded_ = true;
  return base::Status::Ok();
}

base::Status IndexedReplica::Reconcile() {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked();
}

Result<std::vector<storage::FileInfo>> IndexedReplica::ListFiles(int level) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!loaded_) LK_RETURN_IF_ERROR(LoadLocked());
  std::vector<storage::FileInfo> out;
  for (auto it = files_.lower_bound(Key{level, 0, 0});
       it != files_.end() && std::get<0>(it->first) == level; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::string IndexedReplica::CachePath(const Key& k) const {
  return options_.cache_dir + "/" + std::to_string(std::get<0>(k)) + "-" +
         ltx::FormatFileName(std::get<1>(k), std::get<2>(k));
}

Result<std::unique_ptr<base::Reader>> IndexedReplica::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cached_.find(Key{level, min_txid, max_txid});
    if (it != cached_.end()) {
      auto f = base::File::Open(it->second, O_RDONLY);
      if (f.ok()) {
        return std::unique_ptr<base::Reader>(
            std::make_unique<base::FileReader>(std::move(*f), offset, length));
      }
      cached_.erase(it);
    }
  }
  return inner().OpenFile(level, min_txid, max_txid, offset, length);
}

base::Status IndexedReplica::WriteFile(const storage::FileInfo& info,
                                       base::Reader& data) {
  return Write(info, data, nullptr);
}

base::Status IndexedReplica::WriteFileFenced(
    const storage::FileInfo& info, base::Reader& data,
    const storage::PublishFence& fence) {
  return Write(info, data, &fence);
}

base::Status IndexedReplica::DeleteFiles(
    const std::vector<storage::FileInfo>& files) {
  return Delete(files, nullptr);
}

base::Status IndexedReplica::DeleteFilesFenced(
    const std::vector<storage::FileInfo>& files,
    const storage::PublishFence& fence) {
  return Delete(files, &fence);
}

base::Status IndexedReplica::Write(const storage::FileInfo& info,
                                   base::Reader& data,
                                   const storage::PublishFence* fence) {
  // The inner client's write, fenced or not.
  auto write = [&](base::Reader& r) {
    return fence != nullptr ? inner().WriteFileFenced(info, r, *fence)
                            : inner().WriteFile(info, r);
  };
  const Key key = KeyOf(info);
  std::string tmp;
  base::File copy;
  if (!options_.cache_dir.empty() && info.level < ltx::kSnapshotLevel) {
    uint64_t n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = ++seq_;
    }
    tmp = CachePath(key) + ".tmp-" + std::to_string(n);
    auto f =
        base::File::Open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (f.ok()) {
      copy = std::move(*f);
    } else {
      tmp.clear();
    }
  }
  base::Status s;
  bool copied = false;
  if (copy.valid()) {
    TeeReader tee(&data, &copy);
    s = write(tee);
    copied = s.ok() && tee.copy_status().ok() && copy.Close().ok();
  } else {
    s = write(data);
  }
  if (!copied && !tmp.empty()) ::unlink(tmp.c_str());
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  files_[key] = info;
  if (copied) {
    const std::string path = CachePath(key);
    if (::rename(tmp.c_str(), path.c_str()) == 0) {
      cached_[key] = path;
    } else {
      ::unlink(tmp.c_str());
    }
  }
  // A copy is read by the merge into the next level (and by snapshots);
  // once a file of the next level covers it, only snapshots could, and they
  // prefer the coarser file. Copies of the top level go when retention
  // deletes their files.
  if (info.level > 0 && info.level < ltx::kSnapshotLevel) {
    PruneCacheLocked(info.level - 1, info.max_txid);
  }
  return base::Status::Ok();
}

void IndexedReplica::PruneCacheLocked(int level, TxId max_txid) {
  for (auto it = cached_.lower_bound(Key{level, 0, 0});
       it != cached_.end() && std::get<0>(it->first) == level;) {
    if (std::get<2>(it->first) <= max_txid) {
      ::unlink(it->second.c_str());
      it = cached_.erase(it);
    } else {
      ++it;
    }
  }
}

void IndexedReplica::DropCachedLocked(const Key& k) {
  auto it = cached_.find(k);
  if (it == cached_.end()) return;
  ::unlink(it->second.c_str());
  cached_.erase(it);
}

base::Status IndexedReplica::Delete(const std::vector<storage::FileInfo>& files,
                                    const storage::PublishFence* fence) {
  LK_RETURN_IF_ERROR(fence != nullptr ? inner().DeleteFilesFenced(files, *fence)
                                      : inner().DeleteFiles(files));
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : files) {
    files_.erase(KeyOf(f));
    DropCachedLocked(KeyOf(f));
  }
  return base::Status::Ok();
}

base::Status IndexedReplica::DeleteAll() {
  LK_RETURN_IF_ERROR(inner().DeleteAll());
  std::lock_guard<std::mutex> lock(mu_);
  files_.clear();
  for (const auto& [k, path] : cached_) ::unlink(path.c_str());
  cached_.clear();
  loaded_ = true;
  return base::Status::Ok();
}

size_t IndexedReplica::cached_files() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_.size();
}

}  // namespace litekeep::replicate
