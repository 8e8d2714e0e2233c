// ReplicaSet: the local backlog and one uploader per replica.
#include "replicate/replica_set.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/io.h"
#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/file_chain.h"

namespace litekeep::replicate {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// How long ShipFile waits for the other replicas once one has the file.
constexpr Ms kShipGrace{2000};

// Reads from one replica and writes to another: builds a full image for a
// replica that fell behind from a replica that holds a newer state.
class PeerImageSource : public storage::ReplicaClient {
 public:
  PeerImageSource(std::shared_ptr<storage::ReplicaClient> from,
                  std::shared_ptr<storage::ReplicaClient> to)
      : from_(std::move(from)), to_(std::move(to)) {}
  std::string Type() const override { return to_->Type(); }
  std::string Describe() const override { return to_->Describe(); }
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override {
    return from_->ListFiles(level);
  }
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override {
    return from_->OpenFile(level, min_txid, max_txid, offset, length);
  }
  Status WriteFile(const storage::FileInfo& info, base::Reader& data) override {
    return to_->WriteFile(info, data);
  }
  Status DeleteFiles(const std::vector<storage::FileInfo>&) override {
    return base::FailedPreconditionError("no deletes while building an image");
  }
  Status DeleteAll() override {
    return base::FailedPreconditionError("no deletes while building an image");
  }

 private:
  std::shared_ptr<storage::ReplicaClient> from_;
  std::shared_ptr<storage::ReplicaClient> to_;
};

std::string EntryName(const storage::FileInfo& f) {
  return std::to_string(f.level) + "-" +
         ltx::FormatFileName(f.min_txid, f.max_txid);
}

bool SameFile(const storage::FileInfo& a, const storage::FileInfo& b) {
  return a.level == b.level && a.min_txid == b.min_txid &&
         a.max_txid == b.max_txid;
}

}  // namespace

struct ReplicaSet::Lane {
  ReplicaLaneSpec spec;
  bool listed = false;  // txid is known
  TxId txid = 0;        // newest TXID the replica holds
  bool healthy = false;
  bool needs_image = false;
  std::string last_error;
  TimePoint last_ok{};
  uint64_t uploads = 0;  // successful uploads (wakes the compaction)
  std::unique_ptr<CompactionScheduler> compactor;
  std::thread uploader;
  std::thread compaction;
};

ReplicaSet::ReplicaSet(ReplicaSetOptions options,
                       std::vector<ReplicaLaneSpec> lanes)
    : options_(std::move(options)) {
  backlog_dir_ = options_.meta_dir + "/backlog";
  for (auto& spec : lanes) {
    auto lane = std::make_unique<Lane>();
    lane->spec = std::move(spec);
    lanes_.push_back(std::move(lane));
  }
}

ReplicaSet::~ReplicaSet() { Close(); }

std::string ReplicaSet::Describe() const {
  std::string out;
  for (const auto& l : lanes_) {
    if (!out.empty()) out += ", ";
    out += l->spec.name + "=" + l->spec.client->Describe();
  }
  return out;
}

std::string ReplicaSet::BacklogPath(const storage::FileInfo& f) const {
  return backlog_dir_ + "/" + EntryName(f);
}

Status ReplicaSet::LoadBacklog() {
  LK_RETURN_IF_ERROR(base::MakeDirs(backlog_dir_, 0700)
                         .WithContext("create backlog directory"));
  DIR* dir = ::opendir(backlog_dir_.c_str());
  if (dir == nullptr) {
    return base::IoError("open " + backlog_dir_ + ": " + std::strerror(errno));
  }
  std::vector<Entry> found;
  while (dirent* d = ::readdir(dir)) {
    const std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = backlog_dir_ + "/" + name;
    const size_t dash = name.find('-');
    std::optional<ltx::TxRange> range;
    int level = -1;
    if (dash == 1 && name[0] >= '0' && name[0] <= '9') {
      level = name[0] - '0';
      range = ltx::ParseFileName(std::string_view(name).substr(2));
    }
    if (!range) {
      ::unlink(path.c_str());  // an unfinished copy
      continue;
    }
    auto f = base::File::Open(path, O_RDONLY);
    if (!f.ok()) continue;
    uint8_t raw[ltx::kHeaderSize];
    auto size = f->Size();
    auto h = f->ReadFullAt(raw, sizeof(raw), 0).ok()
                 ? ltx::Header::Decode(raw)
                 : Result<ltx::Header>(base::CorruptError("short"));
    if (!size.ok() || !h.ok()) {
      ::unlink(path.c_str());
      continue;
    }
    Entry e;
    e.info.level = level;
    e.info.min_txid = range->min_txid;
    e.info.max_txid = range->max_txid;
    e.info.size = *size;
    e.info.created = TimePoint(Ms(h->timestamp_ms));
    e.path = path;
    found.push_back(std::move(e));
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) {
    return a.info.max_txid < b.info.max_txid;
  });
  for (auto& e : found) {
    backlog_bytes_ += e.info.size;
    backlog_.push_back(std::move(e));
  }
  return Status::Ok();
}

Status ReplicaSet::Open() {
  if (open_) return Status::Ok();
  stopping_ = false;
  backlog_.clear();
  backlog_bytes_ = 0;
  LK_RETURN_IF_ERROR(LoadBacklog());
  std::string errors;
  size_t listed = 0;
  for (auto& lp : lanes_) {
    Lane& l = *lp;
    l.listed = false;
    l.healthy = false;
    if (l.spec.lease) {
      Status s = l.spec.lease->Acquire();
      if (s.code() == base::Code::kFailedPrecondition ||
          s.code() == base::Code::kUnimplemented) {
        for (auto& other : lanes_) {
          if (other->spec.lease && other->spec.lease->held()) {
            other->spec.lease->Release().IgnoreError();
          }
        }
        return s.WithContext("replica " + l.spec.name);
      }
      if (!s.ok()) {
        l.last_error = s.message();
        errors +=
            (errors.empty() ? "" : "; ") + l.spec.name + ": " + s.message();
        continue;  // its uploader takes the lease once it can
      }
    }
    auto tip = storage::MaxTxId(*l.spec.client);
    if (!tip.ok()) {
      l.last_error = tip.status().message();
      errors += (errors.empty() ? "" : "; ") + l.spec.name + ": " +
                tip.status().message();
      continue;
    }
    l.txid = *tip;
    l.listed = true;
    l.healthy = true;
    ++listed;
  }
  if (listed == 0) {
    for (auto& l : lanes_) {
      if (l->spec.lease && l->spec.lease->held()) {
        l->spec.lease->Release().IgnoreError();
      }
    }
    return base::UnavailableError("no replica of " + options_.db_path +
                                  " can be reached: " + errors);
  }
  for (auto& lp : lanes_) {
    Lane& l = *lp;
    if (!l.listed) {
      spdlog::warn("{}: replica {} cannot be reached ({}); the others go on",
                   options_.db_path, l.spec.name, l.last_error);
    }
    if (l.spec.compaction) {
      CompactionOptions co = *l.spec.compaction;
      l.compactor = std::make_unique<CompactionScheduler>(l.spec.client, co);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    PublishLocked();
  }
  open_ = true;
  for (auto& lp : lanes_) {
    Lane* l = lp.get();
    l->uploader = std::thread([this, l] { UploadLoop(*l); });
    if (l->compactor)
      l->compaction = std::thread([this, l] { CompactLoop(*l); });
  }
  return Status::Ok();
}

void ReplicaSet::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  done_cv_.notify_all();
  for (auto& l : lanes_) {
    if (l->uploader.joinable()) l->uploader.join();
    if (l->compaction.joinable()) l->compaction.join();
    l->compactor.reset();
    if (open_ && l->spec.lease && l->spec.lease->held()) {
      Status s = l->spec.lease->Release();
      if (!s.ok()) spdlog::warn("{}: {}", options_.db_path, s.message());
    }
  }
  open_ = false;
}

ReplicaSet::Lane* ReplicaSet::LeadLocked() const {
  Lane* lead = nullptr;
  for (const auto& l : lanes_) {
    if (l->listed && (lead == nullptr || l->txid > lead->txid)) {
      lead = l.get();
    }
  }
  return lead;
}

bool ReplicaSet::LaneCurrentLocked(const Lane& l,
                                   const storage::FileInfo& f) const {
  return l.listed && l.healthy && !l.needs_image && l.txid < f.max_txid &&
         f.min_txid <= l.txid + 1;
}

const ReplicaSet::Entry* ReplicaSet::NextForLocked(const Lane& l,
                                                   bool* gap) const {
  *gap = false;
  if (!l.listed) return nullptr;
  for (size_t i = 0; i < backlog_.size(); ++i) {
    const Entry& e = backlog_[i];
    if (e.info.max_txid <= l.txid) continue;
    if (e.info.min_txid <= l.txid + 1) return &e;
    // Behind the backlog: a full image in it lets the replica continue.
    for (size_t j = i; j < backlog_.size(); ++j) {
      if (storage::IsSnapshot(backlog_[j].info)) return &backlog_[j];
    }
    *gap = true;
    return nullptr;
  }
  // Nothing new, but another replica holds a newer state (a replica added
  // to the config, or one that missed files an earlier run dropped).
  for (const auto& other : lanes_) {
    if (other->listed && other->txid > l.txid) *gap = true;
  }
  return nullptr;
}

void ReplicaSet::TrimLocked() {
  auto drop_front = [this]() {
    ::unlink(backlog_.front().path.c_str());
    backlog_bytes_ -= backlog_.front().info.size;
    backlog_.pop_front();
  };
  while (!backlog_.empty()) {
    const TxId max = backlog_.front().info.max_txid;
    bool held_by_all = true;
    for (const auto& l : lanes_) held_by_all &= l->listed && l->txid >= max;
    if (!held_by_all) break;
    drop_front();
  }
  while (backlog_.size() > 1 && (backlog_.size() > options_.max_backlog_files ||
                                 backlog_bytes_ > options_.max_backlog_bytes)) {
    const TxId max = backlog_.front().info.max_txid;
    for (const auto& l : lanes_) {
      if (!l->needs_image && (!l->listed || l->txid < max) &&
          backlog_.front().info.min_txid <= l->txid + 1) {
        spdlog::warn(
            "{}: local backlog full ({} files, {} bytes): replica {} (at "
            "TXID {}) will catch up with a full image",
            options_.db_path, backlog_.size(), backlog_bytes_, l->spec.name,
            ltx::FormatTxId(l->txid));
      }
    }
    drop_front();
  }
}

void ReplicaSet::PublishLocked() {
  // <meta>/replicas.json for `status` (rewritten when what it says
  // changes, not at every upload of a replica that keeps up).
  nlohmann::json arr = nlohmann::json::array();
  if (options_.metrics != nullptr && published_.empty()) {
    options_.metrics->Describe("litekeep_replica_txid", metrics::Type::kGauge,
                               "Newest TXID each replica of a database holds.");
    options_.metrics->Describe(
        "litekeep_replica_healthy", metrics::Type::kGauge,
        "1 while a replica's last upload (or listing) succeeded.");
    options_.metrics->Describe(
        "litekeep_replica_backlog_files", metrics::Type::kGauge,
        "Files of the local backlog a replica has not uploaded yet.");
  }
  for (const auto& l : lanes_) {
    size_t behind = 0;
    for (const auto& e : backlog_) behind += e.info.max_txid > l->txid;
    const bool current =
        l->listed && l->healthy && !l->needs_image && behind == 0;
    nlohmann::json j = {{"name", l->spec.name},
                        {"replica", l->spec.client->Describe()},
                        {"healthy", l->listed && l->healthy},
                        {"needs_image", l->needs_image},
                        {"behind_files", behind},
                        {"last_error", l->last_error}};
    // A replica that keeps up is at the position.json TXID; writing it here
    // would rewrite the file at every sync.
    if (!current) j["txid"] = l->txid;
    arr.push_back(std::move(j));
    if (options_.metrics != nullptr) {
      metrics::Labels labels{{"db", options_.db_path},
                             {"replica", l->spec.name}};
      options_.metrics->Set("litekeep_replica_txid", labels,
                            static_cast<double>(l->txid));
      options_.metrics->Set("litekeep_replica_healthy", labels,
                            l->listed && l->healthy ? 1 : 0);
      options_.metrics->Set("litekeep_replica_backlog_files", labels,
                            static_cast<double>(behind));
    }
  }
  std::string text = arr.dump(2) + "\n";
  if (text == published_) return;
  Status s = base::WriteFileAtomic(options_.meta_dir + "/replicas.json", text);
  if (!s.ok()) {
    spdlog::debug("{}: replicas.json: {}", options_.db_path, s.message());
    return;
  }
  published_ = std::move(text);
}

Status ReplicaSet::ShipFile(const storage::FileInfo& info,
                            const std::string& path) {
  const std::string dest = BacklogPath(info);
  {
    // The backlog copy must survive a crash: the WAL frames it holds may be
    // checkpointed away once this returns.
    LK_ASSIGN_OR_RETURN(base::File f, base::File::Open(path, O_RDONLY));
    LK_RETURN_IF_ERROR(f.Sync());
  }
  if (::rename(path.c_str(), dest.c_str()) != 0) {
    return base::IoError("move " + path +
                         " into the backlog: " + std::strerror(errno));
  }
  LK_RETURN_IF_ERROR(base::SyncDir(backlog_dir_));
  std::unique_lock<std::mutex> lock(mu_);
  for (auto it = backlog_.begin(); it != backlog_.end(); ++it) {
    if (SameFile(it->info, info)) {
      backlog_bytes_ -= it->info.size;
      backlog_.erase(it);
      break;
    }
  }
  Entry e{info, dest};
  auto pos = std::upper_bound(backlog_.begin(), backlog_.end(), e,
                              [](const Entry& a, const Entry& b) {
                                return a.info.max_txid < b.info.max_txid;
                              });
  backlog_.insert(pos, e);
  backlog_bytes_ += info.size;
  std::vector<Lane*> waiting;
  for (auto& l : lanes_) {
    if (LaneCurrentLocked(*l, info)) waiting.push_back(l.get());
  }
  TrimLocked();
  cv_.notify_all();
  // Replicas that keep up have it before the sync returns, as with one
  // replica; the others get it from the backlog. Once one replica has it,
  // the others get kShipGrace more: a replica that starts failing (its
  // client retrying) delays the sync at most that long.
  std::optional<SteadyClock::time_point> first_done;
  while (!stopping_) {
    bool all = true;
    bool any = waiting.empty();
    for (Lane* l : waiting) {
      if (l->txid >= info.max_txid) {
        any = true;
      } else if (l->healthy) {
        all = false;
      }
    }
    if (all) break;
    if (any) {
      if (!first_done) first_done = SteadyClock::now();
      if (SteadyClock::now() - *first_done >= kShipGrace) break;
      done_cv_.wait_until(lock, *first_done + kShipGrace);
    } else {
      done_cv_.wait(lock);
    }
  }
  return Status::Ok();
}

void ReplicaSet::SetWake(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = std::move(wake);
}

bool ReplicaSet::WantsImage() {
  if (!image_wanted_.load()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& l : lanes_) {
    if (!l->needs_image) continue;
    bool served = false;
    for (const auto& e : backlog_) {
      served |= storage::IsSnapshot(e.info) && e.info.max_txid > l->txid;
    }
    if (!served) return true;
  }
  image_wanted_ = false;
  return false;
}

Status ReplicaSet::CatchUpFromPeer(Lane& lane) {
  std::shared_ptr<storage::ReplicaClient> peer;
  std::string peer_name;
  TxId lane_txid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lane_txid = lane.txid;
    const Lane* best = nullptr;
    for (const auto& l : lanes_) {
      if (l.get() == &lane || !l->listed || !l->healthy) continue;
      if (l->txid > lane.txid && (best == nullptr || l->txid > best->txid)) {
        best = l.get();
      }
    }
    if (best == nullptr) {
      return base::NotFoundError("no other replica holds a newer state");
    }
    peer = best->spec.client;
    peer_name = best->spec.name;
  }
  CompactionOptions co =
      lane.spec.compaction ? *lane.spec.compaction : CompactionOptions{};
  co.temp_dir = lane.spec.dir;
  auto source = std::make_shared<PeerImageSource>(peer, lane.spec.client);
  CompactionScheduler builder(source, co);
  LK_ASSIGN_OR_RETURN(auto written, builder.Snapshot());
  storage::FileInfo image;
  if (written) {
    image = *written;
  } else {
    // The peer's newest state is an L9 file already: copy it.
    LK_ASSIGN_OR_RETURN(auto l9, peer->ListFiles(ltx::kSnapshotLevel));
    if (l9.empty()) return base::NotFoundError("peer holds no snapshot");
    image = l9.back();
    for (const auto& f : l9) {
      if (f.max_txid > image.max_txid) image = f;
    }
    LK_ASSIGN_OR_RETURN(auto reader, peer->OpenFile(image.level, image.min_txid,
                                                    image.max_txid));
    LK_RETURN_IF_ERROR(lane.spec.client->WriteFile(image, *reader));
  }
  spdlog::info(
      "{}: replica {} caught up from TXID {} with a full image at TXID {} "
      "built from replica {}",
      options_.db_path, lane.spec.name, ltx::FormatTxId(lane_txid),
      ltx::FormatTxId(image.max_txid), peer_name);
  std::lock_guard<std::mutex> lock(mu_);
  lane.txid = std::max(lane.txid, image.max_txid);
  return Status::Ok();
}

void ReplicaSet::UploadLoop(Lane& lane) {
  Ms backoff{0};
  Ms image_backoff{0};
  bool logged_failure = false;
  std::unique_lock<std::mutex> lock(mu_);
  auto failed = [&](const Status& s, Ms* wait, Ms max_wait) {
    lane.healthy = false;
    lane.last_error = s.message();
    done_cv_.notify_all();
    PublishLocked();
    if (!logged_failure) {
      spdlog::warn(
          "{}: replica {} failed ({}); the other replicas go on, it "
          "catches up when it comes back",
          options_.db_path, lane.spec.name, s.message());
      logged_failure = true;
    } else {
      spdlog::debug("{}: replica {} still failing: {}", options_.db_path,
                    lane.spec.name, s.message());
    }
    *wait = std::clamp<Ms>(*wait * 2, Ms(500), max_wait);
    cv_.wait_for(lock, *wait, [&] { return stopping_; });
  };
  auto succeeded = [&]() {
    const bool was_down = !lane.healthy;
    lane.healthy = true;
    lane.last_error.clear();
    lane.last_ok = Clock::now();
    ++lane.uploads;
    backoff = Ms(0);
    if (was_down && logged_failure) {
      spdlog::info("{}: replica {} is back at TXID {}", options_.db_path,
                   lane.spec.name, ltx::FormatTxId(lane.txid));
      logged_failure = false;
    }
    TrimLocked();
    done_cv_.notify_all();
    cv_.notify_all();
    PublishLocked();
  };
  while (!stopping_) {
    const bool lease_due =
        lane.spec.lease && !lane.spec.lease->held() && !lane.spec.lease->lost();
    if (!lane.listed || lease_due) {
      lock.unlock();
      Status s = Status::Ok();
      if (lease_due) {
        s = lane.spec.lease->Acquire();
      }
      Result<TxId> tip = TxId{0};
      if (s.ok() && !lane.listed) {
        tip = storage::MaxTxId(*lane.spec.client);
        if (!tip.ok()) s = tip.status();
      }
      lock.lock();
      if (!s.ok()) {
        failed(s, &backoff, std::chrono::seconds(30));
        continue;
      }
      if (!lane.listed) {
        lane.txid = *tip;
        lane.listed = true;
      }
      succeeded();
      continue;
    }
    bool gap = false;
    const Entry* next = NextForLocked(lane, &gap);
    if (next != nullptr) {
      const Entry e = *next;
      lock.unlock();
      Status s = [&]() -> Status {
        LK_ASSIGN_OR_RETURN(base::File f, base::File::Open(e.path, O_RDONLY));
        base::FileReader reader(std::move(f));
        return lane.spec.client->WriteFile(e.info, reader);
      }();
      lock.lock();
      if (s.code() == base::Code::kNotFound && !base::PathExists(e.path)) {
        continue;  // trimmed meanwhile: look again
      }
      if (!s.ok()) {
        failed(s.WithContext("upload " + EntryName(e.info) + " to " +
                             lane.spec.name),
               &backoff, std::chrono::seconds(30));
        continue;
      }
      lane.txid = std::max(lane.txid, e.info.max_txid);
      if (storage::IsSnapshot(e.info)) lane.needs_image = false;
      succeeded();
      continue;
    }
    if (gap) {
      if (!lane.needs_image) {
        lane.needs_image = true;
        spdlog::info(
            "{}: replica {} is at TXID {}, behind the local backlog: it "
            "catches up with a full image",
            options_.db_path, lane.spec.name, ltx::FormatTxId(lane.txid));
        PublishLocked();
      }
      lock.unlock();
      Status s = CatchUpFromPeer(lane);
      lock.lock();
      if (s.ok()) {
        lane.needs_image = false;
        image_backoff = Ms(0);
        succeeded();
        continue;
      }
      if (s.code() == base::Code::kNotFound) {
        // No replica holds a newer state: the database itself must give
        // one (the Replicator's next sync writes a snapshot).
        if (!image_wanted_.exchange(true)) {
          spdlog::info("{}: replica {} needs a snapshot of the database",
                       options_.db_path, lane.spec.name);
        }
        if (std::function<void()> wake = wake_) {
          lock.unlock();
          wake();
          lock.lock();
        }
        cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
        continue;
      }
      // Building from a peer reads its files: try again less often (2 s,
      // doubling up to 5 min).
      if (image_backoff < Ms(1000)) image_backoff = Ms(1000);
      failed(s.WithContext("full image for replica " + lane.spec.name),
             &image_backoff, std::chrono::minutes(5));
      continue;
    }
    cv_.wait(lock, [&] {
      if (stopping_) return true;
      bool g = false;
      return NextForLocked(lane, &g) != nullptr || g;
    });
  }
}

void ReplicaSet::CompactLoop(Lane& lane) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t seen = ~uint64_t{0};
  TimePoint next = TimePoint::min();
  while (!stopping_) {
    const bool ready = lane.listed && lane.healthy;
    if (ready && (Clock::now() >= next || seen != lane.uploads)) {
      seen = lane.uploads;
      lock.unlock();
      TimePoint now = Clock::now();
      Ms retry{0};
      if (now >= next) {
        auto report = lane.compactor->RunDue(now);
        if (!report.ok()) {
          spdlog::warn("{}: compaction of replica {}: {}", options_.db_path,
                       lane.spec.name, report.status().message());
          retry = std::chrono::minutes(1);
        }
      }
      now = Clock::now();
      next =
          retry.count() > 0 ? now + retry : lane.compactor->NextUsefulDue(now);
      lock.lock();
      continue;
    }
    // Not ready: `next` may still be TimePoint::min() (subtracting now from
    // it overflows); the lane's recovery bumps `uploads` and notifies.
    const auto left = !ready || next == TimePoint::max()
                          ? Ms(std::chrono::hours(1))
                          : std::chrono::duration_cast<Ms>(next - Clock::now());
    const Ms wait = std::clamp<Ms>(left, Ms(10), std::chrono::hours(1));
    const uint64_t uploads = lane.uploads;
    cv_.wait_for(lock, wait,
                 [&] { return stopping_ || lane.uploads != uploads; });
  }
}

std::vector<ReplicaLaneStatus> ReplicaSet::LaneStatuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReplicaLaneStatus> out;
  for (const auto& l : lanes_) {
    ReplicaLaneStatus s;
    s.name = l->spec.name;
    s.replica = l->spec.client->Describe();
    s.txid = l->txid;
    s.healthy = l->listed && l->healthy;
    s.needs_image = l->needs_image;
    for (const auto& e : backlog_) s.behind_files += e.info.max_txid > l->txid;
    s.last_error = l->last_error;
    s.last_ok = l->last_ok;
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<storage::FileInfo>> ReplicaSet::ListFiles(int level) {
  std::vector<storage::FileInfo> out;
  std::shared_ptr<storage::ReplicaClient> lead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Lane* l = LeadLocked()) lead = l->spec.client;
    for (const auto& e : backlog_) {
      if (e.info.level == level) out.push_back(e.info);
    }
  }
  if (!lead) {
    return base::UnavailableError("no replica of " + options_.db_path +
                                  " can be reached");
  }
  LK_ASSIGN_OR_RETURN(auto listed, lead->ListFiles(level));
  for (const auto& f : listed) {
    bool dup = false;
    for (const auto& o : out) dup |= SameFile(o, f);
    if (!dup) out.push_back(f);
  }
  std::sort(out.begin(), out.end(),
            [](const storage::FileInfo& a, const storage::FileInfo& b) {
              return std::tie(a.min_txid, a.max_txid) <
                     std::tie(b.min_txid, b.max_txid);
            });
  return out;
}

Result<std::unique_ptr<base::Reader>> ReplicaSet::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  std::shared_ptr<storage::ReplicaClient> lead;
  std::string local;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : backlog_) {
      if (e.info.level == level && e.info.min_txid == min_txid &&
          e.info.max_txid == max_txid) {
        local = e.path;
      }
    }
    if (Lane* l = LeadLocked()) lead = l->spec.client;
  }
  if (!local.empty()) {
    auto f = base::File::Open(local, O_RDONLY);
    if (f.ok()) {
      return std::unique_ptr<base::Reader>(std::make_unique<base::FileReader>(
          std::move(f).value(), offset, length));
    }
  }
  if (!lead) {
    return base::UnavailableError("no replica of " + options_.db_path +
                                  " can be reached");
  }
  return lead->OpenFile(level, min_txid, max_txid, offset, length);
}

Status ReplicaSet::WriteFile(const storage::FileInfo& info,
                             base::Reader& data) {
  std::string tmp;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tmp = backlog_dir_ + "/incoming-" + std::to_string(::getpid()) + "-" +
          std::to_string(++tmp_seq_) + ".tmp";
  }
  {
    LK_ASSIGN_OR_RETURN(base::File out, base::File::CreatePrivate(tmp));
    base::FileWriter writer(&out);
    std::vector<uint8_t> buf(1 << 16);
    for (;;) {
      auto n = data.Read(buf);
      if (!n.ok()) {
        ::unlink(tmp.c_str());
        return n.status();
      }
      if (*n == 0) break;
      Status w = writer.Write(std::span<const uint8_t>(buf.data(), *n));
      if (!w.ok()) {
        ::unlink(tmp.c_str());
        return w;
      }
    }
  }
  Status s = ShipFile(info, tmp);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status ReplicaSet::DeleteFiles(const std::vector<storage::FileInfo>&) {
  return base::FailedPreconditionError(
      "a set of replicas is not deleted through the set (each replica's own "
      "retention deletes its files)");
}

Status ReplicaSet::DeleteAll() {
  return base::FailedPreconditionError(
      "a set of replicas is not deleted through the set");
}

}  // namespace litekeep::replicate
