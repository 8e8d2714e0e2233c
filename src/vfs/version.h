// A database version as the VFS serves it: the page -> (LTX file, offset,
// size) map of one TXID, built from the page indexes of the files of a
// restore plan (fetched by tail range reads and cached per file), newest
// file winning.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "ltx/format.h"
#include "storage/replica_client.h"

namespace litekeep::vfs {

// What the VFS knows about one LTX file: its header fields and page index.
struct FileIndex {
  storage::FileInfo info;
  uint32_t id = 0;  // unique in the process: page-cache keys
  uint32_t page_size = 0;
  uint32_t commit = 0;
  int64_t timestamp_ms = 0;
  std::vector<ltx::PageIndexEntry> entries;
};

// Where page pgno of a version lives; file == 0 means "no page" (the lock
// page, or a database that has none).
struct PageLoc {
  uint32_t file = 0;  // 1-based index into Version::files
  uint32_t size = 0;  // frame length
  uint64_t offset = 0;
};

struct Version {
  TxId txid = 0;
  uint32_t page_size = 0;
  uint32_t commit = 0;  // database size in pages
  std::vector<std::shared_ptr<const FileIndex>> files;  // apply order
  std::vector<PageLoc> pages;                           // pages[pgno - 1]
};

// Fetches and remembers page indexes. Thread-safe.
class IndexCache {
 public:
  IndexCache(storage::ReplicaClient* client, int parallelism)
      : client_(client), parallelism_(parallelism) {}

  // The indexes of files, in the same order; fetched in parallel (at most
  // two ranged GETs per file: the tail, and the header of large files).
  Result<std::vector<std::shared_ptr<const FileIndex>>> Get(
      const std::vector<storage::FileInfo>& files);

 private:
  Result<std::shared_ptr<const FileIndex>> Fetch(const storage::FileInfo& f);
  Result<std::shared_ptr<const FileIndex>> FetchIndex(
      const storage::FileInfo& f);

  storage::ReplicaClient* client_;
  int parallelism_;
  std::mutex mu_;
  std::map<std::tuple<int, TxId, TxId>, std::shared_ptr<const FileIndex>>
      cache_;
};

// Applies files (already chained after base; base may be null for a plan
// starting with a snapshot) and returns the new version. kCorrupt naming
// the file when page sizes disagree or a file's commit needs pages that no
// file supplies (storage::PageSupply), checked before the page map grows.
Result<std::shared_ptr<const Version>> ApplyFiles(
    const Version* base,
    const std::vector<std::shared_ptr<const FileIndex>>& files);

// A file's name in errors and logs: "level L <min>-<max>.ltx".
std::string FileName(const storage::FileInfo& f);

// Files up to this size are read whole: at open (the page index) and by
// page reads, which then verify them (docs/vfs.md "What is verified").
inline constexpr int64_t kWholeFileBytes = 64 << 10;

// Checks a whole LTX file read into memory with the streaming decoder:
// every rule of docs/format.md, each frame, the page index and the file
// checksum (and a checksummed snapshot's post-apply checksum). kCorrupt
// naming `name`, the offset and what mismatched.
Status VerifyWholeFile(std::span<const uint8_t> bytes, const std::string& name);

// Reads exactly len bytes at offset of a replica file.
Result<std::vector<uint8_t>> ReadRange(storage::ReplicaClient& client,
                                       const storage::FileInfo& f,
                                       int64_t offset, int64_t len);

}  // namespace litekeep::vfs
