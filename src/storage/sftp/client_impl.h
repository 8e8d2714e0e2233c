// The SFTP client's parts, shared by the files that implement it
// (client.cc: connection pool, retries, deletes; read.cc: readers;
// write.cc: atomic uploads; list.cc: directory listings). Not used outside
// storage/sftp/.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "storage/replica_client.h"
#include "storage/sftp/options.h"
#include "storage/sftp/session.h"

namespace litekeep::storage::sftp {

// One directory entry.
struct Entry {
  std::string name;
  int64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch
  bool regular = false;
  bool directory = false;
};

class SftpClient : public ReplicaClient {
 public:
  explicit SftpClient(SftpOptions options);
  ~SftpClient() override;

  std::string Type() const override { return "sftp"; }
  std::string Describe() const override { return opts_.Describe(); }

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  base::Status WriteFile(const FileInfo& info, base::Reader& data) override;
  base::Status DeleteFiles(const std::vector<FileInfo>& files) override;
  base::Status DeleteAll() override;
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  // Exclusive create; replace is best effort (conditional.cc).
  Result<VersionedObject> ReadVersioned(const std::string& key) override;
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override;
  RequestCounts request_counts() const override;

  const SftpOptions& options() const { return opts_; }
  uint64_t sftp_requests() const;

  // Runs fn on a connected connection (its mutex held), retrying
  // kUnavailable failures with backoff and a fresh connection until the
  // attempts or the deadline are spent, or *no_retry turns true. `what`
  // names the operation (and the replica); errors start with it.
  base::Status Run(const std::string& what,
                   const std::function<base::Status(Connection&)>& fn,
                   const bool* no_retry = nullptr);
  // Picks a connection for a reader (which stays on it).
  Connection& PickConnection();
  // Sleeps the backoff before retry number `retry` (0-based).
  void Backoff(int retry) const;

  // Directory entries of dir on conn; kNotFound when dir is missing.
  static Result<std::vector<Entry>> ReadDir(Connection& conn,
                                            const std::string& dir);
  // Creates dir and its missing parents on conn.
  base::Status MakeDirs(Connection& conn, const std::string& dir);
  // Removes dir and everything below it on conn; missing is fine.
  static base::Status RemoveTree(Connection& conn, const std::string& dir);

  // The remote path of a key relative to the replica path.
  std::string Join(const std::string& rel) const;

 private:
  base::Status WriteOnce(Connection& conn, const FileInfo& info,
                         const std::string& head, base::Reader* rest,
                         bool* consumed);

  SftpOptions opts_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::atomic<size_t> next_{0};
  std::mutex dirs_mu_;
  std::set<std::string> made_dirs_;  // directories known to exist

  std::atomic<uint64_t> lists_{0}, gets_{0}, puts_{0}, dels_{0};
  std::atomic<uint64_t> list_errors_{0}, get_errors_{0}, put_errors_{0},
      del_errors_{0};
};

}  // namespace litekeep::storage::sftp
