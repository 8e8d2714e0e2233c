// The NATS client's parts, shared by the files that implement it
// (client.cc: connections, JetStream API calls, errors; object.cc: object
// metadata, upload, delete; list.cc: listing through a consumer;
// reader.cc: reading chunks). Not used outside storage/nats/.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "storage/nats/conn.h"
#include "storage/nats/options.h"
#include "storage/replica_client.h"

namespace litekeep::storage::nats {

using base::Status;

// The object header holding the LTX creation time (RFC 3339), as
// Litestream's NATS client writes it.
inline constexpr char kTimestampHeader[] = "Litestream-Timestamp";

// Request kinds, for the request counters.
enum class Kind { kList, kGet, kPut, kDel, kHead };

// One object's metadata message (nats.go's ObjectInfo) and where it sits.
struct Meta {
  std::string name;
  std::string nuid;    // chunks are on $O.<bucket>.C.<nuid>
  std::string digest;  // "SHA-256=<base64url>"
  int64_t size = 0;
  int64_t chunks = 0;
  bool deleted = false;
  bool link = false;                 // a link to another object (unsupported)
  std::optional<TimePoint> created;  // Litestream-Timestamp header
  TimePoint modified{};              // the meta message's time
  uint64_t seq = 0;                  // the meta message's stream sequence
  std::string raw;                   // the meta message's JSON
};

// Parses a meta message body; false when it is not one.
bool ParseMeta(std::string_view json, Meta* meta);

class NatsClient;

// A reader of meta's chunks, on its own connection, from offset (length <
// 0: to the end); it checks the size and SHA-256 digest at the end and
// resumes from the next chunk after a broken connection.
std::unique_ptr<base::Reader> NewChunkReader(NatsClient* client, Meta meta,
                                             int64_t offset, int64_t length);

class NatsClient : public ReplicaClient {
 public:
  explicit NatsClient(NatsOptions opts) : opts_(std::move(opts)) {}

  std::string Type() const override { return "nats"; }
  std::string Describe() const override { return opts_.Describe(); }
  RequestCounts request_counts() const override;

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  Status WriteFile(const FileInfo& info, base::Reader& data) override;
  Status DeleteFiles(const std::vector<FileInfo>& files) override;
  Status DeleteAll() override;
  Result<std::vector<ObjectInfo>> ListObjects(
      const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;
  Result<VersionedObject> ReadVersioned(const std::string& key) override;
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override;

  // --- plumbing (client.cc) ---
  // A connection from the pool, or a new one (the first also checks that
  // the bucket exists).
  Result<std::unique_ptr<Conn>> Acquire();
  // Returns a healthy connection to the pool (a broken one is dropped).
  void Release(std::unique_ptr<Conn> conn);
  // Runs fn on a pooled connection; a kUnavailable failure drops the
  // connection and runs fn again on a new one, under the reconnect rule.
  Status WithConn(std::string_view what,
                  const std::function<Status(Conn&)>& fn);
  // One JetStream API request (counted as kind); the answer's JSON, or the
  // error it carries translated (stream missing: the bucket does not exist;
  // no message: kNotFound).
  Result<nlohmann::json> Api(Conn& c, const std::string& subject,
                             const nlohmann::json& body, Kind kind,
                             std::string_view what);
  // The Status for a JetStream error object ({"code","err_code",
  // "description"}).
  Status ApiError(const nlohmann::json& error, std::string_view what) const;
  // The Status for a bucket that does not exist.
  Status NoBucket(std::string_view what) const;
  void Count(Kind kind, bool failed) const;

  // --- the object store (object.cc, list.cc) ---
  std::string Stream() const { return "OBJ_" + opts_.bucket; }
  std::string MetaSubject(const std::string& name) const;
  std::string ChunkSubject(const std::string& nuid) const;
  // The newest meta message of name (deleted ones too); nullopt if none.
  Result<std::optional<Meta>> GetMeta(Conn& c, const std::string& name);
  // Every live object (the newest meta message per name, not deleted).
  Result<std::vector<Meta>> ListMeta(Conn& c);
  // Uploads an object: chunks, then the meta message (rolling up the
  // previous one), then purges the previous chunks. With expect set, the
  // meta message is only accepted if the name's newest meta message still
  // has that sequence (0: none); *seq receives the new meta sequence.
  Status Put(Conn& c, const std::string& name, std::optional<TimePoint> created,
             base::Reader& data, int64_t size, std::optional<uint64_t> expect,
             uint64_t* seq);
  // Puts with retries when the data fits in the retry buffer.
  Status PutRetrying(const std::string& name, std::optional<TimePoint> created,
                     base::Reader& data, int64_t size);
  // Marks name deleted and purges its chunks; missing is not an error.
  Status Delete(Conn& c, const std::string& name);
  Status Purge(Conn& c, const std::string& subject);
  // A reader of the object's chunks from offset (length < 0: to the end).
  Result<std::unique_ptr<base::Reader>> OpenName(const std::string& name,
                                                 int64_t offset,
                                                 int64_t length);
  const NatsOptions& options() const { return opts_; }
  // The publish acknowledgement in m: the stored sequence, or the error
  // (no responders: the bucket is gone).
  Result<uint64_t> CheckAck(const Msg& m, std::string_view what) const;

 private:
  NatsOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> pool_;
  std::atomic<bool> bucket_checked_{false};
  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};
};

}  // namespace litekeep::storage::nats
