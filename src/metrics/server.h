// A very small HTTP/1.0 server for the metrics endpoint: GET on a fixed
// set of paths (e.g. /metrics, /healthz), one request per connection.
// Connections are served concurrently by a small pool of threads, each with
// a deadline for reading the request and for writing the answer, so slow or
// silent clients cannot stop it answering (docs/reliability.md). Not a
// general web server.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace litekeep::metrics {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using HttpHandler = std::function<HttpResponse()>;

// Splits a listen address: ":9090" (every interface), "127.0.0.1:9090",
// "localhost:9090", "[::1]:9090". Errors name the address.
struct ListenAddr {
  std::string host;  // empty: every interface
  int port = 0;
};
Result<ListenAddr> ParseListenAddr(const std::string& addr);

class HttpServer {
 public:
  // Connections served at once; more wait (up to kMaxQueued, beyond that
  // they are closed at once).
  static constexpr int kWorkers = 8;
  static constexpr size_t kMaxQueued = 64;
  // Time a client has to send its request head, and to take the answer.
  static constexpr std::chrono::milliseconds kReadDeadline{5000};
  static constexpr std::chrono::milliseconds kWriteTimeout{5000};

  // Binds addr and starts serving routes (path -> handler). Port 0 picks a
  // free port (see port()).
  static Result<std::unique_ptr<HttpServer>> Start(
      const std::string& addr, std::map<std::string, HttpHandler> routes);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  void Stop();

 private:
  HttpServer() = default;
  void Serve();  // accepts connections and queues them
  void Work();   // serves queued connections
  void Handle(int fd);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // readable once Stop was called
  int port_ = 0;
  std::map<std::string, HttpHandler> routes_;
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> queue_;  // accepted connections waiting for a worker
  std::atomic<bool> stopping_{false};
};

}  // namespace litekeep::metrics
