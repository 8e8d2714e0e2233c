// A bounded LRU cache of decoded pages, keyed by (LTX file id, page
// number): a page image in a given file never changes, so entries never go
// stale. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/types.h"

namespace litekeep::vfs {

class PageCache {
 public:
  explicit PageCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Copies the page into out (its size) and returns true on a hit.
  bool Get(uint32_t file_id, Pgno pgno, std::span<uint8_t> out);
  void Put(uint32_t file_id, Pgno pgno, std::span<const uint8_t> page);
  bool Contains(uint32_t file_id, Pgno pgno);

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  int64_t bytes() const { return bytes_; }

 private:
  static uint64_t Key(uint32_t file_id, Pgno pgno) {
    return (uint64_t{file_id} << 32) | pgno;
  }
  struct Entry {
    uint64_t key;
    std::vector<uint8_t> data;
  };

  std::mutex mu_;
  int64_t capacity_;
  int64_t bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<uint64_t, std::list<Entry>::iterator> map_;
};

}  // namespace litekeep::vfs
