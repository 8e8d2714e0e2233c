// The SFTP client: connection pool, retries with backoff, listings of LTX
// levels, deletes, request counts.
#include "storage/sftp/client.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "ltx/file_name.h"
#include "storage/layout.h"
#include "storage/sftp/client_impl.h"

namespace litekeep::storage::sftp {

using base::Status;
using Clock = std::chrono::steady_clock;

SftpClient::SftpClient(SftpOptions options) : opts_(std::move(options)) {
  const int n = std::max(1, opts_.max_connections);
  for (int i = 0; i < n; ++i) {
    conns_.push_back(std::make_unique<Connection>(&opts_));
  }
}

SftpClient::~SftpClient() = default;

std::string SftpClient::Join(const std::string& rel) const {
  if (opts_.path.empty()) return rel;
  if (opts_.path == "/") return "/" + rel;
  return opts_.path + "/" + rel;
}

Connection& SftpClient::PickConnection() {
  // Prefer an idle connection that is already open, then any idle one.
  const size_t n = conns_.size();
  const size_t start = next_.fetch_add(1);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      Connection& c = *conns_[(start + i) % n];
      if (!c.mu().try_lock()) continue;
      const bool take = pass == 1 || c.connected();
      c.mu().unlock();
      if (take) return c;
    }
  }
  return *conns_[start % n];
}

void SftpClient::Backoff(int retry) const {
  auto base = opts_.backoff_base * (1LL << std::min(retry, 20));
  auto cap = std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(base),
      opts_.backoff_max);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(
      cap.count() / 2, std::max<int64_t>(cap.count(), 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

Status SftpClient::Run(const std::string& what,
                       const std::function<Status(Connection&)>& fn,
                       const bool* no_retry) {
  const auto start = Clock::now();
  Status last;
  int attempt = 0;
  for (;; ++attempt) {
    Connection& conn = PickConnection();
    {
      std::lock_guard<std::mutex> lock(conn.mu());
      last = conn.Connect();
      if (last.ok()) last = fn(conn);
    }
    if (last.ok()) return last;
    if (!last.retryable()) return last.WithContext(what);
    if (no_retry != nullptr && *no_retry) {
      return last.WithContext(what + " (streamed data cannot be resent)");
    }
    const bool out_of_attempts = attempt + 1 >= opts_.max_attempts;
    const bool out_of_time =
        opts_.deadline.count() > 0 && Clock::now() - start >= opts_.deadline;
    if (out_of_attempts || out_of_time) break;
    Backoff(attempt);
  }
  const auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        Clock::now() - start)
                        .count() /
                    1000.0;
  char took[32];
  std::snprintf(took, sizeof took, "%.1f", secs);
  return base::UnavailableError(what + ": gave up after " +
                                std::to_string(attempt + 1) + " attempts in " +
                                took + "s: " + last.message());
}

Result<std::vector<Entry>> SftpClient::ReadDir(Connection& conn,
                                               const std::string& dir) {
  conn.CountRequest();
  LIBSSH2_SFTP_HANDLE* h = conn.OpenHandle(dir, 0, 0, LIBSSH2_SFTP_OPENDIR);
  if (h == nullptr) {
    return conn.Error("list " + dir,
                      libssh2_session_last_errno(conn.session()));
  }
  std::vector<Entry> out;
  char name[1024];
  Status failed;
  uint64_t seen = 0;
  for (;;) {
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    // One READDIR answers up to 100 names on OpenSSH: count one request per
    // 100 entries and one for the final, empty answer.
    if (seen++ % 100 == 0) conn.CountRequest();
    int n = libssh2_sftp_readdir_ex(h, name, sizeof name, nullptr, 0, &attrs);
    if (n == 0) {
      conn.CountRequest();  // the answer that says "no more"
      break;
    }
    if (n < 0) {
      failed = conn.Error("list " + dir, n);
      break;
    }
    Entry e;
    e.name.assign(name, static_cast<size_t>(n));
    if (e.name == "." || e.name == "..") continue;
    if (attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
      e.regular = LIBSSH2_SFTP_S_ISREG(attrs.permissions);
      e.directory = LIBSSH2_SFTP_S_ISDIR(attrs.permissions);
    }
    if (attrs.flags & LIBSSH2_SFTP_ATTR_SIZE) {
      e.size = static_cast<int64_t>(attrs.filesize);
    }
    if (attrs.flags & LIBSSH2_SFTP_ATTR_ACMODTIME) {
      e.mtime = static_cast<int64_t>(attrs.mtime);
    }
    out.push_back(std::move(e));
  }
  if (conn.connected()) {
    conn.CountRequest();
    conn.CloseHandle(h);
  }
  if (!failed.ok()) return failed;
  return out;
}

Status SftpClient::MakeDirs(Connection& conn, const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(dirs_mu_);
    if (made_dirs_.count(dir)) return Status::Ok();
  }
  // Create each missing component from the top down.
  std::vector<std::string> prefixes;
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') prefixes.push_back(dir.substr(0, i));
  }
  for (const std::string& p : prefixes) {
    if (p == "/" || p.empty()) continue;
    conn.CountRequest();
    int rc = libssh2_sftp_mkdir_ex(conn.sftp(), p.data(),
                                   static_cast<unsigned int>(p.size()), 0755);
    if (rc == 0) continue;
    Status s = conn.Error("create directory " + p, rc);
    if (s.code() == base::Code::kUnavailable) return s;
    // Exists already (OpenSSH says "failure"): fine if it is a directory.
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    conn.CountRequest();
    int st = libssh2_sftp_stat_ex(conn.sftp(), p.data(),
                                  static_cast<unsigned int>(p.size()),
                                  LIBSSH2_SFTP_STAT, &attrs);
    if (st != 0) {
      Status why = conn.Error("create directory " + p, st);
      return why.code() == base::Code::kUnavailable ? why : s;
    }
    if (!LIBSSH2_SFTP_S_ISDIR(attrs.permissions)) {
      return base::IoError("create directory " + p +
                           ": a file of that name is in the way");
    }
  }
  std::lock_guard<std::mutex> lock(dirs_mu_);
  made_dirs_.insert(dir);
  return Status::Ok();
}

Status SftpClient::RemoveTree(Connection& conn, const std::string& dir) {
  auto entries = ReadDir(conn, dir);
  if (!entries.ok()) {
    return entries.status().code() == base::Code::kNotFound ? Status::Ok()
                                                            : entries.status();
  }
  for (const Entry& e : *entries) {
    const std::string path = dir + "/" + e.name;
    if (e.directory) {
      LK_RETURN_IF_ERROR(RemoveTree(conn, path));
      continue;
    }
    conn.CountRequest();
    int rc = libssh2_sftp_unlink_ex(conn.sftp(), path.data(),
                                    static_cast<unsigned int>(path.size()));
    if (rc != 0) {
      Status s = conn.Error("delete " + path, rc);
      if (s.code() != base::Code::kNotFound) return s;
    }
  }
  conn.CountRequest();
  int rc = libssh2_sftp_rmdir_ex(conn.sftp(), dir.data(),
                                 static_cast<unsigned int>(dir.size()));
  if (rc != 0) {
    Status s = conn.Error("delete directory " + dir, rc);
    if (s.code() != base::Code::kNotFound) return s;
  }
  return Status::Ok();
}

Result<std::vector<FileInfo>> SftpClient::ListFiles(int level) {
  ++lists_;
  const std::string dir = LtxLevelDir(opts_.path, level);
  std::vector<FileInfo> out;
  Status s = Run("list " + Describe() + " level " + std::to_string(level),
                 [&](Connection& conn) -> Status {
                   out.clear();
                   auto entries = ReadDir(conn, dir);
                   if (!entries.ok()) {
                     return entries.status().code() == base::Code::kNotFound
                                ? Status::Ok()
                                : entries.status();
                   }
                   for (const Entry& e : *entries) {
                     auto range = ltx::ParseFileName(e.name);
                     if (!range || !e.regular) continue;
                     FileInfo info;
                     info.level = level;
                     info.min_txid = range->min_txid;
                     info.max_txid = range->max_txid;
                     info.size = e.size;
                     info.created = TimePoint(
                         std::chrono::duration_cast<TimePoint::duration>(
                             std::chrono::seconds(e.mtime)));
                     out.push_back(info);
                   }
                   return Status::Ok();
                 });
  if (!s.ok()) {
    ++list_errors_;
    return s;
  }
  std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                    : a.max_txid < b.max_txid;
  });
  return out;
}

Status SftpClient::DeleteFiles(const std::vector<FileInfo>& files) {
  for (const FileInfo& f : files) {
    ++dels_;
    const std::string path =
        LtxFilePath(opts_.path, f.level, f.min_txid, f.max_txid);
    Status s = Run(
        "delete " + path + " in " + Describe(),
        [&](Connection& conn) -> Status {
          conn.CountRequest();
          int rc = libssh2_sftp_unlink_ex(
              conn.sftp(), path.data(), static_cast<unsigned int>(path.size()));
          if (rc == 0) return Status::Ok();
          Status e = conn.Error("delete " + path, rc);
          return e.code() == base::Code::kNotFound ? Status::Ok() : e;
        });
    if (!s.ok()) {
      ++del_errors_;
      return s;
    }
  }
  return Status::Ok();
}

Status SftpClient::DeleteAll() {
  const std::string dir = LtxDir(opts_.path);
  Status s = Run("delete " + dir + " in " + Describe(),
                 [&](Connection& conn) { return RemoveTree(conn, dir); });
  std::lock_guard<std::mutex> lock(dirs_mu_);
  made_dirs_.clear();
  return s;
}

RequestCounts SftpClient::request_counts() const {
  RequestCounts c;
  c.list = lists_;
  c.get = gets_;
  c.put = puts_;
  c.del = dels_;
  c.list_errors = list_errors_;
  c.get_errors = get_errors_;
  c.put_errors = put_errors_;
  c.del_errors = del_errors_;
  return c;
}

uint64_t SftpClient::sftp_requests() const {
  uint64_t n = 0;
  for (const auto& c : conns_) n += c->requests();
  return n;
}

Result<std::unique_ptr<ReplicaClient>> NewSftpReplicaClient(
    const SftpOptions& options) {
  return std::unique_ptr<ReplicaClient>(new SftpClient(options));
}

uint64_t SftpRequestCount(const ReplicaClient& client) {
  const auto* c = dynamic_cast<const SftpClient*>(&client);
  return c == nullptr ? 0 : c->sftp_requests();
}

}  // namespace litekeep::storage::sftp
