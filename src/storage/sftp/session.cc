// SSH connection, authentication and libssh2 error mapping for the SFTP
// backend.
#include "storage/sftp/session.h"

#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "storage/sftp/client.h"
#include "storage/sftp/host_key.h"

namespace litekeep::storage::sftp {
namespace {

constexpr char kPosixRename[] = "posix-rename@openssh.com";
// Host-key algorithms in OpenSSH's default order (libssh2 ignores those it
// does not know).
constexpr char kOpenSshHostKeyOrder[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "rsa-sha2-512,rsa-sha2-256,ssh-rsa";

// Blocks libssh2 holds for the connections of this process (each
// session allocates through the functions below): zero when every
// connection is closed.
std::atomic<int64_t> g_blocks{0};

void* CountedAlloc(size_t n, void** /*abstract*/) {
  void* p = std::malloc(n);
  if (p != nullptr) g_blocks.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void CountedFree(void* p, void** /*abstract*/) {
  if (p == nullptr) return;
  g_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}

void* CountedRealloc(void* p, size_t n, void** abstract) {
  if (p == nullptr) return CountedAlloc(n, abstract);
  if (n == 0) {
    CountedFree(p, abstract);
    return nullptr;
  }
  return std::realloc(p, n);
}

void InitLibrary() {
  static const int rc = libssh2_init(0);
  (void)rc;
}

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads a u32 at *pos; false past the end.
bool GetU32(const std::string& in, size_t* pos, uint32_t* v) {
  if (*pos + 4 > in.size()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data() + *pos);
  *v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
       uint32_t{p[3]};
  *pos += 4;
  return true;
}

bool GetString(const std::string& in, size_t* pos, std::string* s) {
  uint32_t n = 0;
  if (!GetU32(in, pos, &n) || *pos + n > in.size()) return false;
  *s = in.substr(*pos, n);
  *pos += n;
  return true;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Answers every keyboard-interactive prompt with the password (OpenSSH with
// PAM asks for it that way). The session's abstract pointer is the
// password.
void KbdIntCallback(const char* /*name*/, int /*name_len*/,
                    const char* /*instruction*/, int /*instruction_len*/,
                    int num_prompts,
                    const LIBSSH2_USERAUTH_KBDINT_PROMPT* /*prompts*/,
                    LIBSSH2_USERAUTH_KBDINT_RESPONSE* responses,
                    void** abstract) {
  const auto* password = static_cast<const std::string*>(*abstract);
  for (int i = 0; i < num_prompts; ++i) {
    // libssh2 frees the answers with the session's free function.
    auto* text =
        static_cast<char*>(CountedAlloc(password->size() + 1, nullptr));
    if (text == nullptr) return;
    std::memcpy(text, password->data(), password->size());
    text[password->size()] = '\0';
    responses[i].text = text;
    responses[i].length = static_cast<unsigned int>(password->size());
  }
}

}  // namespace

int64_t LibsshBlocksInUse() { return g_blocks.load(std::memory_order_relaxed); }

Connection::Connection(const SftpOptions* options) : options_(options) {}

Connection::~Connection() { Reset(); }

void Connection::Reset() {
  if (session_ != nullptr) {
    // Never block on a connection that may be dead. In non-blocking mode
    // libssh2 answers EAGAIN while it waits for the server to confirm a
    // channel close, and then frees nothing: the SFTP state and the session
    // would leak. So tell the server goodbye (one message, no answer
    // awaited), shut the socket down, and only then free: every send and
    // receive now fails at once, which lets each step finish.
    libssh2_session_set_blocking(session_, 0);
    libssh2_session_disconnect(session_, "litekeep closing");
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    // A step that still says EAGAIN after a few tries is abandoned (a leak
    // is better than a hang); with the socket shut down it never does.
    auto finish = [](auto&& step) {
      for (int i = 0; i < 4 && step() == LIBSSH2_ERROR_EAGAIN; ++i) {
      }
    };
    // Handles before the SFTP channel: closing it frees their parent.
    for (LIBSSH2_SFTP_HANDLE* h : handles_) {
      finish([h] { return libssh2_sftp_close_handle(h); });
    }
    if (raw_ != nullptr) finish([this] { return libssh2_channel_free(raw_); });
    if (sftp_ != nullptr) {
      finish([this] { return libssh2_sftp_shutdown(sftp_); });
    }
    finish([this] { return libssh2_session_free(session_); });
  }
  handles_.clear();
  raw_ = nullptr;
  sftp_ = nullptr;
  session_ = nullptr;
  raw_tried_ = false;
  has_posix_rename_ = false;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

LIBSSH2_SFTP_HANDLE* Connection::OpenHandle(const std::string& path,
                                            unsigned long flags, long mode,
                                            int type) {
  LIBSSH2_SFTP_HANDLE* h = libssh2_sftp_open_ex(
      sftp_, path.data(), static_cast<unsigned int>(path.size()), flags, mode,
      type);
  if (h != nullptr) handles_.push_back(h);
  return h;
}

int Connection::CloseHandle(LIBSSH2_SFTP_HANDLE* handle) {
  auto it = std::find(handles_.begin(), handles_.end(), handle);
  if (it == handles_.end()) return LIBSSH2_ERROR_BAD_USE;
  handles_.erase(it);
  return libssh2_sftp_close_handle(handle);
}

base::Status Connection::Connect() {
  if (sftp_ != nullptr) return base::Status::Ok();
  base::Status s = ConnectOnce();
  if (!s.ok()) Reset();
  return s;
}

base::Status Connection::ConnectOnce() {
  InitLibrary();
  Reset();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const std::string port = std::to_string(options_->port);
  int gai = ::getaddrinfo(options_->host.c_str(), port.c_str(), &hints, &addrs);
  if (gai != 0) {
    return base::UnavailableError("cannot resolve host \"" + options_->host +
                                  "\": " + gai_strerror(gai));
  }
  std::string last = "no address";
  for (addrinfo* a = addrs; a != nullptr && fd_ < 0; a = a->ai_next) {
    int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 a->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(options_->connect_timeout.count()));
      if (rc == 0) {
        last = "no answer within " +
               std::to_string(options_->connect_timeout.count()) + " ms";
        ::close(fd);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    fd_ = fd;
  }
  ::freeaddrinfo(addrs);
  if (fd_ < 0) {
    return base::UnavailableError("cannot connect to " + options_->host +
                                  " port " + port + ": " + last);
  }

  session_ =
      libssh2_session_init_ex(&CountedAlloc, &CountedFree, &CountedRealloc,
                              const_cast<std::string*>(&options_->password));
  if (session_ == nullptr) {
    return base::InternalError("libssh2_session_init failed");
  }
  libssh2_session_set_blocking(session_, 1);
  libssh2_session_set_timeout(session_,
                              static_cast<long>(options_->io_timeout.count()));
  // Ask for the host-key type we can check: the pinned key's, else
  // OpenSSH's own order (ed25519 first), so that a known_hosts file written
  // by `ssh` holds the key the server shows us (libssh2 prefers ECDSA).
  std::string key_types = kOpenSshHostKeyOrder;
  if (!options_->host_key.empty()) {
    auto want = ParseHostKey(options_->host_key);
    if (want.ok() && !want->type.empty()) key_types = want->type;
  }
  // Only names this libssh2 knows: it drops the others from the list with
  // an overlapping memcpy (libssh2 1.10; ASan reports it).
  const char** algs = nullptr;
  const int n_algs =
      libssh2_session_supported_algs(session_, LIBSSH2_METHOD_HOSTKEY, &algs);
  if (n_algs > 0 && algs != nullptr) {
    std::string known;
    size_t from = 0;
    while (from <= key_types.size()) {
      size_t comma = key_types.find(',', from);
      if (comma == std::string::npos) comma = key_types.size();
      const std::string name = key_types.substr(from, comma - from);
      for (int i = 0; i < n_algs; ++i) {
        if (name == algs[i]) {
          known += (known.empty() ? "" : ",") + name;
          break;
        }
      }
      from = comma + 1;
    }
    libssh2_free(session_, algs);
    // A pinned type this libssh2 lacks: keep it, so the handshake fails
    // naming the missing method.
    if (!known.empty()) key_types = known;
  }
  libssh2_session_method_pref(session_, LIBSSH2_METHOD_HOSTKEY,
                              key_types.c_str());
  int rc = libssh2_session_handshake(session_, fd_);
  if (rc != 0) return SessionError("SSH handshake", rc);

  size_t key_len = 0;
  int key_type = 0;
  const char* key = libssh2_session_hostkey(session_, &key_len, &key_type);
  if (key == nullptr) {
    return base::UnavailableError("the server sent no host key");
  }
  LK_RETURN_IF_ERROR(VerifyHostKey(*options_, session_,
                                   std::string_view(key, key_len), key_type));
  LK_RETURN_IF_ERROR(Authenticate());
  sftp_ = libssh2_sftp_init(session_);
  if (sftp_ == nullptr) {
    return SessionError("start the SFTP subsystem",
                        libssh2_session_last_errno(session_));
  }
  ++generation_;
  return base::Status::Ok();
}

base::Status Connection::Authenticate() {
  const std::string& user = options_->user;
  const auto ulen = static_cast<unsigned int>(user.size());
  const char* list = libssh2_userauth_list(session_, user.data(), ulen);
  if (list == nullptr) {
    if (libssh2_userauth_authenticated(session_)) return base::Status::Ok();
    return SessionError("ask for authentication methods",
                        libssh2_session_last_errno(session_));
  }
  const std::string methods = list;
  auto offered = [&](std::string_view m) {
    return methods.find(m) != std::string::npos;
  };
  std::vector<std::string> tried;
  auto try_key = [&](const std::string& path,
                     bool explicit_key) -> Result<bool> {
    if (!offered("publickey")) return false;
    tried.push_back("public key " + path);
    const char* pass = options_->key_passphrase.empty()
                           ? nullptr
                           : options_->key_passphrase.c_str();
    int rc = libssh2_userauth_publickey_fromfile_ex(
        session_, user.data(), ulen, nullptr, path.c_str(), pass);
    if (rc == 0) return true;
    if (rc == LIBSSH2_ERROR_FILE && explicit_key) {
      char* msg = nullptr;
      libssh2_session_last_error(session_, &msg, nullptr, 0);
      return base::InvalidArgumentError(
          "key-path " + path +
          ": cannot use this private key (unreadable, wrong key-passphrase "
          "or a format libssh2 does not read): " +
          std::string(msg != nullptr ? msg : "unknown error"));
    }
    if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
        rc != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED && rc != LIBSSH2_ERROR_FILE) {
      return SessionError("authenticate with " + path, rc);
    }
    return false;
  };
  if (!options_->key_path.empty()) {
    LK_ASSIGN_OR_RETURN(bool ok, try_key(options_->key_path, true));
    if (ok) return base::Status::Ok();
  }
  if (!options_->password.empty()) {
    if (offered("password")) {
      tried.push_back("password");
      int rc = libssh2_userauth_password_ex(
          session_, user.data(), ulen, options_->password.data(),
          static_cast<unsigned int>(options_->password.size()), nullptr);
      if (rc == 0) return base::Status::Ok();
      if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
          rc != LIBSSH2_ERROR_PASSWORD_EXPIRED) {
        return SessionError("authenticate with a password", rc);
      }
    }
    if (offered("keyboard-interactive")) {
      tried.push_back("keyboard-interactive password");
      int rc = libssh2_userauth_keyboard_interactive_ex(session_, user.data(),
                                                        ulen, &KbdIntCallback);
      if (rc == 0) return base::Status::Ok();
      if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED) {
        return SessionError("authenticate with keyboard-interactive", rc);
      }
    }
  }
  if (options_->key_path.empty() && options_->password.empty()) {
    const char* home = std::getenv("HOME");
    for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
      std::string path =
          std::string(home != nullptr ? home : "") + "/.ssh/" + name;
      if (!FileExists(path)) continue;
      LK_ASSIGN_OR_RETURN(bool ok, try_key(path, false));
      if (ok) return base::Status::Ok();
    }
  }
  std::string tried_text;
  for (const auto& t : tried) {
    tried_text += (tried_text.empty() ? "" : ", ") + t;
  }
  if (tried_text.empty()) tried_text = "nothing the server accepts";
  return base::PermissionDeniedError(
      "authentication failed for user \"" + user + "\" (tried: " + tried_text +
      "; the server accepts: " + methods +
      "). Set key-path (a private key whose public key is in the user's "
      "authorized_keys) or password");
}

base::Status Connection::SessionError(std::string_view what, int rc) {
  std::string msg = "unknown error";
  if (session_ != nullptr) {
    char* text = nullptr;
    libssh2_session_last_error(session_, &text, nullptr, 0);
    if (text != nullptr && *text != '\0') msg = text;
  }
  std::string full = std::string(what) + ": " + msg;
  if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ||
      rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
    return base::PermissionDeniedError(full);
  }
  if (rc == LIBSSH2_ERROR_TIMEOUT) {
    full += " (no answer within " +
            std::to_string(options_->io_timeout.count()) + " ms)";
  }
  Reset();
  return base::UnavailableError(full);
}

base::Status Connection::Error(std::string_view what, int rc) {
  last_sftp_status_ = 0;
  if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL || sftp_ == nullptr) {
    return SessionError(what, rc);
  }
  const unsigned long st = libssh2_sftp_last_error(sftp_);
  last_sftp_status_ = st;
  const std::string w = std::string(what);
  switch (st) {
    case LIBSSH2_FX_NO_SUCH_FILE:
    case LIBSSH2_FX_NO_SUCH_PATH:
      return base::NotFoundError(w + ": no such file or directory");
    case LIBSSH2_FX_PERMISSION_DENIED:
    case LIBSSH2_FX_WRITE_PROTECT:
      return base::PermissionDeniedError(w + ": permission denied");
    case LIBSSH2_FX_FILE_ALREADY_EXISTS:
      return base::AlreadyExistsError(w + ": file exists");
    case LIBSSH2_FX_NO_CONNECTION:
    case LIBSSH2_FX_CONNECTION_LOST:
      Reset();
      return base::UnavailableError(w + ": connection lost");
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
      return base::IoError(w + ": no space left on the server");
    case LIBSSH2_FX_QUOTA_EXCEEDED:
      return base::IoError(w + ": quota exceeded");
    case LIBSSH2_FX_OP_UNSUPPORTED:
      return base::UnimplementedError(w + ": not supported by the server");
    default:
      return base::IoError(w + ": failed (SFTP status " + std::to_string(st) +
                           ")");
  }
}

base::Status Connection::RawWrite(const std::string& packet) {
  size_t done = 0;
  while (done < packet.size()) {
    ssize_t n =
        libssh2_channel_write(raw_, packet.data() + done, packet.size() - done);
    if (n < 0) return SessionError("posix-rename", static_cast<int>(n));
    done += static_cast<size_t>(n);
  }
  return base::Status::Ok();
}

base::Status Connection::RawRead(std::string* packet) {
  auto read_exact = [&](char* buf, size_t len) -> base::Status {
    size_t done = 0;
    while (done < len) {
      ssize_t n = libssh2_channel_read(raw_, buf + done, len - done);
      if (n < 0) return SessionError("posix-rename", static_cast<int>(n));
      if (n == 0) {
        Reset();
        return base::UnavailableError("the SFTP channel closed");
      }
      done += static_cast<size_t>(n);
    }
    return base::Status::Ok();
  };
  char head[4];
  LK_RETURN_IF_ERROR(read_exact(head, 4));
  const auto* p = reinterpret_cast<const unsigned char*>(head);
  uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                 (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (len == 0 || len > (1u << 18)) {
    Reset();
    return base::UnavailableError("malformed SFTP packet");
  }
  packet->assign(len, '\0');
  return read_exact(packet->data(), len);
}

base::Status Connection::OpenRawChannel() {
  raw_tried_ = true;
  raw_ = libssh2_channel_open_session(session_);
  if (raw_ == nullptr) {
    // Some servers allow one channel per connection: no extension then.
    return base::Status::Ok();
  }
  if (libssh2_channel_subsystem(raw_, "sftp") != 0) {
    libssh2_channel_free(raw_);
    raw_ = nullptr;
    return base::Status::Ok();
  }
  std::string init;
  PutU32(&init, 5);
  init.push_back(1);  // SSH_FXP_INIT
  PutU32(&init, 3);
  LK_RETURN_IF_ERROR(RawWrite(init));
  std::string reply;
  LK_RETURN_IF_ERROR(RawRead(&reply));
  size_t pos = 1;
  uint32_t version = 0;
  if (reply[0] != 2 || !GetU32(reply, &pos, &version)) {  // SSH_FXP_VERSION
    return base::Status::Ok();
  }
  std::string name, data;
  while (GetString(reply, &pos, &name) && GetString(reply, &pos, &data)) {
    if (name == kPosixRename) has_posix_rename_ = true;
  }
  return base::Status::Ok();
}

base::Status Connection::PosixRename(const std::string& from,
                                     const std::string& to) {
  const std::string what = "rename " + from + " to " + to;
  if (!raw_tried_) LK_RETURN_IF_ERROR(OpenRawChannel());
  if (!has_posix_rename_) {
    return base::UnimplementedError(what + ": the server does not offer " +
                                    kPosixRename);
  }
  std::string body;
  body.push_back(static_cast<char>(200));  // SSH_FXP_EXTENDED
  const uint32_t id = ++raw_id_;
  PutU32(&body, id);
  PutString(&body, kPosixRename);
  PutString(&body, from);
  PutString(&body, to);
  std::string packet;
  PutU32(&packet, static_cast<uint32_t>(body.size()));
  packet += body;
  CountRequest();
  LK_RETURN_IF_ERROR(RawWrite(packet));
  std::string reply;
  LK_RETURN_IF_ERROR(RawRead(&reply));
  size_t pos = 1;
  uint32_t got_id = 0, code = 0;
  if (static_cast<unsigned char>(reply[0]) != 101 ||  // SSH_FXP_STATUS
      !GetU32(reply, &pos, &got_id) || got_id != id ||
      !GetU32(reply, &pos, &code)) {
    Reset();
    return base::UnavailableError(what + ": unexpected answer");
  }
  if (code == 0) return base::Status::Ok();
  last_sftp_status_ = code;
  if (code == LIBSSH2_FX_NO_SUCH_FILE || code == LIBSSH2_FX_NO_SUCH_PATH) {
    return base::NotFoundError(what + ": no such file or directory");
  }
  if (code == LIBSSH2_FX_PERMISSION_DENIED) {
    return base::PermissionDeniedError(what + ": permission denied");
  }
  return base::IoError(what + ": failed (SFTP status " + std::to_string(code) +
                       ")");
}

}  // namespace litekeep::storage::sftp
