// HTTP/1.1 over a Unix domain socket, the transport of the control socket
// (docs/cli.md, "Control socket"): a small server that answers each
// connection's one request with a handler's response, and a client that
// sends one request. The same server also listens on TCP for the MCP
// endpoint (StartTcp; docs/cli.md, "MCP"). On a Unix socket the server owns its
// socket file: it refuses to take over a socket another process answers on,
// replaces a stale one, applies the configured file mode before it accepts
// anything, and removes the file when it stops.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace litekeep::control {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query, e.g. "/sync"
  std::string query;   // after '?', undecoded
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

class UnixHttpServer {
 public:
  // Connections served at once; more are answered 503 at once.
  static constexpr int kMaxConnections = 32;
  // Time a client has to send its request.
  static constexpr std::chrono::milliseconds kReadDeadline{10000};

  // Listens on path with file mode `mode` (e.g. 0600). Errors: the path
  // exists and is not a socket; another process answers on it; bind/chmod
  // failures (each names the path).
  static Result<std::unique_ptr<UnixHttpServer>> Start(const std::string& path,
                                                       uint32_t mode,
                                                       HttpHandler handler);
  // Listens on host:port over TCP (host "127.0.0.1", "::1", "0.0.0.0", …).
  static Result<std::unique_ptr<UnixHttpServer>> StartTcp(
      const std::string& host, int port, HttpHandler handler);
  ~UnixHttpServer();  // Stop()
  UnixHttpServer(const UnixHttpServer&) = delete;
  UnixHttpServer& operator=(const UnixHttpServer&) = delete;

  // Stops accepting, waits for the requests being answered, and removes the
  // socket file (when it is still the one this server created).
  void Stop();
  const std::string& path() const { return path_; }

 private:
  UnixHttpServer() = default;
  // Starts serving listen_fd_ (bound, mode set).
  Status Listen();
  void Serve();
  void Handle(int fd);

  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  HttpHandler handler_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;  // connections being answered
  std::atomic<bool> stopped_{false};
};

struct HttpResult {
  int status = 0;
  std::string body;
};

// Sends one request (method, target such as "/list", JSON body) to the
// server on socket_path and returns its answer. Errors name the socket and
// say what to check when it is missing or nobody answers on it.
Result<HttpResult> UnixHttpCall(const std::string& socket_path,
                                const std::string& method,
                                const std::string& target,
                                const std::string& body,
                                std::chrono::milliseconds timeout);

}  // namespace litekeep::control
