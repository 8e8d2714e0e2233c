// Readers of remote files: a handle kept open on one connection between
// reads, reopened at the current offset on a fresh connection after a
// transport failure.
#include <libssh2.h>
#include <libssh2_sftp.h>

#include <chrono>

#include "storage/layout.h"
#include "storage/sftp/client_impl.h"

namespace litekeep::storage::sftp {
namespace {

using base::Status;
using Clock = std::chrono::steady_clock;

class SftpReader : public base::Reader {
 public:
  SftpReader(SftpClient* client, std::string path, int64_t offset,
             int64_t length)
      : client_(client),
        path_(std::move(path)),
        offset_(offset),
        remaining_(length) {}

  ~SftpReader() override {
    if (conn_ == nullptr || handle_ == nullptr) return;
    std::lock_guard<std::mutex> lock(conn_->mu());
    if (conn_->connected() && conn_->generation() == generation_) {
      conn_->CountRequest();
      conn_->CloseHandle(handle_);
    }
  }

  // Opens the file (kNotFound surfaces here).
  Status Start() {
    return client_->Run("open " + path_ + " in " + client_->Describe(),
                        [&](Connection& conn) { return OpenOn(conn); });
  }

  Result<size_t> Read(std::span<uint8_t> buf) override {
    if (remaining_ == 0 || buf.empty() || eof_) return size_t{0};
    size_t want = buf.size();
    if (remaining_ > 0)
      want = std::min<size_t>(want, static_cast<size_t>(remaining_));
    const auto start = Clock::now();
    Status last;
    const SftpOptions& o = client_->options();
    for (int attempt = 0;; ++attempt) {
      Connection& conn = conn_ != nullptr ? *conn_ : client_->PickConnection();
      ssize_t n = -1;
      {
        std::lock_guard<std::mutex> lock(conn.mu());
        last = Status::Ok();
        if (conn_ != &conn || !conn.connected() ||
            conn.generation() != generation_ || handle_ == nullptr) {
          handle_ = nullptr;
          last = conn.Connect();
          if (last.ok()) last = OpenOn(conn);
        }
        if (last.ok()) {
          n = libssh2_sftp_read(handle_, reinterpret_cast<char*>(buf.data()),
                                want);
          // libssh2 reads at most 30000 bytes per request.
          conn.CountRequest(n > 0 ? (static_cast<uint64_t>(n) + 29999) / 30000
                                  : 1);
          if (n < 0) {
            last = conn.Error("read " + path_, static_cast<int>(n));
            if (!conn.connected()) handle_ = nullptr;
          }
        }
      }
      if (last.ok()) {
        if (n == 0) {
          // A range running past the end reads what is there.
          eof_ = true;
          return size_t{0};
        }
        offset_ += n;
        if (remaining_ > 0) remaining_ -= n;
        return static_cast<size_t>(n);
      }
      if (!last.retryable()) {
        return last.WithContext("read " + path_ + " in " + client_->Describe());
      }
      conn_ = nullptr;  // reconnect on whichever connection is free
      const bool out_of_time =
          o.deadline.count() > 0 && Clock::now() - start >= o.deadline;
      if (attempt + 1 >= o.max_attempts || out_of_time) {
        return base::UnavailableError("read " + path_ + " in " +
                                      client_->Describe() + ": gave up after " +
                                      std::to_string(attempt + 1) +
                                      " attempts: " + last.message());
      }
      client_->Backoff(attempt);
    }
  }

 private:
  // Opens path_ on conn (its mutex held) and seeks to offset_.
  Status OpenOn(Connection& conn) {
    conn.CountRequest();
    LIBSSH2_SFTP_HANDLE* h =
        conn.OpenHandle(path_, LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE);
    if (h == nullptr) {
      Status s = conn.Error("open " + path_,
                            libssh2_session_last_errno(conn.session()));
      if (s.code() == base::Code::kNotFound) {
        return base::NotFoundError("no such file");
      }
      return s;
    }
    // A directory or other non-file under the name is not a replica file.
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    conn.CountRequest();
    int rc = libssh2_sftp_fstat_ex(h, &attrs, 0);
    if (rc != 0) {
      Status s = conn.Error("stat " + path_, rc);
      if (conn.connected()) conn.CloseHandle(h);
      return s;
    }
    if ((attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
        !LIBSSH2_SFTP_S_ISREG(attrs.permissions)) {
      conn.CloseHandle(h);
      return base::CorruptError("not a regular file");
    }
    libssh2_sftp_seek64(h, static_cast<libssh2_uint64_t>(offset_));
    handle_ = h;
    conn_ = &conn;
    generation_ = conn.generation();
    return Status::Ok();
  }

  SftpClient* client_;
  std::string path_;
  int64_t offset_;
  int64_t remaining_;  // -1: to the end
  bool eof_ = false;
  Connection* conn_ = nullptr;
  uint64_t generation_ = 0;
  LIBSSH2_SFTP_HANDLE* handle_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<base::Reader>> SftpClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  ++gets_;
  auto reader = std::make_unique<SftpReader>(
      this, LtxFilePath(opts_.path, level, min_txid, max_txid), offset, length);
  Status s = reader->Start();
  if (!s.ok()) {
    ++get_errors_;
    return s;
  }
  return std::unique_ptr<base::Reader>(std::move(reader));
}

Result<std::unique_ptr<base::Reader>> SftpClient::OpenObject(
    const std::string& key) {
  ++gets_;
  if (key.empty() || key.front() == '/' ||
      key.find("..") != std::string::npos) {
    ++get_errors_;
    return base::InvalidArgumentError("invalid object key \"" + key + "\"");
  }
  auto reader = std::make_unique<SftpReader>(this, Join(key), 0, -1);
  Status s = reader->Start();
  if (!s.ok()) {
    ++get_errors_;
    return s;
  }
  return std::unique_ptr<base::Reader>(std::move(reader));
}

}  // namespace litekeep::storage::sftp
