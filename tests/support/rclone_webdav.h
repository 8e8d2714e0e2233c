// Test harness for WebDAV: starts `rclone serve webdav` (Debian's rclone,
// /usr/bin/rclone) on 127.0.0.1 with a free port, a temporary directory
// as its root and basic authentication, waits for its ready line, and stops
// it by PID. The served directory is a local directory, so tests can look
// at (and plant) the server's files directly.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "storage/webdav/options.h"
#include "tests/support/test_util.h"

namespace litekeep::testing {

class RcloneWebdav {
 public:
  // The login the server accepts.
  static constexpr const char* kUser = "litekeep";
  static constexpr const char* kPassword = "w3bdav-s3cret-pw";

  // Starts the server (with tls, over HTTPS with a fresh self-signed
  // certificate for 127.0.0.1, see cert_path()); returns nullptr and sets
  // *error (one line) when it cannot, e.g. when rclone is not installed.
  static std::unique_ptr<RcloneWebdav> Start(std::string* error,
                                             bool tls = false);
  ~RcloneWebdav();
  RcloneWebdav(const RcloneWebdav&) = delete;
  RcloneWebdav& operator=(const RcloneWebdav&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // "http://127.0.0.1:PORT" ("https://" with tls).
  std::string base_url() const;
  // "webdav://USER:PASSWORD@127.0.0.1:PORT/path" ("webdavs://" with tls).
  std::string Url(const std::string& path) const;
  // The server's certificate (PEM), to trust with ca-bundle (tls only).
  std::string cert_path() const { return dir_.Join("cert.pem"); }
  // The served directory (the server's "/").
  std::string root() const { return dir_.Join("root"); }
  std::string log_path() const { return dir_.Join("rclone.log"); }

  // Options for the server's login and path, with short retry backoffs.
  storage::webdav::WebdavOptions Options(const std::string& path) const;

  // Stores content at path (relative to the server's root) with plain
  // MKCOLs and a PUT, bypassing litekeep's client (as another tool could;
  // the server caches its directory listings, so files are not planted on
  // disk). Returns the PUT's HTTP status (0: no answer).
  long RawPut(const std::string& path, const std::string& content) const;

  // Kills the server (SIGKILL: a crash); the files stay.
  void Kill();
  // Starts it again on the same port and directory; false on failure.
  bool Restart();

 private:
  RcloneWebdav() = default;
  bool Launch();
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool tls_ = false;
};

// One server per test binary, started on first use; nullptr (the reason on
// stderr) when it cannot start.
RcloneWebdav* SharedRcloneWebdav();

}  // namespace litekeep::testing
