// Bounded LRU page cache.
#include "vfs/page_cache.h"

#include <algorithm>

namespace litekeep::vfs {

bool PageCache::Get(uint32_t file_id, Pgno pgno, std::span<uint8_t> out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(Key(file_id, pgno));
  if (it == map_.end() || it->second->data.size() != out.size()) {
    ++misses_;
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  std::copy(it->second->data.begin(), it->second->data.end(), out.begin());
  ++hits_;
  return true;
}

bool PageCache::Contains(uint32_t file_id, Pgno pgno) {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.count(Key(file_id, pgno)) != 0;
}

void PageCache::Put(uint32_t file_id, Pgno pgno,
                    std::span<const uint8_t> page) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int64_t>(page.size()) > capacity_) return;
  uint64_t key = Key(file_id, pgno);
  if (auto it = map_.find(key); it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, std::vector<uint8_t>(page.begin(), page.end())});
  map_[key] = lru_.begin();
  bytes_ += static_cast<int64_t>(page.size());
  while (bytes_ > capacity_ && !lru_.empty()) {
    bytes_ -= static_cast<int64_t>(lru_.back().data.size());
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace litekeep::vfs
