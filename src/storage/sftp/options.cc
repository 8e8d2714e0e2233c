// ReplicaSettings -> SftpOptions.
#include "storage/sftp/options.h"

#include <cctype>

#include "base/text.h"
#include "storage/sftp/host_key.h"

namespace litekeep::storage::sftp {

std::string SftpOptions::Describe() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string out = "sftp://" + user + "@" + h + ":" + std::to_string(port);
  if (path.empty()) return out;
  return out + (path.front() == '/' ? "" : "/~/") + path;
}

base::Status SplitHostPort(const std::string& text, std::string* host,
                           int* port) {
  *port = 22;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) {
      return base::InvalidArgumentError(
          "host \"" + text + "\": missing ']' after an IPv6 address");
    }
    *host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') {
        return base::InvalidArgumentError("host \"" + text +
                                          "\": expected ':PORT' after ']'");
      }
      port_text = text.substr(close + 2);
    }
  } else {
    size_t colon = text.find(':');
    if (colon != std::string::npos &&
        text.find(':', colon + 1) != std::string::npos) {
      *host = text;  // a bare IPv6 address
    } else {
      *host = text.substr(0, colon);
      if (colon != std::string::npos) port_text = text.substr(colon + 1);
    }
  }
  if (host->empty()) {
    return base::InvalidArgumentError("host \"" + text + "\" has no host name");
  }
  if (!port_text.empty() || text.find(':') != std::string::npos) {
    if (host->find(':') != std::string::npos && text.front() != '[') {
      return base::Status::Ok();  // bare IPv6, no port
    }
    bool digits = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      digits = digits && std::isdigit(static_cast<unsigned char>(c));
    }
    int p = digits ? std::stoi(port_text) : 0;
    if (p < 1 || p > 65535) {
      return base::InvalidArgumentError("host \"" + text + "\": port \"" +
                                        port_text +
                                        "\" is not a number from 1 to 65535");
    }
    *port = p;
  }
  return base::Status::Ok();
}

Result<SftpOptions> OptionsFromSettings(const ReplicaSettings& s) {
  SftpOptions o;
  if (s.host.empty()) {
    return base::InvalidArgumentError(
        "sftp replica has no host (set `host:` or use "
        "sftp://USER@HOST:PORT/PATH)");
  }
  LK_RETURN_IF_ERROR(SplitHostPort(s.host, &o.host, &o.port));
  if (s.user.empty()) {
    return base::InvalidArgumentError(
        "sftp replica has no user (set `user:` or use "
        "sftp://USER@HOST:PORT/PATH)");
  }
  o.user = s.user;
  o.password = s.password;
  o.key_passphrase = s.key_passphrase;
  if (!s.key_path.empty()) {
    LK_ASSIGN_OR_RETURN(o.key_path, base::ExpandPath(s.key_path));
  }
  if (!s.known_hosts.empty()) {
    LK_ASSIGN_OR_RETURN(o.known_hosts, base::ExpandPath(s.known_hosts));
  }
  if (!s.key_passphrase.empty() && s.key_path.empty()) {
    return base::InvalidArgumentError(
        "key-passphrase is set but key-path is not: the passphrase unlocks "
        "the private key named by key-path");
  }
  o.host_key = base::Trim(s.host_key);
  if (!o.host_key.empty())
    LK_RETURN_IF_ERROR(ParseHostKey(o.host_key).status());
  o.insecure_ignore_host_key = s.insecure_ignore_host_key;
  if (o.insecure_ignore_host_key && !o.host_key.empty()) {
    return base::InvalidArgumentError(
        "host-key and insecure-ignore-host-key are both set: with a host-key "
        "the server's key is checked; remove insecure-ignore-host-key");
  }
  if (o.insecure_ignore_host_key && !s.known_hosts.empty()) {
    return base::InvalidArgumentError(
        "known-hosts and insecure-ignore-host-key are both set: remove one");
  }
  o.path = s.path;
  while (o.path.size() > 1 && o.path.back() == '/') o.path.pop_back();
  if (s.concurrent_writes) o.concurrent_writes = *s.concurrent_writes;
  return o;
}

base::Status CheckSettings(ReplicaSettings* s) {
  return OptionsFromSettings(*s).status();
}

}  // namespace litekeep::storage::sftp
