// Host-key checking: expected keys, known_hosts, fingerprints.
#include "storage/sftp/host_key.h"

#include <libssh2.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <memory>
#include <sstream>
#include <vector>

#include "base/text.h"

namespace litekeep::storage::sftp {
namespace {

std::string Base64(std::string_view bytes, bool pad) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

Result<std::string> Unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return base::InvalidArgumentError("not base64");
  }
  std::string out(text.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return base::InvalidArgumentError("not base64");
  size_t len = static_cast<size_t>(n);
  if (text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::vector<std::string> Fields(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

bool LooksLikeKeyType(const std::string& t) {
  return t.rfind("ssh-", 0) == 0 || t.rfind("ecdsa-", 0) == 0 ||
         t.rfind("sk-", 0) == 0;
}

// "ed25519" for `ssh-keyscan -t`.
std::string ScanType(const std::string& type) {
  if (type == "ssh-ed25519") return "ed25519";
  if (type.rfind("ecdsa-", 0) == 0) return "ecdsa";
  if (type == "ssh-rsa") return "rsa";
  if (type == "ssh-dss") return "dsa";
  return type;
}

int KnownHostKeyBits(int libssh2_type) {
  switch (libssh2_type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA:
      return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS:
      return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
      return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
      return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
  }
}

std::string HostPort(const SftpOptions& o) {
  std::string h =
      o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  return h + ":" + std::to_string(o.port);
}

// The known_hosts host pattern OpenSSH writes for this address.
std::string KnownHostsName(const SftpOptions& o) {
  if (o.port == 22) return o.host;
  return "[" + o.host + "]:" + std::to_string(o.port);
}

std::string KnownHostsPath(const SftpOptions& o) {
  if (!o.known_hosts.empty()) return o.known_hosts;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.ssh/known_hosts";
}

}  // namespace

std::string Fingerprint(std::string_view blob) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(),
         digest);
  return "SHA256:" +
         Base64({reinterpret_cast<const char*>(digest), sizeof digest}, false);
}

std::string BlobKeyType(std::string_view blob) {
  if (blob.size() < 4) return "unknown";
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
               (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  if (n == 0 || n > 64 || 4 + n > blob.size()) return "unknown";
  return std::string(blob.substr(4, n));
}

Result<ExpectedHostKey> ParseHostKey(std::string_view text) {
  std::vector<std::string> f = Fields(text);
  ExpectedHostKey k;
  if (f.size() == 1 && f[0].rfind("SHA256:", 0) == 0) {
    std::string b64 = f[0].substr(7);
    while (b64.size() % 4 != 0) b64 += '=';
    auto digest = Unbase64(b64);
    if (!digest.ok() || digest->size() != SHA256_DIGEST_LENGTH) {
      return base::InvalidArgumentError(
          "host-key: \"" + f[0] +
          "\" is not a SHA256 fingerprint (expected SHA256: and 43 base64 "
          "characters, as `ssh-keygen -lf` prints)");
    }
    k.fingerprint = f[0];
    return k;
  }
  for (size_t i = 0; i + 1 < f.size(); ++i) {
    if (!LooksLikeKeyType(f[i])) continue;
    auto blob = Unbase64(f[i + 1]);
    if (!blob.ok() || BlobKeyType(*blob) != f[i]) {
      return base::InvalidArgumentError("host-key: the key after \"" + f[i] +
                                        "\" is not a base64 " + f[i] +
                                        " public key");
    }
    k.type = f[i];
    k.blob = *blob;
    k.fingerprint = Fingerprint(k.blob);
    return k;
  }
  return base::InvalidArgumentError(
      "host-key: expected the server's public key as \"ssh-ed25519 AAAA…\" "
      "(a line of `ssh-keyscan HOST` or the server's /etc/ssh/ssh_host_*_key"
      ".pub) or its fingerprint \"SHA256:…\"");
}

base::Status VerifyHostKey(const SftpOptions& o, void* session_ptr,
                           std::string_view blob, int libssh2_type) {
  auto* session = static_cast<LIBSSH2_SESSION*>(session_ptr);
  const std::string type = BlobKeyType(blob);
  const std::string fp = Fingerprint(blob);
  if (!o.host_key.empty()) {
    LK_ASSIGN_OR_RETURN(ExpectedHostKey want, ParseHostKey(o.host_key));
    bool same = want.blob.empty() ? want.fingerprint == fp : want.blob == blob;
    if (same) return base::Status::Ok();
    return base::PermissionDeniedError(
        "sftp host " + HostPort(o) + " presented the " + type + " key " + fp +
        ", but host-key expects " + (want.type.empty() ? "" : want.type + " ") +
        want.fingerprint +
        ": refusing the connection (the server's key changed, or someone is "
        "intercepting the connection)");
  }
  if (o.insecure_ignore_host_key) return base::Status::Ok();

  const std::string file = KnownHostsPath(o);
  std::unique_ptr<LIBSSH2_KNOWNHOSTS, void (*)(LIBSSH2_KNOWNHOSTS*)> hosts(
      libssh2_knownhost_init(session), libssh2_knownhost_free);
  if (!hosts) return base::InternalError("libssh2_knownhost_init failed");
  // A missing file is an empty one: the host is then unknown.
  int read = libssh2_knownhost_readfile(hosts.get(), file.c_str(),
                                        LIBSSH2_KNOWNHOST_FILE_OPENSSH);
  (void)read;
  int check = libssh2_knownhost_checkp(
      hosts.get(), o.host.c_str(), o.port, blob.data(), blob.size(),
      LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
          KnownHostKeyBits(libssh2_type),
      nullptr);
  if (check == LIBSSH2_KNOWNHOST_CHECK_MATCH) return base::Status::Ok();
  if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
    return base::PermissionDeniedError(
        "sftp host " + HostPort(o) + " presented the " + type + " key " + fp +
        ", which differs from the one recorded for it in " + file +
        ": refusing the connection (the server's key changed, or someone is "
        "intercepting the connection). If the key was changed on purpose, "
        "remove the old entry with `ssh-keygen -R '" +
        KnownHostsName(o) + "' -f " + file + "` and add the new one");
  }
  const std::string line = type + " " + Base64(blob, true);
  return base::PermissionDeniedError(
      "sftp host " + HostPort(o) + " is unknown (not in " + file +
      "): refusing it. Its " + type + " key has the fingerprint " + fp +
      ". After confirming that fingerprint with the server's administrator, "
      "either add the host with `ssh-keyscan -p " +
      std::to_string(o.port) + " -t " + ScanType(type) + " " + o.host + " >> " +
      file + "`, or set on the replica `host-key: \"" + line +
      "\"`; `insecure-ignore-host-key: true` turns host-key checking off "
      "(not recommended)");
}

}  // namespace litekeep::storage::sftp
