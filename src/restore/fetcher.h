// Parallel download of a restore plan's files from a remote replica
// (docs/cli/restore.md, "Parallel downloads"): each file is fetched in
// ranges of a fixed size, with up to `parallelism` ranged GETs in flight
// across the next few files, into unnamed files in the restore's scratch
// directory. A file is read back in plan order while its later ranges are
// still arriving, so downloading and applying overlap. Memory stays flat
// whatever the size: a 256 KiB buffer per download thread (and the HTTP
// stream's own); the bytes wait on disk.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/io.h"
#include "base/status.h"
#include "storage/replica_client.h"

namespace litekeep::restore {

class ScratchDir;

struct FetchOptions {
  int parallelism = 8;            // ranged GETs in flight
  int64_t range_bytes = 8 << 20;  // bytes per ranged GET
  size_t files_ahead = 8;         // files downloading beyond the one read
};

class Fetcher {
 public:
  // Starts the download threads at once. files and scratch must outlive
  // the Fetcher.
  Fetcher(storage::ReplicaClient& replica,
          const std::vector<storage::FileInfo>& files, ScratchDir* scratch,
          FetchOptions options);
  ~Fetcher();  // stops the downloads and waits for the threads
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // A reader of file i, delivering the listed bytes in order as they land
  // (blocking until then). Files are opened in order, each once; the
  // reader must be dropped before Release(i).
  std::unique_ptr<base::Reader> Open(size_t i);
  // The download error of file i, Ok if none so far: a store that sends
  // more or fewer bytes than listed, or lists more than the file's header
  // allows, or a failure its retries did not cure.
  Status Error(size_t i);
  // Done with file i: its scratch file is dropped and a later file starts.
  void Release(size_t i);

 private:
  struct FileState;
  class StreamReader;
  void Work();
  Status FetchRange(size_t i, size_t range, base::File& out,
                    std::vector<uint8_t>& buf);

  storage::ReplicaClient& replica_;
  const std::vector<storage::FileInfo>& files_;
  ScratchDir* scratch_;
  FetchOptions options_;
  std::mutex mu_;
  std::condition_variable landed_;  // a range landed or failed
  std::condition_variable work_;    // a range became available
  std::vector<std::unique_ptr<FileState>> state_;
  size_t first_ = 0;  // first file not yet released
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace litekeep::restore
