// The NATS connection's TLS client on OpenSSL: context set-up from the
// root-cas / client-cert / client-key files, the handshake on a
// non-blocking socket, and reads and writes through a socket BIO that
// sends with MSG_NOSIGNAL (a closed peer never raises SIGPIPE in the
// process that hosts the client, e.g. an application using the VFS).
#include "storage/nats/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace litekeep::storage::nats {
namespace {

using Clock = std::chrono::steady_clock;

// The reasons on OpenSSL's error queue of this thread, "; "-separated, and
// whether one of them is an alert the server sent.
std::string DrainErrors(bool* alert = nullptr) {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    const int reason = ERR_GET_REASON(e);
    // SSL_AD_REASON_OFFSET + the alert number: "… alert …" from the peer.
    if (alert != nullptr && reason >= SSL_AD_REASON_OFFSET &&
        reason < SSL_AD_REASON_OFFSET + 256) {
      *alert = true;
    }
    if (!out.empty()) out += "; ";
    out += r != nullptr ? r : "OpenSSL error " + std::to_string(e);
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

// Never prompts for the passphrase of an encrypted key.
int NoPassphrase(char*, int, int, void*) { return 0; }

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Ok when path can be opened for reading; else an error naming key, the
// file and why.
base::Status Readable(std::string_view key, const std::string& path) {
  std::ifstream in(path);
  if (in) return base::Status::Ok();
  return base::InvalidArgumentError(std::string(key) + ": cannot read " + path +
                                    " (" + std::strerror(errno) + ")");
}

// A socket BIO over the connection's fd that never raises SIGPIPE.
int FdOf(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int BioWrite(BIO* b, const char* data, size_t n, size_t* written) {
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t r = ::send(FdOf(b), data, n, MSG_NOSIGNAL);
    if (r >= 0) {
      *written = static_cast<size_t>(r);
      return 1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
    return 0;
  }
}

int BioRead(BIO* b, char* data, size_t n, size_t* got) {
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t r = ::recv(FdOf(b), data, n, 0);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return 1;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      BIO_set_retry_read(b);
    }
    return 0;  // r == 0: end of stream
  }
}

long BioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                 "litekeep nats socket");
    BIO_meth_set_write_ex(m, BioWrite);
    BIO_meth_set_read_ex(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

Result<std::unique_ptr<TlsSession>> TlsSession::Connect(
    int fd, const NatsOptions& o, Clock::time_point deadline) {
  ERR_clear_error();
  std::unique_ptr<TlsSession> t(new TlsSession());
  t->client_cert_ = o.client_cert;
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (t->ctx_ == nullptr) {
    return base::InternalError("OpenSSL: no TLS client context (" +
                               DrainErrors() + ")");
  }
  SSL_CTX* ctx = t->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (o.root_cas.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  for (const std::string& f : o.root_cas) {
    LK_RETURN_IF_ERROR(Readable("root-cas", f));
    if (SSL_CTX_load_verify_locations(ctx, f.c_str(), nullptr) != 1) {
      return base::InvalidArgumentError("root-cas: " + f +
                                        " holds no PEM certificate (" +
                                        DrainErrors() + ")");
    }
  }
  if (!o.client_cert.empty()) {
    LK_RETURN_IF_ERROR(Readable("client-cert", o.client_cert));
    LK_RETURN_IF_ERROR(Readable("client-key", o.client_key));
    if (SSL_CTX_use_certificate_chain_file(ctx, o.client_cert.c_str()) != 1) {
      return base::InvalidArgumentError("client-cert: " + o.client_cert +
                                        " is not a PEM certificate (" +
                                        DrainErrors() + ")");
    }
    FILE* kf = std::fopen(o.client_key.c_str(), "r");
    EVP_PKEY* key =
        kf != nullptr ? PEM_read_PrivateKey(kf, nullptr, NoPassphrase, nullptr)
                      : nullptr;
    if (kf != nullptr) std::fclose(kf);
    if (key == nullptr) {
      return base::InvalidArgumentError(
          "client-key: " + o.client_key +
          " is not an unencrypted PEM private key (" + DrainErrors() + ")");
    }
    const bool matches = SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
                         SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(key);
    if (!matches) {
      return base::InvalidArgumentError(
          "client-key: " + o.client_key + " is not the key of client-cert " +
          o.client_cert + " (" + DrainErrors() + ")");
    }
  }
  t->ssl_ = SSL_new(ctx);
  BIO* bio = t->ssl_ != nullptr ? BIO_new(SocketMethod()) : nullptr;
  if (bio == nullptr) {
    return base::InternalError("OpenSSL: no TLS session (" + DrainErrors() +
                               ")");
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(t->ssl_, bio, bio);
  SSL_set_mode(t->ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_ENABLE_PARTIAL_WRITE);
  X509_VERIFY_PARAM* param = SSL_get0_param(t->ssl_);
  if (IsIpAddress(o.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str());
  } else {
    SSL_set_tlsext_host_name(t->ssl_, o.host.c_str());
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
  }

  const std::string where = "TLS handshake with " + o.Address();
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(t->ssl_);
    if (rc == 1) break;
    const int err = SSL_get_error(t->ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      pollfd p{
          fd, static_cast<short>(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT),
          0};
      int r =
          left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        return base::UnavailableError(where + " timed out");
      }
      continue;
    }
    const long verify = SSL_get_verify_result(t->ssl_);
    if (verify != X509_V_OK) {
      std::string hint;
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
          verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        hint = "the server's certificate does not name " + o.host +
               "; connect by a name or address it holds";
      } else if (o.root_cas.empty()) {
        hint =
            "the server's certificate does not chain to a CA of the system "
            "trust store; set root-cas to the PEM file of its CA";
      } else {
        hint = "the server's certificate does not chain to a CA in root-cas (" +
               Join(o.root_cas) + ")";
      }
      DrainErrors();
      return base::FailedPreconditionError(
          where + " failed: certificate verify failed (" +
          X509_verify_cert_error_string(verify) + "); " + hint);
    }
    bool alert = false;
    std::string detail;
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      detail = errno != 0 ? std::string(std::strerror(errno))
                          : "connection closed by the server";
      return base::UnavailableError(where + " failed: " + detail);
    }
    detail = DrainErrors(&alert);
    if (alert && o.client_cert.empty()) {
      detail +=
          "; the server may require a client certificate (client-cert "
          "and client-key)";
    } else if (alert) {
      detail += "; the server refused the client certificate " + o.client_cert;
    }
    return alert ? base::PermissionDeniedError(where + " failed: " + detail)
                 : base::FailedPreconditionError(where + " failed: " + detail);
  }
  return t;
}

TlsSession::Io TlsSession::Classify(int rc, std::string* error) {
  const int err = SSL_get_error(ssl_, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (errno == 0) return Io::kClosed;
        *error = std::strerror(errno);
        return Io::kError;
      }
      break;
    default:
      break;
  }
  bool alert = false;
  *error = "TLS: " + DrainErrors(&alert);
  if (!alert) return Io::kError;
  // TLS 1.3 servers check the client certificate after the handshake: the
  // refusal arrives on the first read.
  *error += "; the server ended the TLS session with an alert";
  *error += client_cert_.empty()
                ? " (it may require a client certificate: set client-cert and "
                  "client-key)"
                : " (it may have refused the client certificate " +
                      client_cert_ + ")";
  return Io::kRefused;
}

TlsSession::Io TlsSession::Read(char* buf, size_t n, size_t* got,
                                std::string* error) {
  ERR_clear_error();
  errno = 0;
  size_t done = 0;
  if (SSL_read_ex(ssl_, buf, n, &done) == 1) {
    *got = done;
    return Io::kDone;
  }
  return Classify(0, error);
}

TlsSession::Io TlsSession::Write(const char* buf, size_t n, size_t* put,
                                 std::string* error) {
  ERR_clear_error();
  errno = 0;
  size_t done = 0;
  if (SSL_write_ex(ssl_, buf, n, &done) == 1) {
    *put = done;
    return Io::kDone;
  }
  return Classify(0, error);
}

std::string TlsSession::Version() const { return SSL_get_version(ssl_); }

}  // namespace litekeep::storage::nats
