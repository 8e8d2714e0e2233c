// The control socket's HTTP/1.1-over-Unix-socket server and client.
#include "control/unix_http.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

namespace litekeep::control {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 4 * 1024 * 1024;

std::string Hint(const std::string& path) {
  return "is `litekeep replicate` running with `socket: {enabled: true, "
         "path: " +
         path + "}`? (-socket PATH names another socket)";
}

Result<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return base::InvalidArgumentError(
        "control socket path \"" + path + "\" must be 1 to " +
        std::to_string(sizeof(addr.sun_path) - 1) + " bytes long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Connects to the socket at path; the errno of a failure in *err.
int ConnectTo(const sockaddr_un& addr, int* err) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

int MsLeft(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<Ms>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

// Reads what is available into buf, waiting until deadline. 0 at EOF, -1 on
// error or timeout (errno ETIMEDOUT).
ssize_t ReadSome(int fd, std::string* buf, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, MsLeft(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return -1;
    if (rc == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    char chunk[16384];
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) buf->append(chunk, static_cast<size_t>(n));
    return n;
  }
}

bool WriteAll(int fd, const std::string& data,
              SteadyClock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    const int rc = ::poll(&p, 1, MsLeft(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    const ssize_t n =
        ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits an HTTP head into its first line and lower-case header names.
void ParseHead(const std::string& head, std::string* first,
               std::map<std::string, std::string>* headers) {
  size_t pos = head.find("\r\n");
  *first = head.substr(0, pos);
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const size_t start = pos + 2;
    pos = head.find("\r\n", start);
    const std::string line = head.substr(start, pos - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    (*headers)[Lower(line.substr(0, colon))] = value;
  }
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string ErrorJson(const std::string& message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"}\n";
}

// Decodes a chunked body; false when it is incomplete or malformed.
bool Dechunk(const std::string& in, std::string* out) {
  size_t pos = 0;
  for (;;) {
    const size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    size_t size = 0;
    try {
      size = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    } catch (...) {
      return false;
    }
    pos = eol + 2;
    if (size == 0) return true;
    if (pos + size + 2 > in.size()) return false;
    out->append(in, pos, size);
    pos += size + 2;
  }
}

}  // namespace

Result<std::unique_ptr<UnixHttpServer>> UnixHttpServer::Start(
    const std::string& path, uint32_t mode, HttpHandler handler) {
  LK_ASSIGN_OR_RETURN(sockaddr_un addr, AddressOf(path));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return base::AlreadyExistsError("control socket path " + path +
                                      " exists and is not a socket");
    }
    int err = 0;
    const int fd = ConnectTo(addr, &err);
    if (fd >= 0) {
      ::close(fd);
      return base::AlreadyExistsError(
          "control socket " + path +
          " is in use by another process (another `replicate`?); stop it "
          "or set socket.path to another file");
    }
    if (err != ECONNREFUSED) {
      return base::ErrnoError("check control socket " + path, err);
    }
    // Nobody answers: a socket left behind by a process that died.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return base::ErrnoError("remove stale control socket " + path, errno);
    }
  } else if (errno != ENOENT) {
    return base::ErrnoError("check control socket " + path, errno);
  }
  std::unique_ptr<UnixHttpServer> server(new UnixHttpServer());
  server->path_ = path;
  server->handler_ = std::move(handler);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::ErrnoError("control socket", errno);
  server->listen_fd_ = fd;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return base::ErrnoError("bind control socket " + path, errno);
  }
  // The mode is in place before listen(): nobody connects before it.
  if (::chmod(path.c_str(), mode) != 0 || ::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return base::ErrnoError("chmod control socket " + path, err);
  }
  server->dev_ = st.st_dev;
  server->ino_ = st.st_ino;
  if (Status s = server->Listen(); !s.ok()) {
    ::unlink(path.c_str());
    return s.WithContext("control socket " + path);
  }
  return server;
}

Result<std::unique_ptr<UnixHttpServer>> UnixHttpServer::StartTcp(
    const std::string& host, int port, HttpHandler handler) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                               service.c_str(), &hints, &found);
  const std::string where = host + ":" + service;
  if (rc != 0) {
    return base::InvalidArgumentError("cannot resolve " + where + ": " +
                                      ::gai_strerror(rc));
  }
  std::unique_ptr<UnixHttpServer> server(new UnixHttpServer());
  server->handler_ = std::move(handler);
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                            ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      server->listen_fd_ = fd;
      break;
    }
    err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (server->listen_fd_ < 0) return base::ErrnoError("bind " + where, err);
  LK_RETURN_IF_ERROR(server->Listen().WithContext(where));
  return server;
}

Status UnixHttpServer::Listen() {
  if (::listen(listen_fd_, 64) != 0 || ::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    return base::ErrnoError("listen", errno);
  }
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

UnixHttpServer::~UnixHttpServer() {
  Stop();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int& fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void UnixHttpServer::Stop() {
  if (stopped_.exchange(true)) return;
  if (wake_pipe_[1] >= 0) {
    const char c = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return active_ == 0; });
  }
  struct stat st {};
  if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
}

void UnixHttpServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[1].revents & POLLIN) != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ >= kMaxConnections) {
        WriteAll(fd,
                 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n",
                 SteadyClock::now() + Ms(100));
        ::close(fd);
        continue;
      }
      ++active_;
    }
    std::thread([this, fd] {
      Handle(fd);
      ::close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      cv_.notify_all();
    }).detach();
  }
}

void UnixHttpServer::Handle(int fd) {
  const auto deadline = SteadyClock::now() + kReadDeadline;
  std::string buf;
  size_t head_end;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHead || ReadSome(fd, &buf, deadline) <= 0) return;
  }
  std::string first;
  std::map<std::string, std::string> headers;
  ParseHead(buf.substr(0, head_end), &first, &headers);
  HttpRequest req;
  const size_t sp1 = first.find(' ');
  const size_t sp2 = first.find(' ', sp1 + 1);
  HttpReply reply;
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    reply = {400, ErrorJson("malformed request line")};
  } else {
    req.method = first.substr(0, sp1);
    const std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    size_t length = 0;
    if (auto it = headers.find("content-length"); it != headers.end()) {
      length = std::strtoul(it->second.c_str(), nullptr, 10);
    }
    if (length > kMaxBody) {
      reply = {413, ErrorJson("request body too large")};
    } else {
      req.body = buf.substr(head_end + 4);
      while (req.body.size() < length) {
        if (ReadSome(fd, &req.body, deadline) <= 0) return;
      }
      req.body.resize(length);
      if (auto it = headers.find("transfer-encoding");
          it != headers.end() && Lower(it->second) == "chunked") {
        std::string raw = buf.substr(head_end + 4), body;
        while (!Dechunk(raw, &body)) {
          body.clear();
          if (raw.size() > kMaxBody || ReadSome(fd, &raw, deadline) <= 0) {
            return;
          }
        }
        req.body = std::move(body);
      }
      reply = handler_(req);
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    Reason(reply.status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(reply.body.size()) +
                    "\r\nConnection: close\r\n\r\n" + reply.body;
  WriteAll(fd, out, SteadyClock::now() + Ms(5000));
}

Result<HttpResult> UnixHttpCall(const std::string& socket_path,
                                const std::string& method,
                                const std::string& target,
                                const std::string& body, Ms timeout) {
  LK_ASSIGN_OR_RETURN(sockaddr_un addr, AddressOf(socket_path));
  const auto deadline = SteadyClock::now() + timeout;
  int err = 0;
  const int fd = ConnectTo(addr, &err);
  if (fd < 0) {
    if (err == ENOENT) {
      return base::NotFoundError("no control socket at " + socket_path + ": " +
                                 Hint(socket_path));
    }
    if (err == ECONNREFUSED) {
      return base::UnavailableError("nothing answers on control socket " +
                                    socket_path +
                                    " (left by a stopped "
                                    "process?): " +
                                    Hint(socket_path));
    }
    return base::ErrnoError("connect to control socket " + socket_path, err);
  }
  std::string req = method + " " + target +
                    " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: litekeep\r\n"
                    "Accept: application/json\r\nConnection: close\r\n";
  if (method != "GET") {
    req += "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!WriteAll(fd, req, deadline)) {
    const int e = errno;
    ::close(fd);
    return base::ErrnoError("send to control socket " + socket_path, e);
  }
  std::string buf;
  size_t head_end = std::string::npos;
  size_t want = std::string::npos;  // body length when known
  bool chunked = false;
  HttpResult out;
  for (;;) {
    if (head_end == std::string::npos &&
        (head_end = buf.find("\r\n\r\n")) != std::string::npos) {
      std::string first;
      std::map<std::string, std::string> headers;
      ParseHead(buf.substr(0, head_end), &first, &headers);
      const size_t sp = first.find(' ');
      out.status =
          sp == std::string::npos ? 0 : std::atoi(first.c_str() + sp + 1);
      if (auto it = headers.find("content-length"); it != headers.end()) {
        want = std::strtoul(it->second.c_str(), nullptr, 10);
      }
      if (auto it = headers.find("transfer-encoding");
          it != headers.end() && Lower(it->second) == "chunked") {
        chunked = true;
      }
    }
    if (head_end != std::string::npos) {
      const std::string rest = buf.substr(head_end + 4);
      if (chunked) {
        std::string decoded;
        if (Dechunk(rest, &decoded)) {
          out.body = std::move(decoded);
          break;
        }
      } else if (want != std::string::npos && rest.size() >= want) {
        out.body = rest.substr(0, want);
        break;
      }
    }
    const ssize_t n = ReadSome(fd, &buf, deadline);
    if (n == 0) {
      if (head_end == std::string::npos) {
        ::close(fd);
        return base::UnavailableError("control socket " + socket_path +
                                      " closed the connection without an "
                                      "answer");
      }
      out.body = buf.substr(head_end + 4);
      break;
    }
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      if (e == ETIMEDOUT) {
        return base::UnavailableError(
            "no answer from control socket " + socket_path + " within " +
            std::to_string(timeout.count() / 1000) + "s (-timeout)");
      }
      return base::ErrnoError("read from control socket " + socket_path, e);
    }
    if (buf.size() > kMaxBody + kMaxHead) {
      ::close(fd);
      return base::CorruptError("answer from control socket " + socket_path +
                                " is too large");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace litekeep::control
