// TlsSession: the client side of TLS (OpenSSL) on the NATS connection's
// socket, started after the server's INFO as the NATS protocol upgrades
// (docs/storage_layout.md, "NATS TLS"). The server's certificate is always
// verified: its chain against root-cas (else the system trust store), its
// name against the host the client dialled. A client certificate and key
// are offered when set (mutual TLS).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "storage/nats/options.h"

struct ssl_st;
struct ssl_ctx_st;

namespace litekeep::storage::nats {

class TlsSession {
 public:
  // What a read or write did. kRefused: the server ended the session with
  // a TLS alert (e.g. it requires a client certificate).
  enum class Io { kDone, kWantRead, kWantWrite, kClosed, kError, kRefused };

  // Runs the TLS handshake as a client on the connected, non-blocking
  // socket fd, waiting for the socket until deadline. Errors name the
  // server and what to fix: an unreadable root-cas/client-cert/client-key
  // file (kInvalidArgument, naming the file), a certificate that does not
  // verify (kFailedPrecondition: "TLS handshake with HOST:PORT failed:
  // certificate verify failed (…)" and the key to fix), a refused client
  // certificate (kPermissionDenied), the network (kUnavailable).
  static Result<std::unique_ptr<TlsSession>> Connect(
      int fd, const NatsOptions& options,
      std::chrono::steady_clock::time_point deadline);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Reads up to n decrypted bytes into buf (*got on kDone). kWantRead /
  // kWantWrite: wait for the socket and call again. kError sets *error (no
  // secret, a hint when the server refused our certificate).
  Io Read(char* buf, size_t n, size_t* got, std::string* error);
  // Writes up to n bytes (*put on kDone); a retry after kWant* must pass
  // the same bytes again.
  Io Write(const char* buf, size_t n, size_t* put, std::string* error);
  // "TLSv1.3": the protocol version in use.
  std::string Version() const;

 private:
  TlsSession() = default;
  Io Classify(int rc, std::string* error);

  std::string client_cert_;  // for messages
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
};

}  // namespace litekeep::storage::nats
