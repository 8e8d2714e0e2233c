// Plain-socket implementation of FaultProxy: one thread per connection,
// one request per connection, faults drawn from a seeded RNG.
#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace litekeep::testing {
namespace {

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t k = ::send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0) {
      if (k < 0 && errno == EINTR) continue;
      return false;
    }
    data += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

// Closes with RST instead of FIN.
void Reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads one request (headers + Content-Length body); "" on EOF/error.
std::string ReadRequest(int fd) {
  std::string buf;
  char tmp[65536];
  size_t header_end = std::string::npos;
  size_t need = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string head = Lower(buf.substr(0, header_end));
        size_t cl = head.find("\r\ncontent-length:");
        size_t len = cl == std::string::npos
                         ? 0
                         : std::strtoull(head.c_str() + cl + 17, nullptr, 10);
        need = header_end + 4 + len;
      }
    }
    if (header_end != std::string::npos && buf.size() >= need) return buf;
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return "";
    buf.append(tmp, static_cast<size_t>(n));
  }
}

// Rewrites the Connection header to close (one request per connection).
std::string WithConnectionClose(const std::string& req) {
  size_t end = req.find("\r\n\r\n");
  std::string head = req.substr(0, end);
  std::string out;
  size_t pos = 0;
  bool first = true;
  while (pos <= head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    if (first || Lower(line).rfind("connection:", 0) != 0) {
      out += line + "\r\n";
    }
    first = false;
    pos = e + 2;
  }
  out += "Connection: close\r\n\r\n";
  return out + req.substr(end + 4);
}

std::string Forward(int upstream_port, const std::string& req) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string resp;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      SendAll(fd, req.data(), req.size())) {
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
      if (n <= 0) break;
      resp.append(tmp, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return resp;
}

// True for "GET /<...>.ltx[?...] HTTP/1.1".
bool IsLtxGet(const std::string& req) {
  if (req.rfind("GET ", 0) != 0) return false;
  const size_t end = req.find(' ', 4);
  if (end == std::string::npos) return false;
  std::string target = req.substr(4, end - 4);
  if (size_t q = target.find('?'); q != std::string::npos) target.resize(q);
  return target.size() > 4 && target.compare(target.size() - 4, 4, ".ltx") == 0;
}

// True for an S3 CompleteMultipartUpload: "POST /<key>?uploadId=...".
bool IsComplete(const std::string& req) {
  if (req.rfind("POST ", 0) != 0) return false;
  const std::string line = req.substr(0, req.find("\r\n"));
  return line.find("?uploadId=") != std::string::npos ||
         line.find("&uploadId=") != std::string::npos;
}

// The head of a response without its Content-Length line, and its body.
void SplitResponse(const std::string& resp, std::string* head,
                   std::string* body) {
  const size_t end = resp.find("\r\n\r\n");
  const std::string h = end == std::string::npos ? resp : resp.substr(0, end);
  *body = end == std::string::npos ? "" : resp.substr(end + 4);
  head->clear();
  size_t pos = 0;
  while (pos <= h.size()) {
    size_t e = h.find("\r\n", pos);
    if (e == std::string::npos) e = h.size();
    std::string line = h.substr(pos, e - pos);
    if (Lower(line).rfind("content-length:", 0) != 0) *head += line + "\r\n";
    pos = e + 2;
  }
}

std::string ErrorResponse(int status, const char* reason, const char* code) {
  std::string body =
      std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") +
      code + "</Code><Message>injected by fault proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// The value of header `name` (lower-case) in the request head, or "".
std::string HeaderValue(const std::string& req, const std::string& name) {
  const std::string head = Lower(req.substr(0, req.find("\r\n\r\n")));
  size_t at = head.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 3;
  size_t end = head.find("\r\n", at);
  std::string v = req.substr(at, end - at);
  v.erase(0, v.find_first_not_of(' '));
  v.erase(v.find_last_not_of(" \r") + 1);
  return v;
}

std::string Unquoted(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
  return s;
}

// The HEAD of a PUT's target: same request line and headers, no body, no
// conditions, the empty payload hash.
std::string HeadFor(const std::string& put) {
  const size_t end = put.find("\r\n\r\n");
  const std::string head = put.substr(0, end);
  std::string out;
  size_t pos = 0;
  bool first = true;
  while (pos <= head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    const std::string l = Lower(line);
    if (first) {
      out += "HEAD" + line.substr(line.find(' ')) + "\r\n";
    } else if (l.rfind("content-", 0) != 0 && l.rfind("if-", 0) != 0 &&
               l.rfind("connection:", 0) != 0 &&
               l.rfind("x-amz-content-sha256:", 0) != 0) {
      out += line + "\r\n";
    }
    first = false;
    pos = e + 2;
  }
  out +=
      "x-amz-content-sha256: "
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
      "Connection: close\r\n\r\n";
  return out;
}

}  // namespace

struct FaultProxy::Impl {
  bool conditional_puts = false;
  std::mutex conditional_mu;  // one conditional PUT at a time
  std::atomic<uint64_t> conditional_refusals{0};
  int upstream_port = 0;
  int listen_fd = -1;
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  FaultRates rates;
  std::string canned;
  BodyFault body_fault = BodyFault::kNone;
  size_t drip_rate = 4096;
  CompleteFault complete_fault = CompleteFault::kNone;
  std::chrono::milliseconds complete_hold{0};
  uint64_t completes = 0;
  std::atomic<uint64_t> endless_sent{0};
  FaultCounts counts;
  std::vector<std::string> heads;
  std::mt19937_64 rng;
  std::thread acceptor;
  std::vector<std::thread> workers;

  enum class Fault {
    kNone,
    k503,
    k500,
    kDelay,
    kStall,
    kReset,
    kTruncate,
    kDribble
  };

  Fault Pick(bool* reset_before) {
    std::lock_guard<std::mutex> lock(mu);
    ++counts.requests;
    double x = std::uniform_real_distribution<double>(0, 1)(rng);
    *reset_before = rng() % 2 == 0;
    const std::pair<double, Fault> table[] = {
        {rates.slow_down_503, Fault::k503}, {rates.internal_500, Fault::k500},
        {rates.delay, Fault::kDelay},       {rates.stall, Fault::kStall},
        {rates.reset, Fault::kReset},       {rates.truncate, Fault::kTruncate},
        {rates.dribble, Fault::kDribble}};
    for (const auto& [rate, fault] : table) {
      if (x < rate) {
        switch (fault) {
          case Fault::k503:
            ++counts.slow_down_503;
            break;
          case Fault::k500:
            ++counts.internal_500;
            break;
          case Fault::kDelay:
            ++counts.delay;
            break;
          case Fault::kStall:
            ++counts.stall;
            break;
          case Fault::kReset:
            ++counts.reset;
            break;
          case Fault::kTruncate:
            ++counts.truncate;
            break;
          case Fault::kDribble:
            ++counts.dribble;
            break;
          case Fault::kNone:
            break;
        }
        return fault;
      }
      x -= rate;
    }
    return Fault::kNone;
  }

  void Serve(int fd) {
    std::string req = ReadRequest(fd);
    if (req.empty()) {
      ::close(fd);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      heads.push_back(req.substr(0, req.find("\r\n\r\n")));
    }
    bool reset_before = false;
    Fault f = Pick(&reset_before);
    FaultRates r;
    std::string canned_resp;
    {
      std::lock_guard<std::mutex> lock(mu);
      r = rates;
      canned_resp = canned;
    }
    if (!canned_resp.empty()) {
      SendAll(fd, canned_resp.data(), canned_resp.size());
      ::close(fd);
      return;
    }
    bool conditional;
    {
      std::lock_guard<std::mutex> lock(mu);
      conditional = conditional_puts;
    }
    const std::string if_none = HeaderValue(req, "if-none-match");
    const std::string if_match = HeaderValue(req, "if-match");
    if (conditional && req.rfind("PUT ", 0) == 0 &&
        (!if_none.empty() || !if_match.empty())) {
      std::lock_guard<std::mutex> cond_lock(conditional_mu);
      const std::string head = Forward(upstream_port, HeadFor(req));
      const bool exists = head.rfind("HTTP/1.1 200", 0) == 0 ||
                          head.rfind("HTTP/1.0 200", 0) == 0;
      const std::string etag = Unquoted(HeaderValue(head, "etag"));
      const bool refuse =
          (if_none == "*" && exists) ||
          (!if_match.empty() && (!exists || etag != Unquoted(if_match)));
      std::string resp =
          refuse
              ? ErrorResponse(412, "Precondition Failed", "PreconditionFailed")
              : Forward(upstream_port, WithConnectionClose(req));
      if (refuse) ++conditional_refusals;
      SendAll(fd, resp.data(), resp.size());
      ::close(fd);
      return;
    }
    if (IsComplete(req)) {
      CompleteFault cf;
      std::chrono::milliseconds hold;
      uint64_t nth;
      {
        std::lock_guard<std::mutex> lock(mu);
        cf = complete_fault;
        hold = complete_hold;
        nth = ++completes;
      }
      if (cf != CompleteFault::kNone) {
        ServeComplete(fd, req, cf, hold, nth);
        return;
      }
    }
    BodyFault body_fault;
    size_t drip_rate;
    {
      std::lock_guard<std::mutex> lock(mu);
      body_fault = this->body_fault;
      drip_rate = this->drip_rate;
    }
    if (body_fault != BodyFault::kNone && IsLtxGet(req)) {
      std::string resp = Forward(upstream_port, WithConnectionClose(req));
      if (resp.rfind("HTTP/1.1 200", 0) == 0 ||
          resp.rfind("HTTP/1.0 200", 0) == 0) {
        ServeBodyFault(fd, resp, body_fault, drip_rate);
        return;
      }
      SendAll(fd, resp.data(), resp.size());
      ::close(fd);
      return;
    }
    switch (f) {
      case Fault::k503: {
        std::string resp = ErrorResponse(503, "Slow Down", "SlowDown");
        SendAll(fd, resp.data(), resp.size());
        ::close(fd);
        return;
      }
      case Fault::k500: {
        std::string resp =
            ErrorResponse(500, "Internal Server Error", "InternalError");
        SendAll(fd, resp.data(), resp.size());
        ::close(fd);
        return;
      }
      case Fault::kReset:
        if (reset_before) {
          Reset(fd);
          return;
        }
        Forward(upstream_port, WithConnectionClose(req));
        Reset(fd);
        return;
      default:
        break;
    }
    if (f == Fault::kDelay) std::this_thread::sleep_for(r.delay_time);
    std::string resp = Forward(upstream_port, WithConnectionClose(req));
    if (f == Fault::kStall) std::this_thread::sleep_for(r.stall_time);
    if (f == Fault::kTruncate) {
      size_t body = resp.find("\r\n\r\n");
      size_t body_len = body == std::string::npos ? 0 : resp.size() - body - 4;
      size_t keep =
          body == std::string::npos ? resp.size() / 2 : body + 4 + body_len / 2;
      SendAll(fd, resp.data(), keep);
      Reset(fd);
      return;
    }
    if (f == Fault::kDribble) {
      size_t body = resp.find("\r\n\r\n");
      size_t keep = body == std::string::npos
                        ? resp.size() / 2
                        : std::min(resp.size(), body + 4 + 3);
      SendAll(fd, resp.data(), keep);
      auto until = std::chrono::steady_clock::now() + r.stall_time;
      while (!stop.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ::close(fd);
      return;
    }
    SendAll(fd, resp.data(), resp.size());
    ::close(fd);
  }

  void ServeComplete(int fd, const std::string& req, CompleteFault fault,
                     std::chrono::milliseconds hold, uint64_t nth) {
    if (fault == CompleteFault::kLoseFirstThenNoSuchUpload && nth > 1) {
      std::string resp = ErrorResponse(404, "Not Found", "NoSuchUpload");
      SendAll(fd, resp.data(), resp.size());
      ::close(fd);
      return;
    }
    std::string resp = Forward(upstream_port, WithConnectionClose(req));
    if (fault == CompleteFault::kHold) {
      auto until = std::chrono::steady_clock::now() + hold;
      while (!stop.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } else if (nth == 1) {
      Reset(fd);
      return;
    }
    SendAll(fd, resp.data(), resp.size());
    ::close(fd);
  }

  void ServeBodyFault(int fd, const std::string& resp, BodyFault fault,
                      size_t drip_rate) {
    std::string head, body;
    SplitResponse(resp, &head, &body);
    switch (fault) {
      case BodyFault::kEndless: {
        std::string out = head + "\r\n" + body;
        if (!SendAll(fd, out.data(), out.size())) break;
        std::string junk(64 << 10, 'J');
        for (uint64_t sent = 0; sent < (uint64_t{1} << 30) && !stop.load();
             sent += junk.size()) {
          if (!SendAll(fd, junk.data(), junk.size())) break;
          endless_sent += junk.size();
        }
        break;
      }
      case BodyFault::kOverlong: {
        std::string extra(64 << 10, 'X');
        std::string out = head + "Content-Length: " +
                          std::to_string(body.size() + extra.size()) +
                          "\r\n\r\n" + body + extra;
        SendAll(fd, out.data(), out.size());
        break;
      }
      case BodyFault::kDrip: {
        std::string out = head +
                          "Content-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n";
        if (!SendAll(fd, out.data(), out.size())) break;
        const size_t chunk = std::max<size_t>(1, drip_rate / 10);
        for (size_t off = 0; off < body.size() && !stop.load(); off += chunk) {
          const size_t n = std::min(chunk, body.size() - off);
          if (!SendAll(fd, body.data() + off, n)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        break;
      }
      case BodyFault::kShort: {
        const std::string half = body.substr(0, body.size() / 2);
        std::string out = head +
                          "Content-Length: " + std::to_string(half.size()) +
                          "\r\n\r\n" + half;
        SendAll(fd, out.data(), out.size());
        break;
      }
      case BodyFault::kNone:
        SendAll(fd, resp.data(), resp.size());
        break;
    }
    ::close(fd);
  }

  void AcceptLoop() {
    while (!stop.load()) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int fd = ::accept(listen_fd, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu);
      workers.emplace_back([this, fd] { Serve(fd); });
    }
  }
};

FaultProxy::FaultProxy(int upstream_port, FaultRates rates, uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  impl_->upstream_port = upstream_port;
  impl_->rates = rates;
  impl_->rng.seed(seed);
  impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(impl_->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(impl_->listen_fd, 128);
  socklen_t len = sizeof(addr);
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  impl_->acceptor = std::thread([this] { impl_->AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  impl_->stop = true;
  impl_->acceptor.join();
  ::close(impl_->listen_fd);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    workers.swap(impl_->workers);
  }
  for (auto& t : workers) t.join();
}

std::string FaultProxy::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void FaultProxy::set_rates(const FaultRates& rates) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->rates = rates;
}

void FaultProxy::set_canned_response(std::string raw) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->canned = std::move(raw);
}

void FaultProxy::set_body_fault(BodyFault fault, size_t drip_bytes_per_sec) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->body_fault = fault;
  impl_->drip_rate = drip_bytes_per_sec;
}

void FaultProxy::set_complete_fault(CompleteFault fault,
                                    std::chrono::milliseconds hold) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->complete_fault = fault;
  impl_->complete_hold = hold;
}

uint64_t FaultProxy::completes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->completes;
}

void FaultProxy::set_conditional_puts(bool on) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->conditional_puts = on;
}

uint64_t FaultProxy::conditional_refusals() const {
  return impl_->conditional_refusals.load();
}

uint64_t FaultProxy::endless_bytes_sent() const {
  return impl_->endless_sent.load();
}

std::vector<std::string> FaultProxy::request_heads() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->heads;
}

FaultCounts FaultProxy::counts() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counts;
}

}  // namespace litekeep::testing
