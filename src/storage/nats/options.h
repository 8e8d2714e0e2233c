// NatsOptions: everything the NATS JetStream object-store backend needs to
// reach a bucket, converted from ReplicaSettings (the only place that does):
// server address, bucket, login, timeouts and the reconnect rule
// (docs/storage_layout.md "NATS", docs/config.md "NATS").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/retry.h"
#include "storage/settings.h"

namespace litekeep::storage::nats {

// nats.go's object store chunk size: every chunk but the last has it.
inline constexpr int64_t kChunkSize = 128 << 10;

struct NatsOptions {
  std::string host = "127.0.0.1";  // name or address, without brackets
  int port = 4222;
  std::string bucket;  // object store bucket (stream OBJ_<bucket>); required
  // Login: at most one of these (docs/config.md "NATS", auth order).
  std::string username;
  std::string password;  // secret: never printed
  std::string token;     // secret: never printed
  // A user JWT signed for the seed's key (`jwt` + `seed`).
  std::string jwt;
  // The user seed ("SU…") that signs the server's nonce: with jwt, a JWT
  // login; alone, an nkey login. Secret: never printed.
  std::string seed;
  // A .creds file (user JWT + seed), read at every connect.
  std::string creds;

  // TLS: required by the client (tls: true, root-cas or client-cert set);
  // without it TLS is still used when the server requires it. The server's
  // certificate is always verified, its name against host.
  bool tls = false;
  std::vector<std::string> root_cas;  // PEM files ("" = system trust store)
  std::string client_cert;            // PEM certificate chain (mTLS)
  std::string client_key;             // PEM private key (mTLS)

  int64_t chunk_size = kChunkSize;
  // Chunk publishes in flight per upload before waiting for their acks.
  int publish_window = 16;
  // Uploads up to this size are kept in memory so a broken connection can
  // be retried from the start; larger ones stream through in one attempt
  // (the caller retries).
  int64_t retry_buffer = 8 << 20;
  int max_connections = 4;  // connections kept open per client

  std::chrono::milliseconds connect_timeout{10000};
  // Longest wait for any one answer (a stalled server fails the request
  // with kUnavailable after this, never hangs).
  std::chrono::milliseconds io_timeout{10000};
  // Reconnects: attempts and the wait between them (max-reconnects,
  // reconnect-wait); the deadline bounds one operation.
  RetryPolicy retry;

  // "nats://host:port/bucket": safe to print (no credentials).
  std::string Describe() const;
  // "host:port" (brackets around an IPv6 address), for TLS messages.
  std::string Address() const;
  // The login for messages, without a secret: "user alice", "a token",
  // "nkey U…", "a user JWT for U…", "the creds file F", "no credentials".
  std::string LoginText() const;
};

// The nats backend's settings check (storage/registry.h): the bucket is
// required and is a valid object store name, the server is host[:port],
// the durations and counts convert. Does not touch the network.
base::Status CheckSettings(ReplicaSettings* settings);

// Converts checked settings into options. Errors name the setting and
// never contain a secret.
Result<NatsOptions> OptionsFromSettings(const ReplicaSettings& settings);

}  // namespace litekeep::storage::nats
