// Atomic uploads: the data goes to a private temporary name in the level's
// directory (created as needed), is fsync'd where the server offers it,
// gets the LTX creation time as its mtime, and is renamed over the final
// name; a failed upload removes its temporary file.
#include <libssh2.h>
#include <libssh2_sftp.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "storage/layout.h"
#include "storage/sftp/client_impl.h"

namespace litekeep::storage::sftp {
namespace {

using base::Status;

// Data up to this size is held in memory so a failed upload can be sent
// again; a larger file streams once (the caller retries the whole upload).
constexpr int64_t kRetryableSize = 8 << 20;
// Bytes handed to libssh2 per write call: with concurrent writes it keeps
// many write requests of up to 30000 bytes in flight; without, one.
constexpr size_t kPipelinedChunk = 1 << 20;
constexpr size_t kSingleChunk = 30000;

std::string TempSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, ".tmp-%016llx",
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

Status SftpClient::WriteOnce(Connection& conn, const FileInfo& info,
                             const std::string& head, base::Reader* rest,
                             bool* consumed) {
  const std::string dir = LtxLevelDir(opts_.path, info.level);
  const std::string path =
      LtxFilePath(opts_.path, info.level, info.min_txid, info.max_txid);
  const std::string tmp = path + TempSuffix();
  const unsigned long flags =
      LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL;
  auto open = [&]() -> LIBSSH2_SFTP_HANDLE* {
    conn.CountRequest();
    return conn.OpenHandle(tmp, flags, 0600, LIBSSH2_SFTP_OPENFILE);
  };
  LIBSSH2_SFTP_HANDLE* h = open();
  if (h == nullptr) {
    Status s =
        conn.Error("create " + tmp, libssh2_session_last_errno(conn.session()));
    if (s.code() != base::Code::kNotFound) return s;
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      made_dirs_.erase(dir);
    }
    LK_RETURN_IF_ERROR(MakeDirs(conn, dir));
    h = open();
    if (h == nullptr) {
      return conn.Error("create " + tmp,
                        libssh2_session_last_errno(conn.session()));
    }
  }
  auto fail = [&](Status s) {
    if (conn.connected()) {
      conn.CloseHandle(h);
      libssh2_sftp_unlink_ex(conn.sftp(), tmp.data(),
                             static_cast<unsigned int>(tmp.size()));
    }
    return s;
  };
  const size_t chunk = opts_.concurrent_writes ? kPipelinedChunk : kSingleChunk;
  int64_t written = 0;
  auto send = [&](const char* data, size_t len) -> Status {
    while (len > 0) {
      size_t n = std::min(len, chunk);
      conn.CountRequest((n + kSingleChunk - 1) / kSingleChunk);
      ssize_t rc = libssh2_sftp_write(h, data, n);
      if (rc < 0) return conn.Error("write " + tmp, static_cast<int>(rc));
      data += rc;
      len -= static_cast<size_t>(rc);
      written += rc;
    }
    return Status::Ok();
  };
  Status s = send(head.data(), head.size());
  if (!s.ok()) return fail(s);
  if (rest != nullptr) {
    *consumed = true;
    std::vector<uint8_t> buf(kPipelinedChunk);
    for (;;) {
      auto n = rest->Read(buf);
      if (!n.ok()) return fail(n.status());
      if (*n == 0) break;
      s = send(reinterpret_cast<const char*>(buf.data()), *n);
      if (!s.ok()) return fail(s);
    }
  }
  if (written != info.size) {
    return fail(base::InvalidArgumentError(
        "write " + path + ": expected " + std::to_string(info.size) +
        " bytes but the data ended after " + std::to_string(written)));
  }
  conn.CountRequest();
  int rc = libssh2_sftp_fsync(h);
  if (rc != 0) {
    s = conn.Error("fsync " + tmp, rc);
    // Servers without fsync@openssh.com: the rename still makes it whole.
    if (s.code() != base::Code::kUnimplemented &&
        conn.last_sftp_status() != LIBSSH2_FX_OP_UNSUPPORTED) {
      return fail(s);
    }
  }
  if (info.created != TimePoint{}) {
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    attrs.flags = LIBSSH2_SFTP_ATTR_ACMODTIME;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                          info.created.time_since_epoch())
                          .count();
    attrs.atime = attrs.mtime = static_cast<unsigned long>(secs);
    conn.CountRequest();
    rc = libssh2_sftp_fstat_ex(h, &attrs, 1);
    if (rc != 0) return fail(conn.Error("set time of " + tmp, rc));
  }
  conn.CountRequest();
  rc = conn.CloseHandle(h);
  h = nullptr;
  auto unlink_tmp = [&](Status st) {
    if (conn.connected()) {
      libssh2_sftp_unlink_ex(conn.sftp(), tmp.data(),
                             static_cast<unsigned int>(tmp.size()));
    }
    return st;
  };
  if (rc != 0) return unlink_tmp(conn.Error("close " + tmp, rc));

  // posix-rename replaces an existing file atomically; plain SFTP rename
  // refuses to.
  s = conn.PosixRename(tmp, path);
  if (s.code() != base::Code::kUnimplemented) {
    return s.ok() ? s : unlink_tmp(s);
  }
  conn.CountRequest();
  rc = libssh2_sftp_rename_ex(
      conn.sftp(), tmp.data(), static_cast<unsigned int>(tmp.size()),
      path.data(), static_cast<unsigned int>(path.size()),
      LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
          LIBSSH2_SFTP_RENAME_NATIVE);
  if (rc == 0) return Status::Ok();
  s = conn.Error("rename " + tmp + " to " + path, rc);
  if (s.code() == base::Code::kUnavailable) return unlink_tmp(s);
  // The name exists and the server cannot replace it atomically: remove the
  // old file, then rename (docs/storage_layout.md "SFTP").
  conn.CountRequest();
  libssh2_sftp_unlink_ex(conn.sftp(), path.data(),
                         static_cast<unsigned int>(path.size()));
  conn.CountRequest();
  rc = libssh2_sftp_rename_ex(
      conn.sftp(), tmp.data(), static_cast<unsigned int>(tmp.size()),
      path.data(), static_cast<unsigned int>(path.size()), 0);
  if (rc == 0) return Status::Ok();
  return unlink_tmp(conn.Error("rename " + tmp + " to " + path, rc));
}

Status SftpClient::WriteFile(const FileInfo& info, base::Reader& data) {
  ++puts_;
  // Read up to kRetryableSize first: a file that fits can be sent again.
  // One byte more than declared shows data longer than its size.
  std::string head;
  head.resize(static_cast<size_t>(
      std::clamp<int64_t>(info.size + 1, 1, kRetryableSize)));
  size_t got = 0;
  bool ended = false;
  while (got < head.size()) {
    auto n = data.Read(std::span<uint8_t>(
        reinterpret_cast<uint8_t*>(head.data()) + got, head.size() - got));
    if (!n.ok()) {
      ++put_errors_;
      return n.status();
    }
    if (*n == 0) {
      ended = true;
      break;
    }
    got += *n;
  }
  head.resize(got);
  const std::string path =
      LtxFilePath(opts_.path, info.level, info.min_txid, info.max_txid);
  if (ended && static_cast<int64_t>(got) != info.size) {
    ++put_errors_;
    return base::InvalidArgumentError(
        "write " + path + ": expected " + std::to_string(info.size) +
        " bytes but the data ended after " + std::to_string(got));
  }
  bool consumed = false;
  Status s = Run(
      "upload " + path + " to " + Describe(),
      [&](Connection& conn) -> Status {
        return WriteOnce(conn, info, head, ended ? nullptr : &data, &consumed);
      },
      &consumed);
  if (!s.ok()) ++put_errors_;
  return s;
}

}  // namespace litekeep::storage::sftp
