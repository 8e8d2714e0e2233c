// The VFS's database: opening (replica client, first version, threads),
// closing, building a version from a restore plan, and the lock state that
// decides when SQLite switches versions. The other jobs live beside it:
// vfs/read.cc, poll.cc, time_travel.cc, hydrate.cc, write.cc, stats.cc.
#include "vfs/database.h"

#include "ltx/file_name.h"
#include "restore/planner.h"
#include "storage/age_replica.h"
#include "storage/registry.h"
#include "storage/url.h"

namespace litekeep::vfs {
namespace {

std::atomic<bool> g_writer_open{false};

}  // namespace

Database::Database(VfsOptions options)
    : options_(std::move(options)), cache_(options_.cache_bytes) {}

Result<std::unique_ptr<Database>> Database::Open(const VfsOptions& options) {
  SetLogLevel(options.log_level);
  if (options.write_enabled && g_writer_open.exchange(true)) {
    return base::FailedPreconditionError(
        "litekeep vfs: a write-enabled database is already open in this "
        "process (one writer only)");
  }
  std::unique_ptr<Database> db(new Database(options));
  Status s = db->Init();
  if (!s.ok()) return s;
  return db;
}

Status Database::Init() {
  auto rc = storage::ParseReplicaUrl(options_.replica_url);
  if (!rc.ok()) return rc.status().WithContext("litekeep vfs: replica URL");
  if (!options_.age_identities.empty()) {
    rc->age = true;
    rc->age_identities = options_.age_identities;
  }
  LK_ASSIGN_OR_RETURN(client_, storage::NewReplicaClient(*rc));
  if (auto* age = dynamic_cast<storage::AgeReplica*>(client_.get())) {
    // Page reads address files by plaintext offsets: the listing must give
    // exact plaintext sizes (docs/vfs.md "Encrypted replicas").
    age->SetExactSizes(true);
  }
  // Plans of the newest state compare no creation times: no request per
  // file for them (time travel by time asks for exact ones).
  client_->SetCreatedTimes(storage::CreatedTimes::kListed);
  indexes_ =
      std::make_unique<IndexCache>(client_.get(), options_.index_parallelism);
  auto v = BuildVersion(std::nullopt, std::nullopt);
  if (!v.ok()) {
    if (!(options_.write_enabled &&
          v.status().code() == base::Code::kNotFound)) {
      return v.status();
    }
    // Write mode on an empty replica: a new, empty database.
    v = std::shared_ptr<const Version>(std::make_shared<Version>());
  }
  current_ = live_ = *v;
  poll_wait_ = options_.poll_interval;
  last_poll_ = std::chrono::steady_clock::now();
  Log(LogLevel::kInfo, "opened " + client_->Describe() + " at TXID " +
                           ltx::FormatTxId(current_->txid));
  if (options_.write_enabled) {
    write_commit_ = current_->commit;
    write_page_size_ = current_->page_size;
    syncer_ = std::thread([this] { SyncLoop(); });
  } else {
    poller_ = std::thread([this] { PollLoop(); });
  }
  if (!options_.hydration_path.empty()) {
    hydrator_ = std::thread([this] { Hydrate(); });
  }
  return Status::Ok();
}

Database::~Database() {
  Close().IgnoreError();
  if (options_.write_enabled) g_writer_open = false;
}

Status Database::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return write_error_;
    stop_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  if (syncer_.joinable()) syncer_.join();
  if (hydrator_.joinable()) hydrator_.join();
  if (options_.write_enabled) {
    Status s = SyncOnce();
    if (!s.ok()) Log(LogLevel::kError, "final sync failed: " + s.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    if (write_error_.ok() && !s.ok()) write_error_ = s;
    return write_error_;
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Version>> Database::BuildVersion(
    const std::optional<TxId>& txid, const std::optional<TimePoint>& when) {
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(*client_));
  restore::Target target;
  target.txid = txid;
  target.timestamp = when;
  LK_ASSIGN_OR_RETURN(restore::Plan plan,
                      restore::MakePlan(files, target, client_->Describe()));
  LK_ASSIGN_OR_RETURN(auto idx, indexes_->Get(plan.files));
  return ApplyFiles(nullptr, idx);
}

Status Database::Lock(LockLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  if (level == LockLevel::kShared && lock_ == LockLevel::kNone) {
    // Between transactions: switch versions here and only here.
    const auto& want = pinned_ ? pinned_ : live_;
    if (!options_.write_enabled && want != current_) current_ = want;
    PokeIfIdleLocked();
  }
  if (level >= LockLevel::kReserved && !write_error_.ok()) {
    return write_error_;
  }
  lock_ = level;
  return Status::Ok();
}

void Database::Unlock(LockLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  lock_ = level;
}

}  // namespace litekeep::vfs
