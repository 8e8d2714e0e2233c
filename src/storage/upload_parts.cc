// Multipart uploads: parts read in order into at most `concurrency` reused
// buffers and sent by at most `concurrency` threads.
#include "storage/upload_parts.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace litekeep::storage {

Result<int> UploadParts(const PartUpload& upload, base::Reader& data,
                        std::string first) {
  const int concurrency = std::max(1, upload.concurrency);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, std::string>> queued;  // read, not yet taken
  std::vector<std::string> spare;                  // sent, to be refilled
  int buffers = 1;                                 // `first` is one
  bool no_more = false;
  Status failure;
  // Each sender takes the oldest queued part; a thread per part would keep
  // every finished thread (stack and malloc arena) until the end.
  auto sender = [&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return !queued.empty() || no_more; });
      if (queued.empty() || !failure.ok()) return;
      auto [number, body] = std::move(queued.front());
      queued.pop_front();
      lock.unlock();
      Status s = upload.send(number, body);
      lock.lock();
      if (!s.ok() && failure.ok()) failure = s;
      spare.push_back(std::move(body));
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  int parts = 0;
  int64_t total = 0;
  std::string next = std::move(first);
  while (!next.empty()) {
    if (upload.on_read) upload.on_read(next);
    total += static_cast<int64_t>(next.size());
    ++parts;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure.ok()) break;
      queued.emplace_back(parts, std::move(next));
    }
    cv.notify_all();
    if (static_cast<int>(threads.size()) < concurrency) {
      threads.emplace_back(sender);
    }
    const int64_t left = upload.size - total;
    if (left <= 0) break;
    {
      // A buffer for the next part: a sent one, or a new one while fewer
      // than `concurrency` exist.
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] {
        return !spare.empty() || buffers < concurrency || !failure.ok();
      });
      if (!failure.ok()) break;
      if (!spare.empty()) {
        next = std::move(spare.back());
        spare.pop_back();
      } else {
        ++buffers;
        next = std::string();
      }
    }
    next.resize(static_cast<size_t>(std::min(left, upload.part_size)));
    Status read =
        data.ReadFull({reinterpret_cast<uint8_t*>(next.data()), next.size()});
    if (!read.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (failure.ok()) {
        failure = read.WithContext(upload.what + ": reading data");
      }
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    no_more = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  if (!failure.ok()) return failure;
  return parts;
}

}  // namespace litekeep::storage
