// Metrics HTTP server on plain sockets.
#include "metrics/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace litekeep::metrics {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

void WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Result<ListenAddr> ParseListenAddr(const std::string& addr) {
  ListenAddr out;
  std::string port;
  if (!addr.empty() && addr[0] == '[') {
    auto close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() ||
        addr[close + 1] != ':') {
      return base::InvalidArgumentError("invalid metrics addr \"" + addr +
                                        "\" (expected [HOST]:PORT)");
    }
    out.host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    auto colon = addr.rfind(':');
    if (colon == std::string::npos) {
      return base::InvalidArgumentError("invalid metrics addr \"" + addr +
                                        "\" (expected :PORT or HOST:PORT)");
    }
    out.host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);  // NOLINT(runtime/int)
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    return base::InvalidArgumentError("invalid port in metrics addr \"" + addr + "\"");
  }
  out.port = static_cast<int>(p);
  return out;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& addr, std::map<std::string, HttpHandler> routes) {
  LK_ASSIGN_OR_RETURN(ListenAddr la, ParseListenAddr(addr));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(la.port);
  int rc = ::getaddrinfo(la.host.empty() ? nullptr : la.host.c_str(),
                         port.c_str(), &hints, &res);
  if (rc != 0) {
    return base::InvalidArgumentError("metrics addr \"" + addr +
                                      "\": " + ::gai_strerror(rc));
  }
  std::unique_ptr<HttpServer> server(new HttpServer());
  int err = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      server->listen_fd_ = fd;
      break;
    }
    err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (server->listen_fd_ < 0) {
    return base::ErrnoError("listen on metrics addr " + addr, err);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  server->port_ = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (::pipe2(server->wake_pipe_, O_CLOEXEC) != 0) {
    return base::ErrnoError("pipe", errno);
  }
  server->routes_ = std::move(routes);
  HttpServer* raw = server.get();
  for (int i = 0; i < kWorkers; ++i) {
    server->workers_.emplace_back([raw]() { raw->Work(); });
  }
  server->thread_ = std::thread([raw]() { raw->Serve(); });
  return server;
}

HttpServer::~HttpServer() {
  Stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  char c = 0;
  [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
  }  // no worker between check and wait
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : queue_) ::close(fd);
  queue_.clear();
}

void HttpServer::Serve() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      ::close(fd);  // overloaded: shed the connection rather than queue it
      continue;
    }
    queue_.push_back(fd);
    cv_.notify_one();
  }
}

void HttpServer::Work() {
  for (;;) {
    int fd = -1;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_.load() || !queue_.empty(); });
      if (stopping_.load()) return;
      fd = queue_.front();
      queue_.pop_front();
    }
    Handle(fd);
    ::close(fd);
  }
}

void HttpServer::Handle(int fd) {
  // Read the request head (bounded size and time: one deadline for the
  // whole head, so a client dripping bytes cannot hold the worker).
  const auto deadline = std::chrono::steady_clock::now() + kReadDeadline;
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos &&
         req.find("\n\n") == std::string::npos && req.size() < 16384) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int rc = ::poll(p, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0 || (p[1].revents & POLLIN) != 0) return;  // timeout or Stop
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  const auto line_end = req.find_first_of("\r\n");
  const std::string line = req.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  HttpResponse resp;
  std::string method = line.substr(0, sp1);
  std::string path = sp1 == std::string::npos
                         ? ""
                         : line.substr(sp1 + 1, sp2 == std::string::npos
                                                    ? std::string::npos
                                                    : sp2 - sp1 - 1);
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  auto route = routes_.find(path);
  if (method != "GET" && method != "HEAD") {
    resp = {405, "text/plain; charset=utf-8", "method not allowed\n"};
  } else if (route == routes_.end()) {
    resp = {404, "text/plain; charset=utf-8", "not found\n"};
  } else {
    resp = route->second();
  }
  // A client that does not take the answer is dropped after kWriteTimeout.
  timeval tv{static_cast<time_t>(kWriteTimeout.count() / 1000),
             static_cast<suseconds_t>(kWriteTimeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string head = "HTTP/1.0 " + std::to_string(resp.status) + " " +
                     Reason(resp.status) + "\r\nContent-Type: " +
                     resp.content_type + "\r\nContent-Length: " +
                     std::to_string(resp.body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  WriteAll(fd, method == "HEAD" ? head : head + resp.body);
}

}  // namespace litekeep::metrics
