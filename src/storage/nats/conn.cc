// The NATS client protocol over one TCP connection (docs/storage_layout.md
// "NATS"): a line-oriented text protocol with length-prefixed payloads,
// optionally inside TLS, with user/password, token, nkey and JWT logins.
#include "storage/nats/conn.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/text.h"
#include "storage/hash.h"
#include "storage/nats/nkey.h"

namespace litekeep::storage::nats {
namespace {

using base::Status;
using Clock = std::chrono::steady_clock;

// The reason of a server's "-ERR 'reason'" line.
std::string ErrReason(std::string_view line) {
  std::string_view r = line.substr(4);
  while (!r.empty() && (r.front() == ' ' || r.front() == '\'')) {
    r.remove_prefix(1);
  }
  while (!r.empty() && (r.back() == ' ' || r.back() == '\'')) {
    r.remove_suffix(1);
  }
  return std::string(r);
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseSize(std::string_view text, size_t* out) {
  if (text.empty() || text.size() > 12) return false;
  size_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

// Parses an HMSG header block into m.
bool ParseHeaders(std::string_view block, Msg* m) {
  size_t eol = block.find("\r\n");
  if (eol == std::string_view::npos) return false;
  std::string_view first = block.substr(0, eol);
  if (first.substr(0, 8) != "NATS/1.0") return false;
  std::string_view rest = first.substr(8);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.size() >= 3) {
    size_t code = 0;
    if (ParseSize(rest.substr(0, 3), &code)) {
      m->status = static_cast<int>(code);
      std::string_view text = rest.substr(3);
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      m->status_text = std::string(text);
    }
  }
  size_t pos = eol + 2;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    m->headers.emplace_back(std::string(line.substr(0, colon)),
                            std::string(value));
  }
  return true;
}

}  // namespace

std::optional<std::string> Msg::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (base::Lower(k) == base::Lower(name)) return v;
  }
  return std::nullopt;
}

std::string EncodeHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "NATS/1.0\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  return out + "\r\n";
}

Conn::~Conn() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
}

std::string Conn::TlsVersion() const {
  return tls_ != nullptr ? tls_->Version() : std::string();
}

Conn::Io Conn::SendSome(std::string_view data, size_t* put,
                        std::string* error) {
  if (tls_ != nullptr) {
    return tls_->Write(data.data(), data.size(), put, error);
  }
  for (;;) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      *put = static_cast<size_t>(n);
      return Io::kDone;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWantWrite;
    *error = std::strerror(errno);
    return Io::kError;
  }
}

Conn::Io Conn::RecvSome(char* buf, size_t n, size_t* got, std::string* error) {
  if (tls_ != nullptr) return tls_->Read(buf, n, got, error);
  for (;;) {
    ssize_t r = ::recv(fd_, buf, n, 0);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Io::kDone;
    }
    if (r == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWantRead;
    *error = std::strerror(errno);
    return Io::kError;
  }
}

bool Conn::WaitFor(Io io, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, static_cast<short>(io == Io::kWantWrite ? POLLOUT : POLLIN),
             0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

Status Conn::Fail(Status s) {
  broken_ = true;
  return s;
}

Result<std::unique_ptr<Conn>> Conn::Dial(const NatsOptions& options) {
  std::unique_ptr<Conn> c(new Conn(options));
  const std::string where = options.Describe();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(options.port);
  int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return base::UnavailableError("connect " + where + ": " +
                                  ::gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 ai->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      r = ::poll(&p, 1, static_cast<int>(options.connect_timeout.count()));
      if (r == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        r = err == 0 ? 0 : -1;
        errno = err;
      } else {
        const int saved = r == 0 ? ETIMEDOUT : errno;
        r = -1;
        errno = saved;
      }
    }
    if (r == 0) {
      c->fd_ = fd;
      break;
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (c->fd_ < 0) {
    return base::UnavailableError("connect " + where + ": " + last);
  }
  int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  LK_RETURN_IF_ERROR(c->Handshake());
  return c;
}

Status Conn::IoFailed(Io io, const std::string& error, std::string_view what) {
  if (io == Io::kClosed) {
    return Fail(base::UnavailableError("connection to " + opts_.Describe() +
                                       " closed by the server"));
  }
  if (io == Io::kRefused) {
    return Fail(base::PermissionDeniedError(opts_.Describe() + ": " + error));
  }
  return Fail(base::UnavailableError(std::string(what) + opts_.Describe() +
                                     ": " + error));
}

Status Conn::WriteAll(std::string_view data) {
  if (broken_) return base::UnavailableError("connection is broken");
  const auto deadline = Clock::now() + opts_.io_timeout;
  while (!data.empty()) {
    size_t put = 0;
    std::string error;
    const Io io = SendSome(data, &put, &error);
    if (io == Io::kDone) {
      data.remove_prefix(put);
      continue;
    }
    if (io == Io::kWantRead || io == Io::kWantWrite) {
      if (WaitFor(io, deadline)) continue;
      return Fail(base::UnavailableError("send to " + opts_.Describe() +
                                         ": timed out"));
    }
    return IoFailed(io, error, "send to ");
  }
  return Status::Ok();
}

Status Conn::Fill(size_t n) {
  if (broken_) return base::UnavailableError("connection is broken");
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const auto deadline = Clock::now() + opts_.io_timeout;
  while (buf_.size() - pos_ < n) {
    const size_t old = buf_.size();
    buf_.resize(old + (256 << 10));
    size_t got = 0;
    std::string error;
    const Io io = RecvSome(buf_.data() + old, 256 << 10, &got, &error);
    buf_.resize(old + (io == Io::kDone ? got : 0));
    if (io == Io::kDone) continue;
    if (io == Io::kWantRead || io == Io::kWantWrite) {
      if (WaitFor(io, deadline)) continue;
      return Fail(base::UnavailableError(
          "no answer from " + opts_.Describe() + " within " +
          std::to_string(opts_.io_timeout.count()) + " ms"));
    }
    return IoFailed(io, error, "connection to ");
  }
  return Status::Ok();
}

Result<std::string> Conn::ReadLine() {
  for (;;) {
    size_t eol = buf_.find("\r\n", pos_);
    if (eol != std::string::npos) {
      std::string line = buf_.substr(pos_, eol - pos_);
      pos_ = eol + 2;
      return line;
    }
    if (buf_.size() - pos_ > (64 << 10)) {
      return Fail(base::UnavailableError("protocol line from " +
                                         opts_.Describe() + " is too long"));
    }
    LK_RETURN_IF_ERROR(Fill(buf_.size() - pos_ + 1));
  }
}

Status Conn::Handshake() {
  const std::string where = opts_.Describe();
  LK_ASSIGN_OR_RETURN(std::string info, ReadLine());
  if (info.rfind("INFO ", 0) != 0) {
    return Fail(base::UnavailableError(
        where + " is not a NATS server (first line is not INFO)"));
  }
  auto j = nlohmann::json::parse(info.substr(5), nullptr, false);
  if (!j.is_object()) {
    return Fail(base::UnavailableError(where + ": unreadable INFO"));
  }
  const bool tls_required = j.value("tls_required", false);
  if (opts_.tls && !tls_required && !j.value("tls_available", false)) {
    return Fail(base::FailedPreconditionError(
        where +
        " does not offer TLS, which tls, root-cas or client-cert ask for "
        "(the server has no tls block)"));
  }
  if (tls_required || opts_.tls) {
    if (pos_ != buf_.size()) {
      return Fail(base::UnavailableError(
          where + " sent data before the TLS handshake"));
    }
    auto t =
        TlsSession::Connect(fd_, opts_, Clock::now() + opts_.connect_timeout);
    if (!t.ok()) return Fail(t.status());
    tls_ = std::move(*t);
  }
  if (!j.value("headers", false)) {
    return Fail(base::FailedPreconditionError(
        where +
        " does not support message headers (nats-server 2.2 or "
        "newer is needed)"));
  }
  max_payload_ = j.value("max_payload", int64_t{1} << 20);
  nlohmann::json connect = {{"verbose", false},
                            {"pedantic", false},
                            {"tls_required", tls_ != nullptr},
                            {"name", "litekeep"},
                            {"lang", "c++"},
                            {"version", "1"},
                            {"protocol", 1},
                            {"headers", true},
                            {"no_responders", true}};
  LK_RETURN_IF_ERROR(AddLogin(j.value("nonce", std::string()), &connect));
  LK_RETURN_IF_ERROR(WriteAll("CONNECT " + connect.dump() + "\r\nPING\r\n"));
  for (;;) {
    LK_ASSIGN_OR_RETURN(std::string line, ReadLine());
    if (line == "PONG") break;
    if (line == "PING") {
      LK_RETURN_IF_ERROR(WriteAll("PONG\r\n"));
      continue;
    }
    if (line.rfind("-ERR", 0) == 0) {
      const std::string reason = ErrReason(line);
      if (base::Lower(reason).find("authorization") != std::string::npos ||
          base::Lower(reason).find("authentication") != std::string::npos) {
        return Fail(base::PermissionDeniedError(
            where + " refused the login with " + opts_.LoginText() + " (" +
            reason + "); check the credentials (docs/config.md \"NATS\")"));
      }
      return Fail(base::UnavailableError(where + ": " + reason));
    }
    // +OK, INFO: nothing to do.
  }
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1) {
    return Fail(base::InternalError("no random bytes for the inbox"));
  }
  inbox_ = "_INBOX.";
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (unsigned char b : r) inbox_ += kAlphabet[b % 62];
  inbox_ += ".";
  LK_ASSIGN_OR_RETURN(inbox_sid_, Subscribe(inbox_ + "*"));
  return Status::Ok();
}

Status Conn::AddLogin(const std::string& nonce, nlohmann::json* connect) {
  nlohmann::json& c = *connect;
  if (!opts_.username.empty()) {
    c["user"] = opts_.username;
    c["pass"] = opts_.password;
    return Status::Ok();
  }
  if (!opts_.token.empty()) {
    c["auth_token"] = opts_.token;
    return Status::Ok();
  }
  if (opts_.creds.empty() && opts_.seed.empty()) return Status::Ok();
  // nkey or JWT login: sign the server's nonce with the user's seed.
  UserCreds creds{opts_.jwt, opts_.seed};
  std::string where = "nats: seed";
  if (!opts_.creds.empty()) {
    // Read at every connect, as nats.go does (a rotated file is picked up).
    where = "creds file " + opts_.creds;
    std::ifstream in(opts_.creds);
    if (!in) {
      return Fail(base::InvalidArgumentError("creds: cannot read " +
                                             opts_.creds + " (" +
                                             std::strerror(errno) + ")"));
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string contents = text.str();
    auto parsed = ParseCreds(contents, where);
    OPENSSL_cleanse(contents.data(), contents.size());
    if (!parsed.ok()) return Fail(parsed.status());
    creds = *std::move(parsed);
  }
  auto kp = KeyPair::FromSeed(creds.seed);
  OPENSSL_cleanse(creds.seed.data(), creds.seed.size());
  if (!kp.ok()) {
    return Fail(
        base::InvalidArgumentError(where + ": " + kp.status().message()));
  }
  if (!creds.jwt.empty()) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    Status s = CheckUserJwt(creds.jwt, *kp, now, where);
    if (!s.ok()) return Fail(s);
    c["jwt"] = creds.jwt;
  } else {
    c["nkey"] = kp->public_key();
  }
  // nats.go signs the nonce as sent (empty when the server sent none).
  auto sig = kp->Sign(nonce);
  if (!sig.ok()) return Fail(sig.status());
  c["sig"] = Base64UrlEncode(*sig);
  return Status::Ok();
}

Status Conn::Publish(std::string_view subject, std::string_view reply,
                     std::string_view headers, std::string_view data) {
  std::string line;
  line.reserve(subject.size() + reply.size() + 40);
  line += headers.empty() ? "PUB " : "HPUB ";
  line += subject;
  if (!reply.empty()) {
    line += ' ';
    line += reply;
  }
  if (!headers.empty()) {
    line += ' ' + std::to_string(headers.size());
  }
  line += ' ' + std::to_string(headers.size() + data.size()) + "\r\n";
  ++published_;
  // One write for small messages; large payloads are sent in place.
  if (data.size() < (16 << 10)) {
    line += headers;
    line += data;
    line += "\r\n";
    return WriteAll(line);
  }
  line += headers;
  LK_RETURN_IF_ERROR(WriteAll(line));
  LK_RETURN_IF_ERROR(WriteAll(data));
  return WriteAll("\r\n");
}

Result<uint64_t> Conn::Subscribe(std::string_view subject) {
  const uint64_t sid = next_sid_++;
  LK_RETURN_IF_ERROR(WriteAll("SUB " + std::string(subject) + " " +
                              std::to_string(sid) + "\r\n"));
  return sid;
}

Status Conn::Unsubscribe(uint64_t sid) {
  return WriteAll("UNSUB " + std::to_string(sid) + "\r\n");
}

std::string Conn::NewReply() { return inbox_ + std::to_string(next_reply_++); }

Result<Msg> Conn::Next() {
  for (;;) {
    LK_ASSIGN_OR_RETURN(std::string line, ReadLine());
    if (line == "PING") {
      LK_RETURN_IF_ERROR(WriteAll("PONG\r\n"));
      continue;
    }
    if (line == "PONG" || line == "+OK" || line.rfind("INFO ", 0) == 0) {
      continue;
    }
    if (line.rfind("-ERR", 0) == 0) {
      return Fail(
          base::UnavailableError(opts_.Describe() + ": " + ErrReason(line)));
    }
    const bool hmsg = line.rfind("HMSG ", 0) == 0;
    if (!hmsg && line.rfind("MSG ", 0) != 0) {
      return Fail(
          base::UnavailableError("unexpected line from " + opts_.Describe()));
    }
    auto f = Fields(line);
    const size_t want = hmsg ? 5 : 4;
    if (f.size() != want && f.size() != want + 1) {
      return Fail(base::UnavailableError("malformed message line from " +
                                         opts_.Describe()));
    }
    Msg m;
    m.subject = std::string(f[1]);
    size_t sid = 0, hdr = 0, total = 0;
    bool ok = ParseSize(f[2], &sid);
    if (f.size() == want + 1) m.reply = std::string(f[3]);
    ok = ok && ParseSize(f.back(), &total);
    if (hmsg) ok = ok && ParseSize(f[f.size() - 2], &hdr) && hdr <= total;
    if (!ok) {
      return Fail(base::UnavailableError("malformed message line from " +
                                         opts_.Describe()));
    }
    m.sid = sid;
    LK_RETURN_IF_ERROR(Fill(total + 2));
    if (hmsg && !ParseHeaders(std::string_view(buf_).substr(pos_, hdr), &m)) {
      return Fail(
          base::UnavailableError("malformed headers from " + opts_.Describe()));
    }
    m.data = buf_.substr(pos_ + hdr, total - hdr);
    pos_ += total + 2;
    return m;
  }
}

Result<Msg> Conn::Request(std::string_view subject, std::string_view headers,
                          std::string_view data, std::vector<Msg>* others) {
  const std::string reply = NewReply();
  LK_RETURN_IF_ERROR(Publish(subject, reply, headers, data));
  for (;;) {
    LK_ASSIGN_OR_RETURN(Msg m, Next());
    if (m.sid == inbox_sid_ && m.subject == reply) return m;
    if (m.sid != inbox_sid_ && others != nullptr) {
      others->push_back(std::move(m));
    }
  }
}

}  // namespace litekeep::storage::nats
