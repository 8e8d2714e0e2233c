// Litestream's replica operation metrics around any ReplicaClient.
#include "replicate/metered_replica.h"

#include <chrono>
#include <utility>

namespace litekeep::replicate {
namespace {

using Seconds = std::chrono::duration<double>;

constexpr const char* kTotal = "litestream_replica_operation_total";
constexpr const char* kBytes = "litestream_replica_operation_bytes";
constexpr const char* kDuration =
    "litestream_replica_operation_duration_seconds";
constexpr const char* kErrors = "litestream_replica_operation_errors_total";

// The code label of a failed operation: the status code's name in
// snake_case ("unavailable", "not_found", ...).
std::string ErrorCode(const base::Status& s) {
  std::string code;
  for (char c : base::CodeName(s.code())) {
    if (c != '/') code += c == ' ' ? '_' : c;
  }
  return code;
}

// Counts the bytes read through it into the GET bytes counter as they are
// read (a ranged read counts what was read).
class CountingReader : public base::Reader {
 public:
  CountingReader(std::unique_ptr<base::Reader> inner,
                 metrics::Registry* registry, metrics::Labels labels)
      : inner_(std::move(inner)),
        registry_(registry),
        labels_(std::move(labels)) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    auto n = inner_->Read(buf);
    if (n.ok() && *n > 0) {
      registry_->Add(kBytes, labels_, static_cast<double>(*n));
    }
    return n;
  }

 private:
  std::unique_ptr<base::Reader> inner_;
  metrics::Registry* registry_;
  metrics::Labels labels_;
};

const base::Status& StatusOf(const base::Status& s) { return s; }
template <typename T>
base::Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace

void DescribeReplicaOperationMetrics(metrics::Registry& r) {
  r.Describe(kTotal, metrics::Type::kCounter,
             "The number of replica operations performed (Litestream's "
             "series).");
  r.Describe(kBytes, metrics::Type::kCounter,
             "The number of bytes used by replica operations (Litestream's "
             "series).");
  r.DescribeHistogram(kDuration,
                      "Duration of replica operations by type and operation "
                      "(Litestream's series).",
                      {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60});
  r.Describe(kErrors, metrics::Type::kCounter,
             "Number of replica operation errors by type, operation, and "
             "error code (Litestream's series).");
}

MeteredReplica::MeteredReplica(std::shared_ptr<storage::ReplicaClient> inner,
                               metrics::Registry* registry)
    : ForwardingReplicaClient(std::move(inner)),
      registry_(registry),
      type_(this->inner().Type()) {
  DescribeReplicaOperationMetrics(*registry_);
}

void MeteredReplica::Record(const char* operation, double seconds,
                            const base::Status& status, double count,
                            double bytes) {
  const metrics::Labels labels = {{"replica_type", type_},
                                  {"operation", operation}};
  registry_->Observe(kDuration, labels, seconds);
  if (!status.ok()) {
    metrics::Labels l = labels;
    l.emplace_back("code", ErrorCode(status));
    registry_->Add(kErrors, l, 1);
    return;
  }
  registry_->Add(kTotal, labels, count);
  if (bytes > 0) registry_->Add(kBytes, labels, bytes);
}

template <typename F>
auto MeteredReplica::Timed(const char* operation, F&& call, double count,
                           double bytes) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  Record(operation, Seconds(std::chrono::steady_clock::now() - start).count(),
         StatusOf(result), count, bytes);
  return result;
}

Result<std::vector<storage::FileInfo>> MeteredReplica::ListFiles(int level) {
  return Timed("LIST", [&] { return inner().ListFiles(level); });
}

Result<std::unique_ptr<base::Reader>> MeteredReplica::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  auto reader = Timed("GET", [&] {
    return inner().OpenFile(level, min_txid, max_txid, offset, length);
  });
  if (!reader.ok()) return reader;
  std::unique_ptr<base::Reader> counted = std::make_unique<CountingReader>(
      std::move(*reader), registry_,
      metrics::Labels{{"replica_type", type_}, {"operation", "GET"}});
  return counted;
}

base::Status MeteredReplica::WriteFile(const storage::FileInfo& info,
                                       base::Reader& data) {
  return Timed(
      "PUT", [&] { return inner().WriteFile(info, data); }, 1,
      static_cast<double>(info.size));
}

base::Status MeteredReplica::DeleteFiles(
    const std::vector<storage::FileInfo>& files) {
  if (files.empty()) return inner().DeleteFiles(files);
  // Litestream counts every file of a batch delete.
  return Timed(
      "DELETE", [&] { return inner().DeleteFiles(files); },
      static_cast<double>(files.size()));
}

base::Status MeteredReplica::WriteFileFenced(
    const storage::FileInfo& info, base::Reader& data,
    const storage::PublishFence& fence) {
  return Timed(
      "PUT", [&] { return inner().WriteFileFenced(info, data, fence); }, 1,
      static_cast<double>(info.size));
}

base::Status MeteredReplica::DeleteFilesFenced(
    const std::vector<storage::FileInfo>& files,
    const storage::PublishFence& fence) {
  if (files.empty()) return inner().DeleteFilesFenced(files, fence);
  return Timed(
      "DELETE", [&] { return inner().DeleteFilesFenced(files, fence); },
      static_cast<double>(files.size()));
}

base::Status MeteredReplica::DeleteAll() {
  return Timed("DELETE", [&] { return inner().DeleteAll(); });
}

Result<std::vector<storage::ObjectInfo>> MeteredReplica::ListObjects(
    const std::string& prefix) {
  return Timed("LIST", [&] { return inner().ListObjects(prefix); });
}

Result<std::unique_ptr<base::Reader>> MeteredReplica::OpenObject(
    const std::string& key) {
  return Timed("GET", [&] { return inner().OpenObject(key); });
}

}  // namespace litekeep::replicate
