// The replica lease (docs/architecture.md, "Replica lease").
#include "replicate/lease.h"

#include <openssl/rand.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "base/io.h"
#include "base/rfc3339.h"
#include "ltx/file_name.h"

namespace litekeep::replicate {
namespace {

bool IsConflict(const Status& s) {
  return s.code() == base::Code::kAlreadyExists ||
         s.code() == base::Code::kFailedPrecondition;
}

std::string RandomId() {
  uint64_t r = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof(r)) != 1) {
    r = static_cast<uint64_t>(
            std::chrono::steady_clock::now().time_since_epoch().count()) ^
        static_cast<uint64_t>(::getpid());
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(r));
  return buf;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0) {
    return "unknown-host";
  }
  return buf;
}

// "<kernel boot id>:<pid namespace inode>": processes that share it see
// the same pids ("" when unknown).
std::string LocalPidNamespace() {
  auto boot = base::ReadFileToString("/proc/sys/kernel/random/boot_id");
  struct stat st;
  if (!boot.ok() || ::stat("/proc/self/ns/pid", &st) != 0) return "";
  std::string id = *boot;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id + ":" + std::to_string(st.st_ino);
}

// True when the record's holder ran in this pid namespace and its process
// no longer exists.
bool HolderIsGone(const LeaseRecord& r) {
  static const std::string local = LocalPidNamespace();
  if (local.empty() || r.pid_ns != local || r.pid <= 0 || r.pid == ::getpid()) {
    return false;
  }
  return ::kill(static_cast<pid_t>(r.pid), 0) != 0 && errno == ESRCH;
}

std::string FormatMs(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3gs",
                static_cast<double>(d.count()) / 1e3);
  return buf;
}

}  // namespace

std::string LeaseRecord::Describe() const {
  std::string out = "host " + (host.empty() ? std::string("?") : host) +
                    ", pid " + std::to_string(pid) + ", owner " +
                    (owner_id.empty() ? owner : owner_id);
  if (!db.empty()) out += ", database " + db;
  out += ", generation " + std::to_string(generation);
  out += released ? ", released at " : ", expires ";
  out += base::FormatRfc3339(expires_at);
  return out;
}

std::string FormatLeaseRecord(const LeaseRecord& r) {
  nlohmann::json j;
  j["generation"] = r.generation;
  j["expires_at"] = base::FormatRfc3339Nano(r.expires_at);
  j["owner"] = r.owner;
  j["owner_id"] = r.owner_id;
  j["host"] = r.host;
  j["pid"] = r.pid;
  j["db"] = r.db;
  j["acquired_at"] = base::FormatRfc3339Nano(r.acquired_at);
  j["ttl_ms"] = r.ttl_ms;
  j["released"] = r.released;
  j["pid_ns"] = r.pid_ns;
  if (r.since_txid != 0) j["since_txid"] = ltx::FormatTxId(r.since_txid);
  j["fences"] = nlohmann::json::array();
  for (const auto& f : r.fences) {
    j["fences"].push_back({{"generation", f.generation},
                           {"since_txid", ltx::FormatTxId(f.since_txid)}});
  }
  return j.dump() + "\n";
}

Result<LeaseRecord> ParseLeaseRecord(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::CorruptError("not a JSON object");
  }
  LeaseRecord r;
  if (!j.contains("generation") || !j["generation"].is_number_integer()) {
    return base::CorruptError("no integer \"generation\"");
  }
  r.generation = j["generation"].get<int64_t>();
  if (!j.contains("expires_at") || !j["expires_at"].is_string()) {
    return base::CorruptError("no \"expires_at\" time");
  }
  LK_ASSIGN_OR_RETURN(r.expires_at,
                      base::ParseRfc3339(j["expires_at"].get<std::string>()));
  auto str = [&](const char* k, std::string* out) {
    if (j.contains(k) && j[k].is_string()) *out = j[k].get<std::string>();
  };
  str("owner", &r.owner);
  str("owner_id", &r.owner_id);
  str("host", &r.host);
  str("db", &r.db);
  str("pid_ns", &r.pid_ns);
  if (j.contains("pid") && j["pid"].is_number_integer()) {
    r.pid = j["pid"].get<int64_t>();
  }
  if (j.contains("ttl_ms") && j["ttl_ms"].is_number_integer()) {
    r.ttl_ms = j["ttl_ms"].get<int64_t>();
  }
  if (j.contains("released") && j["released"].is_boolean()) {
    r.released = j["released"].get<bool>();
  }
  if (j.contains("acquired_at") && j["acquired_at"].is_string()) {
    auto t = base::ParseRfc3339(j["acquired_at"].get<std::string>());
    if (t.ok()) r.acquired_at = *t;
  }
  if (j.contains("since_txid") && j["since_txid"].is_string()) {
    auto t = ltx::ParseTxId(j["since_txid"].get<std::string>());
    if (t.ok()) r.since_txid = *t;
  }
  LK_ASSIGN_OR_RETURN(storage::Fences fences, storage::ParseFences(text));
  r.fences = std::move(fences.entries);
  return r;
}

namespace {

// The one thread of the process that renews leases while a write is under
// way (a long upload must not outlive its lease). It runs only while some
// lease has a write in progress.
class LeaseKeeper {
 public:
  static LeaseKeeper& Get() {
    static LeaseKeeper keeper;
    return keeper;
  }
  ~LeaseKeeper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Add(Lease* lease) {
    std::lock_guard<std::mutex> lock(mu_);
    leases_.push_back(lease);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    cv_.notify_all();
  }
  // Returns once the thread no longer uses lease.
  void Remove(Lease* lease) {
    std::unique_lock<std::mutex> lock(mu_);
    leases_.erase(std::remove(leases_.begin(), leases_.end(), lease),
                  leases_.end());
    cv_.wait(lock, [&] { return busy_ != lease; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (leases_.empty()) {
        cv_.wait(lock, [&] { return stop_ || !leases_.empty(); });
        continue;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stop_; });
      // Each tracked lease once; Remove waits while one is being renewed.
      std::vector<Lease*> now = leases_;
      for (Lease* l : now) {
        if (stop_) break;
        if (std::find(leases_.begin(), leases_.end(), l) == leases_.end()) {
          continue;
        }
        busy_ = l;
        lock.unlock();
        l->RenewIfDue();
        lock.lock();
        busy_ = nullptr;
        cv_.notify_all();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Lease*> leases_;  // with a write under way
  Lease* busy_ = nullptr;       // being renewed now
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Lease::Lease(std::shared_ptr<storage::ReplicaClient> store,
             LeaseOptions options)
    : store_(std::move(store)),
      options_(std::move(options)),
      owner_id_(RandomId()) {
  if (options_.host.empty()) options_.host = HostName();
  if (options_.pid == 0) options_.pid = ::getpid();
  if (!options_.wall_now) options_.wall_now = [] { return Clock::now(); };
  if (!options_.steady_now) {
    options_.steady_now = [] { return std::chrono::steady_clock::now(); };
  }
}

Lease::~Lease() {
  bool writing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing = writes_ > 0;
  }
  if (writing) LeaseKeeper::Get().Remove(this);
}

TimePoint Lease::WallNow() const { return options_.wall_now(); }

std::chrono::steady_clock::time_point Lease::SteadyNow() const {
  return options_.steady_now();
}

LeaseRecord Lease::Mine(int64_t generation, TimePoint now) const {
  LeaseRecord r;
  r.owner = options_.host + ":" + std::to_string(options_.pid);
  r.owner_id = owner_id_;
  r.host = options_.host;
  r.pid = options_.pid;
  r.db = options_.db_path;
  r.generation = generation;
  r.acquired_at = now;
  r.expires_at = now + options_.ttl;
  r.ttl_ms = options_.ttl.count();
  static const std::string pid_ns = LocalPidNamespace();
  r.pid_ns = options_.pid == ::getpid() ? pid_ns : "";
  std::lock_guard<std::mutex> lock(mu_);
  r.since_txid = since_txid_;
  r.fences = fences_;
  return r;
}

Result<std::string> Lease::WriteChecked(const LeaseRecord& record,
                                        const std::string& if_version) {
  const std::string data = FormatLeaseRecord(record);
  auto v = store_->WriteIf(kLeaseKey, data, if_version);
  if (v.ok() || !IsConflict(v.status())) return v;
  auto cur = store_->ReadVersioned(kLeaseKey);
  if (cur.ok() && cur->data == data) return cur->version;  // ours landed
  if (cur.ok()) {
    auto rec = ParseLeaseRecord(cur->data);
    if (rec.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      last_seen_ = *rec;
    }
  }
  return v.status();
}

Status Lease::RefusedBy(const LeaseRecord& holder) const {
  return base::FailedPreconditionError(
      "replica " + store_->Describe() + " is leased to another replicator (" +
      holder.Describe() +
      "): only one replicator may write a replica. Stop that replicator "
      "(its lease is released on a clean stop), or start this one with "
      "-wait-lease (config: wait-lease: true) to take over once it is "
      "released or expires (docs/architecture.md, \"Replica lease\")");
}

Status Lease::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (held_ && SteadyNow() < deadline_) return Status::Ok();
  }
  const std::string where = store_->Describe() + "/" + kLeaseKey;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto cur = store_->ReadVersioned(kLeaseKey);
    std::string if_version;
    int64_t generation = 1;
    TimePoint acquired = WallNow();
    TxId since = 0;
    std::vector<storage::FenceEntry> fences;
    bool takeover = false;
    if (!cur.ok()) {
      if (cur.status().code() != base::Code::kNotFound) {
        return cur.status().WithContext("read the replica lease " + where);
      }
    } else {
      auto rec = ParseLeaseRecord(cur->data);
      if (!rec.ok() && attempt + 1 < 3) {
        // Possibly a short copy of an object being replaced in place (see
        // ReadFences): read it again before calling it damaged.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!rec.ok()) {
        return base::CorruptError(
            "the replica lease " + where + " is not a lease object (" +
            rec.status().message() +
            "); if no replicator writes this replica, delete it");
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_seen_ = *rec;
      }
      const bool ours = rec->owner_id == owner_id_;
      const bool gone = !ours && !rec->released &&
                        WallNow() < rec->expires_at && HolderIsGone(*rec);
      const bool free = rec->released || WallNow() >= rec->expires_at || gone;
      if (!ours && !free) return RefusedBy(*rec);
      if (gone) {
        spdlog::info(
            "{}: the replica lease {} was held by process pid {} of this "
            "host, which no longer exists (a crash); taking it over",
            options_.db_path, where, rec->pid);
      }
      if_version = cur->version;
      fences = rec->fences;
      if (ours && !rec->released) {
        generation = rec->generation;
        acquired = rec->acquired_at;
        since = rec->since_txid;
        std::lock_guard<std::mutex> lock(mu_);
        takeover = takeover_;
      } else {
        generation = rec->generation + 1;
        // A holder that had not released the lease may still publish what
        // it had in hand (docs/architecture.md, "Fencing"); one whose
        // process is gone cannot.
        takeover = !rec->released && !gone;
      }
    }
    const auto sent = SteadyNow();
    LeaseRecord mine = Mine(generation, WallNow());
    mine.acquired_at = acquired;
    mine.since_txid = since;
    mine.fences = fences;
    auto v = WriteChecked(mine, if_version);
    if (!v.ok()) {
      if (IsConflict(v.status())) continue;  // raced: look again
      return v.status().WithContext("take the replica lease " + where);
    }
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
    lost_ = false;
    version_ = *v;
    generation_ = generation;
    acquired_at_ = acquired;
    since_txid_ = since;
    fences_ = std::move(fences);
    takeover_ = takeover;
    deadline_ = sent + options_.ttl - options_.ttl / 6;
    next_renew_ = sent + options_.ttl / 3;
    last_seen_ = mine;
    expiry_logged_ = false;
    renew_failed_ = false;
    spdlog::info("{}: replica lease {} taken (generation {}, ttl {})",
                 options_.db_path, where, generation, FormatMs(options_.ttl));
    return Status::Ok();
  }
  std::lock_guard<std::mutex> lock(mu_);
  return RefusedBy(last_seen_);
}

Status Lease::Renew() {
  std::string version;
  int64_t generation;
  TimePoint acquired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) {
      return base::FailedPreconditionError("replica lease on " +
                                           store_->Describe() + " not held");
    }
    version = version_;
    generation = generation_;
    acquired = acquired_at_;
  }
  const std::string where = store_->Describe() + "/" + kLeaseKey;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto sent = SteadyNow();
    LeaseRecord mine = Mine(generation, WallNow());
    mine.acquired_at = acquired;
    auto v = WriteChecked(mine, version);
    if (v.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!held_) return Status::Ok();  // released meanwhile
      version_ = *v;
      deadline_ = sent + options_.ttl - options_.ttl / 6;
      next_renew_ = sent + options_.ttl / 3;
      last_seen_ = mine;
      if (expiry_logged_) {
        spdlog::info("{}: replica lease {} renewed; writing again",
                     options_.db_path, where);
      }
      expiry_logged_ = false;
      renew_failed_ = false;
      return Status::Ok();
    }
    if (!IsConflict(v.status())) {
      return v.status().WithContext("renew the replica lease " + where);
    }
    // The object changed. Still ours (an earlier renewal landed but its
    // answer was lost): adopt its version and write again.
    auto cur = store_->ReadVersioned(kLeaseKey);
    if (cur.ok()) {
      auto rec = ParseLeaseRecord(cur->data);
      if (rec.ok() && rec->owner_id == owner_id_ &&
          rec->generation == generation && !rec->released) {
        version = cur->version;
        continue;
      }
      if (rec.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        last_seen_ = *rec;
      }
    } else if (cur.status().code() != base::Code::kNotFound) {
      return cur.status().WithContext("renew the replica lease " + where);
    }
    break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return LoseLocked(generation);
}

Status Lease::RecordStart(TxId since_txid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) {
      return base::FailedPreconditionError("replica lease on " +
                                           store_->Describe() + " not held");
    }
    if (since_txid_ != 0) return Status::Ok();
    since_txid_ = since_txid;
    if (takeover_) {
      fences_.push_back({generation_, since_txid});
      if (fences_.size() > storage::kMaxFenceEntries) {
        fences_.erase(fences_.begin(),
                      fences_.end() - storage::kMaxFenceEntries);
      }
    }
  }
  Status s = Renew();
  if (!s.ok()) {
    // Not recorded: the next Open records it again.
    std::lock_guard<std::mutex> lock(mu_);
    if (takeover_ && !fences_.empty() &&
        fences_.back().generation == generation_) {
      fences_.pop_back();
    }
    since_txid_ = 0;
    return s.WithContext("record where generation " +
                         std::to_string(generation_) + " of the replica " +
                         "lease begins");
  }
  if (takeover_) {
    spdlog::info(
        "{}: replica lease generation {} took over an unreleased lease; LTX "
        "files of earlier generations from TXID {} on are stale and every "
        "reader skips them",
        options_.db_path, generation(), ltx::FormatTxId(since_txid));
  }
  return Status::Ok();
}

Status Lease::LoseLocked(int64_t generation) {
  const std::string where = store_->Describe() + "/" + kLeaseKey;
  if (!lost_) {
    held_ = false;
    lost_ = true;
    lost_why_ = last_seen_.owner_id == owner_id_
                    ? std::string("the lease object was removed or replaced")
                    : "taken over by another replicator (" +
                          last_seen_.Describe() + ")";
    spdlog::error(
        "{}: replica lease {} lost: {}; this replicator stopped writing to "
        "the replica (generation {}). Restart `replicate` once the other "
        "replicator is stopped (the lineage guard then checks the database)",
        options_.db_path, where, lost_why_, generation);
  }
  return base::FailedPreconditionError("replica lease " + where +
                                       " lost: " + lost_why_);
}

Status Lease::CheckFence(const storage::VersionedObject* current) {
  std::optional<LeaseRecord> rec;
  if (current != nullptr) {
    auto parsed = ParseLeaseRecord(current->data);
    if (parsed.ok()) rec = *parsed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (rec && rec->owner_id == owner_id_ && rec->generation == generation_ &&
      !rec->released && held_ && !lost_) {
    return Status::Ok();
  }
  if (!held_ && !lost_) {
    return base::FailedPreconditionError("not writing to " +
                                         store_->Describe() +
                                         ": the replica lease is not held");
  }
  if (rec) last_seen_ = *rec;
  if (!rec || rec->owner_id == owner_id_) last_seen_.owner_id = owner_id_;
  return LoseLocked(generation_);
}

storage::PublishFence Lease::Fence() {
  return storage::PublishFence{kLeaseKey,
                               [this](const storage::VersionedObject* current) {
                                 return CheckFence(current);
                               }};
}

Status Lease::Release() {
  std::string version;
  int64_t generation;
  TimePoint acquired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) return Status::Ok();
    held_ = false;
    version = version_;
    generation = generation_;
    acquired = acquired_at_;
  }
  LeaseRecord mine = Mine(generation, WallNow());
  mine.acquired_at = acquired;
  mine.expires_at = WallNow();
  mine.released = true;
  auto v = WriteChecked(mine, version);
  if (!v.ok() && !IsConflict(v.status())) {
    return v.status().WithContext("release the replica lease on " +
                                  store_->Describe());
  }
  spdlog::info("{}: replica lease on {} released", options_.db_path,
               store_->Describe());
  return Status::Ok();
}

Status Lease::Check() const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string where = store_->Describe() + "/" + kLeaseKey;
  if (!held_) {
    if (lost_) {
      return base::FailedPreconditionError(
          "not writing to " + store_->Describe() + ": the replica lease was " +
          lost_why_);
    }
    return base::FailedPreconditionError("not writing to " +
                                         store_->Describe() +
                                         ": the replica lease is not held");
  }
  if (renew_failed_ && SteadyNow() >= deadline_) {
    return base::FailedPreconditionError(
        "not writing to " + store_->Describe() + ": the replica lease " +
        where + " (generation " + std::to_string(generation_) +
        ") was not renewed within its ttl (" + FormatMs(options_.ttl) +
        "; store unreachable or process stalled); writing resumes once it is "
        "renewed");
  }
  return Status::Ok();
}

void Lease::RenewFailed(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!held_) return;  // lost (Renew logged it) or released
  renew_failed_ = true;
  const auto retry = std::clamp<std::chrono::milliseconds>(
      options_.ttl / 10, std::chrono::milliseconds(50),
      std::chrono::seconds(1));
  retry_at_ = SteadyNow() + retry;
  if (SteadyNow() >= deadline_ && !expiry_logged_) {
    expiry_logged_ = true;
    spdlog::error(
        "{}: replica lease on {} not renewed within its ttl ({}): writing "
        "stopped until it is renewed: {}",
        options_.db_path, store_->Describe(), FormatMs(options_.ttl),
        s.message());
  } else if (!expiry_logged_) {
    spdlog::warn("{}: renewing the replica lease on {} failed: {}",
                 options_.db_path, store_->Describe(), s.message());
  }
}

Status Lease::Revalidate() {
  bool retry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    retry = held_ && renew_failed_ && SteadyNow() >= retry_at_;
  }
  if (retry) {
    Status s = Renew();
    if (!s.ok()) RenewFailed(s);
  }
  return Check();
}

Status Lease::Use() {
  bool due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due = held_ && !lost_ && SteadyNow() >= next_renew_;
  }
  if (due) {
    Status s = Renew();
    if (!s.ok()) RenewFailed(s);
  }
  LK_RETURN_IF_ERROR(Check());
  std::lock_guard<std::mutex> lock(mu_);
  if (SteadyNow() >= deadline_) {
    return base::FailedPreconditionError(
        "not writing to " + store_->Describe() + ": the replica lease " +
        store_->Describe() + "/" + kLeaseKey + " (generation " +
        std::to_string(generation_) + ") could not be renewed (ttl " +
        FormatMs(options_.ttl) +
        "; store unreachable?); writing resumes once it is renewed");
  }
  return Status::Ok();
}

void Lease::BeginWrite() {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = writes_++ == 0;
  }
  if (first) LeaseKeeper::Get().Add(this);
}

void Lease::EndWrite() {
  bool last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = --writes_ == 0;
  }
  if (last) LeaseKeeper::Get().Remove(this);
}

void Lease::RenewIfDue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_ || lost_ || SteadyNow() < next_renew_) return;
    if (renew_failed_ && SteadyNow() < retry_at_) return;
  }
  Status s = Renew();
  if (!s.ok()) RenewFailed(s);
}

bool Lease::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

bool Lease::lost() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

int64_t Lease::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

LeaseRecord Lease::last_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_seen_;
}

namespace {

// Fault injection for tests: LITEKEEP_TEST_STOP_BEFORE_UPLOAD=n stops this
// process (SIGSTOP) after the n-th upload passed its lease check and before
// it is written: a process paused inside an upload.
void MaybeStopForTest() {
  static const long stop_at = [] {
    const char* v = std::getenv("LITEKEEP_TEST_STOP_BEFORE_UPLOAD");
    return v != nullptr ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static std::atomic<long> uploads{0};
  if (stop_at > 0 && uploads.fetch_add(1) + 1 == stop_at) {
    spdlog::warn("test: stopping before upload {}", stop_at);
    ::raise(SIGSTOP);
  }
}

}  // namespace

Status LeasedReplica::WriteFile(const storage::FileInfo& info,
                                base::Reader& data) {
  LK_RETURN_IF_ERROR(lease_->Use());
  MaybeStopForTest();
  lease_->BeginWrite();
  Status s = inner().WriteFileFenced(info, data, lease_->Fence());
  lease_->EndWrite();
  return s;
}

base::Status LeasedReplica::DeleteFiles(
    const std::vector<storage::FileInfo>& files) {
  LK_RETURN_IF_ERROR(lease_->Use());
  return inner().DeleteFilesFenced(files, lease_->Fence());
}

base::Status LeasedReplica::DeleteAll() {
  LK_RETURN_IF_ERROR(lease_->Use());
  return inner().DeleteAll();
}

}  // namespace litekeep::replicate
