// Conditional writes of small control objects over SFTP (the replica
// lease). Create-if-absent is exclusive: the object is written to a
// private temporary name and renamed with the plain SFTP rename, which
// refuses an existing target (OpenSSH's server links the new name). Replace
// is best effort: the content is read and compared (version = CRC-64 of the
// content), then the new one is renamed over it with posix-rename; SFTP has
// no compare-and-swap, so two replacers racing between the compare and the
// rename can both succeed (docs/storage_layout.md, "SFTP").
#include <libssh2.h>
#include <libssh2_sftp.h>

#include <cstdio>
#include <random>

#include "base/crc64.h"
#include "storage/sftp/client_impl.h"

namespace litekeep::storage::sftp {
namespace {

std::string VersionOf(const std::string& data) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(base::Crc64Of(data)));
  return buf;
}

std::string TempName(const std::string& path) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, ".tmp-%016llx",
                static_cast<unsigned long long>(rng()));
  return path + buf;
}

}  // namespace

Result<VersionedObject> SftpClient::ReadVersioned(const std::string& key) {
  LK_ASSIGN_OR_RETURN(std::unique_ptr<base::Reader> r, OpenObject(key));
  VersionedObject out;
  base::StringWriter w(&out.data);
  std::vector<uint8_t> buf(16384);
  for (;;) {
    LK_ASSIGN_OR_RETURN(size_t n, r->Read(buf));
    if (n == 0) break;
    LK_RETURN_IF_ERROR(w.Write({buf.data(), n}));
    if (out.data.size() > (1 << 20)) {
      return base::CorruptError(Join(key) + " is larger than 1 MiB");
    }
  }
  out.version = VersionOf(out.data);
  return out;
}

Result<std::string> SftpClient::WriteIf(const std::string& key,
                                        const std::string& data,
                                        const std::string& if_version) {
  if (key.empty() || key.front() == '/' ||
      key.find("..") != std::string::npos) {
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  if (!if_version.empty()) {
    auto current = ReadVersioned(key);
    if (!current.ok()) {
      if (current.status().code() == base::Code::kNotFound) {
        return base::FailedPreconditionError("replace " + Join(key) +
                                             ": it is gone (to be replaced if "
                                             "unchanged)");
      }
      return current.status();
    }
    if (current->version != if_version) {
      return base::FailedPreconditionError("replace " + Join(key) +
                                           ": it changed since it was read");
    }
  }
  ++puts_;
  const std::string path = Join(key);
  const std::string tmp = TempName(path);
  Status s = Run(
      "conditional write of " + path + " to " + Describe(),
      [&](Connection& conn) -> Status {
        conn.CountRequest();
        LIBSSH2_SFTP_HANDLE* h = conn.OpenHandle(
            tmp, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, 0600,
            LIBSSH2_SFTP_OPENFILE);
        if (h == nullptr) {
          Status e = conn.Error("create " + tmp,
                                libssh2_session_last_errno(conn.session()));
          if (e.code() != base::Code::kNotFound) return e;
          const size_t slash = path.rfind('/');
          if (slash == std::string::npos || slash == 0) return e;
          LK_RETURN_IF_ERROR(MakeDirs(conn, path.substr(0, slash)));
          conn.CountRequest();
          h = conn.OpenHandle(
              tmp, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL,
              0600, LIBSSH2_SFTP_OPENFILE);
          if (h == nullptr) {
            return conn.Error("create " + tmp,
                              libssh2_session_last_errno(conn.session()));
          }
        }
        auto unlink_tmp = [&](Status st) {
          if (conn.connected()) {
            libssh2_sftp_unlink_ex(conn.sftp(), tmp.data(),
                                   static_cast<unsigned int>(tmp.size()));
          }
          return st;
        };
        const char* p = data.data();
        size_t left = data.size();
        while (left > 0) {
          conn.CountRequest();
          ssize_t rc = libssh2_sftp_write(h, p, left);
          if (rc < 0) {
            Status e = conn.Error("write " + tmp, static_cast<int>(rc));
            if (conn.connected()) conn.CloseHandle(h);
            return unlink_tmp(e);
          }
          p += rc;
          left -= static_cast<size_t>(rc);
        }
        conn.CountRequest();
        libssh2_sftp_fsync(h);  // best effort: not every server offers it
        conn.CountRequest();
        int rc = conn.CloseHandle(h);
        if (rc != 0) return unlink_tmp(conn.Error("close " + tmp, rc));
        if (if_version.empty()) {
          conn.CountRequest();
          rc = libssh2_sftp_rename_ex(
              conn.sftp(), tmp.data(), static_cast<unsigned int>(tmp.size()),
              path.data(), static_cast<unsigned int>(path.size()), 0);
          if (rc != 0) {
            Status e = conn.Error("rename " + tmp + " to " + path, rc);
            if (e.code() == base::Code::kUnavailable) return unlink_tmp(e);
            // The name exists (SSH_FX_FAILURE or FILE_ALREADY_EXISTS).
            unlink_tmp(Status::Ok()).IgnoreError();
            return base::AlreadyExistsError("create " + path +
                                            ": it already exists");
          }
          return Status::Ok();
        }
        Status r = conn.PosixRename(tmp, path);
        if (!r.ok()) return unlink_tmp(r);
        return Status::Ok();
      });
  if (!s.ok()) {
    ++put_errors_;
    return s;
  }
  return VersionOf(data);
}

}  // namespace litekeep::storage::sftp
