// NatsClient's plumbing: the connection pool and reconnect rule, JetStream
// API calls and their errors, and the ReplicaClient methods that map LTX
// files and generic objects onto object names (the object store itself is
// in object.cc, list.cc and reader.cc).
#include "storage/nats/client.h"

#include "storage/hash.h"
#include "storage/layout.h"
#include "storage/listing.h"
#include "storage/nats/client_impl.h"
#include "storage/retry.h"

namespace litekeep::storage::nats {

using json = nlohmann::json;

RequestCounts NatsClient::request_counts() const {
  RequestCounts c;
  c.list = counts_[0].load();
  c.get = counts_[1].load();
  c.put = counts_[2].load();
  c.del = counts_[3].load();
  c.head = counts_[4].load();
  c.list_errors = errors_[0].load();
  c.get_errors = errors_[1].load();
  c.put_errors = errors_[2].load();
  c.del_errors = errors_[3].load();
  c.head_errors = errors_[4].load();
  return c;
}

void NatsClient::Count(Kind kind, bool failed) const {
  counts_[static_cast<int>(kind)].fetch_add(1);
  if (failed) errors_[static_cast<int>(kind)].fetch_add(1);
}

Status NatsClient::NoBucket(std::string_view what) const {
  return base::FailedPreconditionError(
      std::string(what) + ": object store bucket \"" + opts_.bucket +
      "\" does not exist on " + opts_.Describe() + " (stream " + Stream() +
      " not found); create it first, e.g. `nats object add " + opts_.bucket +
      "`");
}

Status NatsClient::ApiError(const json& e, std::string_view what) const {
  const int code = e.value("code", 0);
  const int err_code = e.value("err_code", 0);
  const std::string desc = e.value("description", std::string("error"));
  const std::string detail = desc + " (code " + std::to_string(code) +
                             ", err_code " + std::to_string(err_code) + ")";
  if (err_code == 10059) return NoBucket(what);
  if (err_code == 10037 || code == 404) {
    return base::NotFoundError(std::string(what) + ": " + detail);
  }
  if (err_code == 10071) {
    return base::FailedPreconditionError(std::string(what) + ": " + detail);
  }
  if (code >= 500 || code == 408) {
    return base::UnavailableError(std::string(what) + ": " + detail);
  }
  return base::FailedPreconditionError(std::string(what) + ": " + detail);
}

Result<json> NatsClient::Api(Conn& c, const std::string& subject,
                             const json& body, Kind kind,
                             std::string_view what) {
  auto m = c.Request(subject, "", body.dump());
  if (!m.ok()) {
    Count(kind, true);
    return m.status();
  }
  if (m->status == 503) {
    Count(kind, true);
    return base::FailedPreconditionError(
        std::string(what) + ": " + opts_.Describe() +
        " has no JetStream (no responders); start nats-server with -js");
  }
  json j = json::parse(m->data, nullptr, false);
  if (!j.is_object()) {
    Count(kind, true);
    return base::UnavailableError(std::string(what) +
                                  ": unreadable JetStream answer");
  }
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    Count(kind, true);
    return ApiError(*e, what);
  }
  Count(kind, false);
  return j;
}

Result<std::unique_ptr<Conn>> NatsClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      auto c = std::move(pool_.back());
      pool_.pop_back();
      return c;
    }
  }
  LK_ASSIGN_OR_RETURN(std::unique_ptr<Conn> c, Conn::Dial(opts_));
  if (!bucket_checked_.load()) {
    LK_ASSIGN_OR_RETURN(
        json info, Api(*c, "$JS.API.STREAM.INFO." + Stream(), json::object(),
                       Kind::kHead, "open " + opts_.Describe()));
    (void)info;
    bucket_checked_.store(true);
  }
  return c;
}

void NatsClient::Release(std::unique_ptr<Conn> conn) {
  if (conn == nullptr || conn->broken()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(pool_.size()) < opts_.max_connections) {
    pool_.push_back(std::move(conn));
  }
}

Status NatsClient::WithConn(std::string_view what,
                            const std::function<Status(Conn&)>& fn) {
  RetryBudget budget(opts_.retry);
  for (;;) {
    auto c = Acquire();
    Status s = c.ok() ? fn(**c) : c.status();
    if (c.ok()) Release(std::move(*c));
    if (s.ok() || !RetryPolicy::Retryable(s)) return s;
    if (!budget.RetryAfterFailure(s)) return budget.GiveUp(what);
  }
}

std::string NatsClient::MetaSubject(const std::string& name) const {
  // nats.go: base64.URLEncoding (with padding) of the name.
  std::string enc = Base64Encode(name);
  for (char& ch : enc) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  return "$O." + opts_.bucket + ".M." + enc;
}

std::string NatsClient::ChunkSubject(const std::string& nuid) const {
  return "$O." + opts_.bucket + ".C." + nuid;
}

Result<std::vector<FileInfo>> NatsClient::ListFiles(int level) {
  std::vector<Meta> metas;
  LK_RETURN_IF_ERROR(WithConn("list " + Describe(), [&](Conn& c) -> Status {
    LK_ASSIGN_OR_RETURN(metas, ListMeta(c));
    return Status::Ok();
  }));
  std::vector<ListedObject> listed;
  listed.reserve(metas.size());
  for (Meta& m : metas) {
    listed.push_back({std::move(m.name), m.size, m.modified,
                      std::move(m.digest), m.created});
  }
  return LevelFiles(listed, LtxLevelDir("", level) + "/", level);
}

Result<std::vector<ObjectInfo>> NatsClient::ListObjects(
    const std::string& prefix) {
  std::vector<Meta> metas;
  LK_RETURN_IF_ERROR(WithConn("list " + Describe(), [&](Conn& c) -> Status {
    LK_ASSIGN_OR_RETURN(metas, ListMeta(c));
    return Status::Ok();
  }));
  std::vector<ListedObject> listed;
  for (Meta& m : metas) {
    if (m.name.compare(0, prefix.size(), prefix) != 0) continue;
    listed.push_back({std::move(m.name), m.size, m.modified,
                      std::move(m.digest), m.created});
  }
  return RelativeObjects(listed, "");
}

Result<std::unique_ptr<base::Reader>> NatsClient::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  return OpenName(LtxFilePath("", level, min_txid, max_txid), offset, length);
}

Result<std::unique_ptr<base::Reader>> NatsClient::OpenObject(
    const std::string& key) {
  return OpenName(key, 0, -1);
}

Status NatsClient::WriteFile(const FileInfo& info, base::Reader& data) {
  const std::string name =
      LtxFilePath("", info.level, info.min_txid, info.max_txid);
  if (info.size < 0) {
    return base::InvalidArgumentError("put " + name + ": negative size");
  }
  return PutRetrying(name, info.created, data, info.size);
}

Status NatsClient::DeleteFiles(const std::vector<FileInfo>& files) {
  for (const FileInfo& f : files) {
    const std::string name = LtxFilePath("", f.level, f.min_txid, f.max_txid);
    LK_RETURN_IF_ERROR(WithConn("delete " + name + " in " + Describe(),
                                [&](Conn& c) { return Delete(c, name); }));
  }
  return Status::Ok();
}

Status NatsClient::DeleteAll() {
  return WithConn("purge " + Describe(), [&](Conn& c) -> Status {
    LK_ASSIGN_OR_RETURN(
        json r, Api(c, "$JS.API.STREAM.PURGE." + Stream(), json::object(),
                    Kind::kDel, "purge " + Describe()));
    if (!r.value("success", false)) {
      return base::UnavailableError("purge " + Describe() +
                                    ": the server did not confirm");
    }
    return Status::Ok();
  });
}

Result<std::unique_ptr<ReplicaClient>> NewNatsReplicaClient(
    const NatsOptions& options) {
  if (options.bucket.empty()) {
    return base::InvalidArgumentError("nats replica: bucket is required");
  }
  return std::unique_ptr<ReplicaClient>(new NatsClient(options));
}

}  // namespace litekeep::storage::nats
