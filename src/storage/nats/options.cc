// ReplicaSettings -> NatsOptions, and the checks of the nats settings.
#include "storage/nats/options.h"

#include <cctype>

#include "base/duration.h"
#include "base/text.h"
#include "storage/sftp/options.h"

namespace litekeep::storage::nats {
namespace {

// nats.go's rule for object store bucket names.
bool ValidBucket(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

Result<std::chrono::milliseconds> Duration(const std::string& key,
                                           const std::string& text) {
  auto d = base::ParseDuration(text);
  if (!d.ok()) {
    return base::InvalidArgumentError(key + ": " + d.status().message());
  }
  if (d->count() < 0) {
    return base::InvalidArgumentError(key + ": must not be negative, got " +
                                      text);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

}  // namespace

std::string NatsOptions::Describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "nats://" + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + "/" + bucket;
}

base::Status CheckSettings(ReplicaSettings* s) {
  if (s->bucket.empty()) {
    return base::InvalidArgumentError(
        "nats replica has no bucket (set `bucket:` or use "
        "nats://HOST:PORT/BUCKET)");
  }
  LK_ASSIGN_OR_RETURN(NatsOptions o, OptionsFromSettings(*s));
  (void)o;
  return base::Status::Ok();
}

Result<NatsOptions> OptionsFromSettings(const ReplicaSettings& s) {
  NatsOptions o;
  if (!ValidBucket(s.bucket)) {
    return base::InvalidArgumentError(
        "nats bucket \"" + s.bucket +
        "\" is not a valid object store name (letters, digits, '-' and '_')");
  }
  o.bucket = s.bucket;
  if (!s.host.empty()) {
    LK_RETURN_IF_ERROR(sftp::SplitHostPort(s.host, &o.host, &o.port));
    if (s.host == o.host || s.host == "[" + o.host + "]") o.port = 4222;
  }
  if (s.password.empty() != s.username.empty()) {
    return base::InvalidArgumentError(
        s.username.empty() ? "nats: password given without username"
                           : "nats: username given without password");
  }
  o.username = s.username;
  o.password = s.password;
  o.token = s.token;
  if (!o.username.empty() && !o.token.empty()) {
    return base::InvalidArgumentError(
        "nats: give either username/password or token, not both");
  }
  if (!s.timeout.empty()) {
    LK_ASSIGN_OR_RETURN(o.connect_timeout, Duration("timeout", s.timeout));
    if (o.connect_timeout.count() == 0) {
      return base::InvalidArgumentError("timeout: must be positive");
    }
    o.io_timeout = o.connect_timeout;
  }
  // Six attempts per operation, 200 ms doubling to 2 s apart, within two
  // minutes (the replicator retries a failed sync by itself).
  o.retry.backoff_base = std::chrono::milliseconds(200);
  o.retry.backoff_max = std::chrono::milliseconds(2000);
  o.retry.max_attempts = 6;
  o.retry.deadline = std::chrono::minutes(2);
  if (!s.reconnect_wait.empty()) {
    LK_ASSIGN_OR_RETURN(auto wait,
                        Duration("reconnect-wait", s.reconnect_wait));
    o.retry.backoff_base = wait;
    o.retry.backoff_max = wait;
  }
  if (!s.max_reconnects.empty()) {
    auto n = base::ParseInt(s.max_reconnects);
    if (!n.ok() || *n < -1 || *n > 1000000) {
      return base::InvalidArgumentError(
          "max-reconnects: expected -1 (no limit) or a count, got \"" +
          s.max_reconnects + "\"");
    }
    o.retry.max_attempts = *n >= 0 ? static_cast<int>(*n) + 1 : 1 << 20;
  }
  return o;
}

}  // namespace litekeep::storage::nats
