// Conn: one connection to a NATS server speaking the client protocol by
// hand (no packaged C client exists; docs/storage_layout.md "NATS"): TCP,
// INFO/CONNECT with user/password, token, nkey or user JWT, PING/PONG,
// SUB/UNSUB, PUB and HPUB, MSG and HMSG with headers, and request/reply over
// the connection's own inbox; TLS after INFO (tls.h) and nkey/JWT logins
// (nkey.h). Not thread-safe: one user at a time (the client pools them). Any
// protocol or socket error marks the connection broken; the caller then drops
// it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/nats/options.h"
#include "storage/nats/tls.h"

namespace litekeep::storage::nats {

// One message delivered to a subscription.
struct Msg {
  std::string subject;
  std::string reply;
  uint64_t sid = 0;
  int status = 0;  // the header line's status ("NATS/1.0 503"), 0 if none
  std::string status_text;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string data;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

// Encodes a header block ("NATS/1.0\r\nK: V\r\n\r\n") for HPUB.
std::string EncodeHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers);

class Conn {
 public:
  // Connects, reads INFO, upgrades to TLS when the server requires it or
  // the options ask for it, sends CONNECT (signing the server's nonce for
  // nkey and JWT logins) and waits for the PONG that confirms the login.
  // kUnavailable when the server cannot be reached, kPermissionDenied when
  // it refuses the login or our certificate, kFailedPrecondition when its
  // certificate does not verify or TLS is wanted and not offered,
  // kInvalidArgument for an unreadable creds or certificate file (naming
  // it). Messages never hold a credential.
  static Result<std::unique_ptr<Conn>> Dial(const NatsOptions& options);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // PUB (headers empty) or HPUB (headers from EncodeHeaders).
  base::Status Publish(std::string_view subject, std::string_view reply,
                       std::string_view headers, std::string_view data);
  // SUB; returns the subscription id.
  Result<uint64_t> Subscribe(std::string_view subject);
  base::Status Unsubscribe(uint64_t sid);
  // The next message for any subscription, waiting at most io_timeout;
  // answers the server's PINGs on the way.
  Result<Msg> Next();

  // A fresh reply subject on this connection's inbox.
  std::string NewReply();
  // True when the subject is a reply subject of this connection's inbox.
  bool IsReply(const Msg& m) const { return m.sid == inbox_sid_; }
  // Publishes and waits for the answer on a fresh reply subject. Stale
  // answers to earlier requests are dropped; messages for other
  // subscriptions that arrive first go to *others (dropped when null).
  Result<Msg> Request(std::string_view subject, std::string_view headers,
                      std::string_view data,
                      std::vector<Msg>* others = nullptr);

  bool broken() const { return broken_; }
  // The server's max_payload from INFO.
  int64_t max_payload() const { return max_payload_; }
  // Protocol messages sent (PUB/HPUB), for the request counters.
  uint64_t published() const { return published_; }
  // "TLSv1.3" when the connection is encrypted, else "".
  std::string TlsVersion() const;

 private:
  explicit Conn(const NatsOptions& options) : opts_(options) {}
  base::Status Fail(base::Status s);
  base::Status WriteAll(std::string_view data);
  // Reads until the buffer holds n bytes after pos_ (or fails).
  base::Status Fill(size_t n);
  Result<std::string> ReadLine();
  base::Status Handshake();
  // The CONNECT fields of the login (user/pass, token, or nkey/jwt + sig).
  base::Status AddLogin(const std::string& nonce, nlohmann::json* connect);
  using Io = TlsSession::Io;
  // One send or receive on the socket or through TLS.
  Io SendSome(std::string_view data, size_t* put, std::string* error);
  Io RecvSome(char* buf, size_t n, size_t* got, std::string* error);
  // Marks the connection broken and returns the error of a failed send or
  // receive (kClosed, kRefused, kError); what prefixes kError's message.
  base::Status IoFailed(Io io, const std::string& error, std::string_view what);
  // Waits until the socket is ready for io (kWantRead/kWantWrite) or the
  // deadline passes (false).
  bool WaitFor(Io io, std::chrono::steady_clock::time_point deadline);

  NatsOptions opts_;
  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;
  bool broken_ = false;
  std::string buf_;
  size_t pos_ = 0;
  std::string inbox_;  // "_INBOX.<random>."
  uint64_t inbox_sid_ = 0;
  uint64_t next_sid_ = 1;
  uint64_t next_reply_ = 1;
  int64_t max_payload_ = 1 << 20;
  uint64_t published_ = 0;
};

}  // namespace litekeep::storage::nats
