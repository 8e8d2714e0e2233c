// One SSH connection of the SFTP backend: TCP connect with a timeout, SSH
// handshake, host-key check (host_key.h), authentication (key file, then
// password / keyboard-interactive), the SFTP subsystem, and the mapping of
// libssh2 errors to Status. A connection is used by one thread at a time
// (its mutex); after a transport error it closes itself and the next use
// reconnects. It also keeps a second, raw SFTP channel for the OpenSSH
// extension posix-rename@openssh.com (atomic overwrite), which libssh2 1.10
// does not offer.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/sftp/options.h"

struct _LIBSSH2_SESSION;
struct _LIBSSH2_SFTP;
struct _LIBSSH2_CHANNEL;
struct _LIBSSH2_SFTP_HANDLE;

namespace litekeep::storage::sftp {

class Connection {
 public:
  explicit Connection(const SftpOptions* options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Guards every use of the connection and of handles opened on it.
  std::mutex& mu() { return mu_; }

  // Connects when not connected. Errors: kUnavailable (network, timeout,
  // server gone), kPermissionDenied (host key refused, authentication
  // failed), kInvalidArgument (unreadable key file).
  base::Status Connect();
  bool connected() const { return sftp_ != nullptr; }
  // Closes everything and frees every libssh2 object of the connection
  // without waiting for the server (it is told goodbye, then the socket is
  // shut down); handles opened before are freed and invalid afterwards.
  void Reset();
  // Changes on every successful Connect: a handle is valid only while the
  // generation it was opened in is current.
  uint64_t generation() const { return generation_; }

  _LIBSSH2_SESSION* session() { return session_; }
  _LIBSSH2_SFTP* sftp() { return sftp_; }

  // Opens a file or directory (libssh2_sftp_open_ex's flags, mode and
  // type); nullptr on failure (then Error with libssh2_session_last_errno).
  // The handle belongs to the connection until CloseHandle: Reset frees the
  // ones still open, so a transport failure leaks none of them.
  _LIBSSH2_SFTP_HANDLE* OpenHandle(const std::string& path, unsigned long flags,
                                   long mode, int type);
  // Closes a handle from OpenHandle (0 or libssh2's error code); it is freed
  // whatever the result. A handle Reset already freed is left alone.
  int CloseHandle(_LIBSSH2_SFTP_HANDLE* handle);

  // The Status for a failed libssh2 call (rc < 0, or the SFTP status of the
  // last request): kNotFound, kPermissionDenied, kAlreadyExists, kIoError;
  // transport failures are kUnavailable and close the connection.
  // "what" names the operation and the path.
  base::Status Error(std::string_view what, int rc);
  // The SFTP status code of the last failed request (LIBSSH2_FX_*), 0 when
  // the last failure was not an SFTP status.
  unsigned long last_sftp_status() const { return last_sftp_status_; }

  // Renames atomically, replacing `to` if it exists, with the OpenSSH
  // extension posix-rename@openssh.com. kUnimplemented when the server does
  // not offer it.
  base::Status PosixRename(const std::string& from, const std::string& to);

  // SFTP requests sent (for benchmarks: requests per sync).
  uint64_t requests() const { return requests_; }
  void CountRequest(uint64_t n = 1) { requests_ += n; }

 private:
  base::Status ConnectOnce();
  base::Status Authenticate();
  base::Status OpenRawChannel();
  base::Status RawWrite(const std::string& packet);
  base::Status RawRead(std::string* packet);
  base::Status SessionError(std::string_view what, int rc);

  const SftpOptions* options_;
  std::mutex mu_;
  int fd_ = -1;
  _LIBSSH2_SESSION* session_ = nullptr;
  _LIBSSH2_SFTP* sftp_ = nullptr;
  _LIBSSH2_CHANNEL* raw_ = nullptr;             // posix-rename channel (lazy)
  std::vector<_LIBSSH2_SFTP_HANDLE*> handles_;  // open, from OpenHandle
  bool raw_tried_ = false;
  bool has_posix_rename_ = false;
  uint32_t raw_id_ = 0;
  uint64_t generation_ = 0;
  unsigned long last_sftp_status_ = 0;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace litekeep::storage::sftp
