// A small HTTP client on libcurl for the HTTP backends (S3, Azure Blob): one
// request at a time per call, easy handles pooled so connections (and TLS
// sessions) are reused, transfers run on a process-wide set of reused
// threads, TLS verification on by default, timeouts that catch stalled
// transfers, and a streaming response reader with bounded memory.
// Transport failures are kUnavailable (the caller decides about retries);
// HTTP status codes are returned as they are, never turned into errors here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::storage {

// An ordered list of (name, value) pairs: HTTP headers or query parameters.
using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than 1 byte/s for this long is aborted (kUnavailable).
  std::chrono::milliseconds stall_timeout{30000};
  // Whole-request limit for requests without a streamed body; 0 = none.
  std::chrono::milliseconds request_timeout{0};
  bool skip_verify = false;  // turn TLS certificate checks off
  std::string ca_bundle;     // PEM file of trusted CAs; "" = system default
  // Bytes a streaming response may buffer ahead of its reader.
  size_t stream_buffer = 1 << 20;
};

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, HEAD, DELETE
  std::string url;             // already encoded
  KeyValues headers;           // sent as given (Host included)
  std::string_view body;       // request body from memory (caller keeps it)
  base::Reader* body_reader = nullptr;  // or from a Reader of body_size bytes
  int64_t body_size = 0;
  // This request's no-progress limit instead of HttpOptions::stall_timeout
  // (0: the client's): for a request the server may legitimately take
  // minutes to answer (S3's CompleteMultipartUpload, docs/s3.md).
  std::chrono::milliseconds stall_timeout{0};
};

struct HttpResponse {
  long status = 0;
  KeyValues headers;  // names lower-cased, in arrival order
  std::string body;
  // The first header named `name` (lower-case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// A response whose body is read as it arrives, through one fixed buffer of
// HttpOptions::stream_buffer bytes. Dropping it early aborts the transfer.
class HttpStream : public base::Reader {
 public:
  ~HttpStream() override;
  long status() const;
  const HttpResponse& head() const;  // status and headers (no body)
  // Reads body bytes; 0 at the end. A transport failure mid-body (reset,
  // stall, fewer bytes than Content-Length) is kUnavailable.
  Result<size_t> Read(std::span<uint8_t> buf) override;
  // Reads the rest of the body (at most max bytes) into a string.
  Result<std::string> ReadAll(size_t max = 1 << 20);

  struct State;

 private:
  friend class HttpClient;
  explicit HttpStream(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends a request and reads the whole response into memory.
  Result<HttpResponse> Do(const HttpRequest& request);
  // Sends a request and returns once the status and headers are in; the
  // body is read from the stream.
  Result<std::unique_ptr<HttpStream>> Open(const HttpRequest& request);

  struct Pool;

 private:
  HttpOptions options_;
  std::shared_ptr<Pool> pool_;
};

}  // namespace litekeep::storage
