// UploadParts (the S3 and Azure multipart uploads): every part arrives with
// its bytes, no more than `concurrency` parts are in flight or buffered, and
// a failed send or read stops the upload with that error.
#include "storage/upload_parts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace litekeep::storage {
namespace {

std::string Data(size_t n) {
  std::string d(n, '\0');
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<char>(i * 131 + i / 7);
  return d;
}

TEST(UploadPartsTest, PartsCarryTheDataWithBoundedBuffersAndThreads) {
  const std::string data = Data(1000 * 37 + 11);  // 38 parts, the last short
  const int64_t part = 1000;
  std::string first = data.substr(0, part);
  base::SpanReader rest({reinterpret_cast<const uint8_t*>(data.data()) + part,
                         data.size() - part});

  std::mutex mu;
  std::map<int, std::string> got;
  std::set<const char*> buffers;
  std::set<std::thread::id> threads;
  std::atomic<int> in_flight{0}, max_in_flight{0};
  std::string read_order;
  PartUpload up;
  up.size = static_cast<int64_t>(data.size());
  up.part_size = part;
  up.concurrency = 3;
  up.what = "put test";
  up.on_read = [&](const std::string& body) { read_order += body; };
  up.send = [&](int n, const std::string& body) {
    const int now = ++in_flight;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(n % 3));
    {
      std::lock_guard<std::mutex> lock(mu);
      got[n] = body;
      buffers.insert(body.data());
      threads.insert(std::this_thread::get_id());
    }
    --in_flight;
    return Status::Ok();
  };
  Result<int> sent = UploadParts(up, rest, first);
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  EXPECT_EQ(*sent, 38);
  ASSERT_EQ(got.size(), 38u);
  std::string joined;
  int expect = 1;
  for (const auto& [n, body] : got) {
    EXPECT_EQ(n, expect++);
    joined += body;
  }
  EXPECT_EQ(joined, data);
  EXPECT_EQ(read_order, data) << "on_read sees the parts in order";
  EXPECT_LE(max_in_flight.load(), 3);
  EXPECT_LE(buffers.size(), 3u) << "part buffers are reused";
  EXPECT_LE(threads.size(), 3u) << "no thread per part";
}

TEST(UploadPartsTest, FailedSendStopsTheUploadWithItsError) {
  const std::string data = Data(100 * 50);
  base::SpanReader rest(
      {reinterpret_cast<const uint8_t*>(data.data()) + 100, data.size() - 100});
  std::atomic<int> calls{0};
  PartUpload up;
  up.size = static_cast<int64_t>(data.size());
  up.part_size = 100;
  up.concurrency = 2;
  up.what = "put test";
  up.send = [&](int n, const std::string&) {
    ++calls;
    if (n == 3) return base::UnavailableError("upload part 3: boom");
    return Status::Ok();
  };
  Result<int> sent = UploadParts(up, rest, data.substr(0, 100));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().message(), "upload part 3: boom");
  EXPECT_LT(calls.load(), 50) << "parts after the failure are not sent";
}

TEST(UploadPartsTest, ShortDataIsAReadErrorNamingTheUpload) {
  const std::string data = Data(250);
  base::SpanReader rest(
      {reinterpret_cast<const uint8_t*>(data.data()) + 100, data.size() - 100});
  PartUpload up;
  up.size = 400;  // 150 bytes more than there are
  up.part_size = 100;
  up.concurrency = 2;
  up.what = "put s3://b/k";
  up.send = [](int, const std::string&) { return Status::Ok(); };
  Result<int> sent = UploadParts(up, rest, data.substr(0, 100));
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("put s3://b/k: reading data"),
            std::string::npos)
      << sent.status().message();
}

}  // namespace
}  // namespace litekeep::storage
