// ReplicaSettings -> NatsOptions, and the checks of the nats settings.
#include "storage/nats/options.h"

#include <cctype>

#include "base/duration.h"
#include "base/text.h"
#include "storage/nats/nkey.h"
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

// The nkey and JWT settings (Litestream's `jwt` + `seed` and `nkey`) into
// o.jwt and o.seed, checked: the seed is a user seed with a good checksum,
// a public `nkey` is the seed's, a JWT is the seed's user's.
base::Status NkeyLogin(const ReplicaSettings& s, NatsOptions* o) {
  if (!s.jwt.empty() && s.seed.empty()) {
    return base::InvalidArgumentError(
        "nats: jwt needs seed (the user's nkey seed, SU…), as Litestream's "
        "jwt + seed; or use creds with a .creds file");
  }
  if (!s.jwt.empty() && !s.nkey.empty()) {
    return base::InvalidArgumentError(
        "nats: give jwt + seed or nkey, not both");
  }
  std::string seed = s.seed;
  std::string what = "seed";
  std::string expect_public;
  if (!s.nkey.empty()) {
    if (s.nkey[0] == 'S') {
      if (!s.seed.empty()) {
        return base::InvalidArgumentError(
            "nats: nkey holds a seed and seed is set too; give the seed once");
      }
      seed = s.nkey;
      what = "nkey";
    } else {
      auto pub = DecodePublicKey(s.nkey, NkeyType::kUser);
      if (!pub.ok()) {
        return base::InvalidArgumentError("nats: nkey: " +
                                          pub.status().message());
      }
      if (s.seed.empty()) {
        return base::InvalidArgumentError(
            "nats: nkey " + s.nkey +
            " is a public key, which cannot sign the server's nonce; give "
            "the user's seed (SU…) in nkey, or in seed beside it");
      }
      expect_public = s.nkey;
    }
  } else if (!s.seed.empty() && s.jwt.empty()) {
    return base::InvalidArgumentError(
        "nats: seed is used with jwt (a JWT login) or nkey (an nkey login); "
        "for an nkey login write the seed in nkey");
  }
  if (seed.empty()) return base::Status::Ok();
  auto kp = KeyPair::FromSeed(seed);
  if (!kp.ok()) {
    return base::InvalidArgumentError("nats: " + what + ": " +
                                      kp.status().message());
  }
  if (kp->type() != NkeyType::kUser) {
    return base::InvalidArgumentError("nats: " + what + ": is an " +
                                      std::string(NkeyTypeName(kp->type())) +
                                      " seed; a user seed (SU…) is needed");
  }
  if (!expect_public.empty() && kp->public_key() != expect_public) {
    return base::InvalidArgumentError("nats: nkey " + expect_public +
                                      " is not the public key of seed (" +
                                      kp->public_key() + ")");
  }
  if (!s.jwt.empty()) {
    LK_RETURN_IF_ERROR(CheckUserJwt(s.jwt, *kp, 0, "nats: jwt"));
  }
  o->jwt = s.jwt;
  o->seed = seed;
  return base::Status::Ok();
}

}  // namespace

std::string NatsOptions::Address() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string NatsOptions::LoginText() const {
  if (!username.empty()) return "user " + username;
  if (!token.empty()) return "a token";
  if (!creds.empty()) return "the creds file " + creds;
  if (!seed.empty()) {
    auto kp = KeyPair::FromSeed(seed);
    const std::string who = kp.ok() ? kp->public_key() : "an unreadable seed";
    return jwt.empty() ? "nkey " + who : "a user JWT for " + who;
  }
  return "no credentials";
}

std::string NatsOptions::Describe() const {
  return "nats://" + Address() + "/" + bucket;
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
  LK_RETURN_IF_ERROR(NkeyLogin(s, &o));
  o.creds = s.creds;
  std::vector<std::string> logins;
  if (!o.jwt.empty()) logins.push_back("jwt/seed");
  if (!o.creds.empty()) logins.push_back("creds");
  if (o.jwt.empty() && !o.seed.empty()) logins.push_back("nkey");
  if (!o.username.empty()) logins.push_back("username/password");
  if (!o.token.empty()) logins.push_back("token");
  if (logins.size() > 1) {
    return base::InvalidArgumentError("nats: give one login, not " + logins[0] +
                                      " and " + logins[1] +
                                      " (docs/config.md \"NATS\")");
  }
  if (s.client_cert.empty() != s.client_key.empty()) {
    // Litestream's own message.
    return base::InvalidArgumentError(
        "nats: client-cert and client-key must both be specified for mutual "
        "TLS authentication");
  }
  o.client_cert = s.client_cert;
  o.client_key = s.client_key;
  o.root_cas = s.root_cas;
  for (const std::string& f : o.root_cas) {
    if (f.empty()) {
      return base::InvalidArgumentError("nats: root-cas holds an empty name");
    }
  }
  // nats.go: RootCAs and ClientCert imply Secure.
  o.tls =
      s.tls.value_or(false) || !o.root_cas.empty() || !o.client_cert.empty();
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
