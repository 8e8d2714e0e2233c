// The replica lease: one writer per replica across hosts
// (docs/architecture.md, "Replica lease"). `replicate` takes a lease object
// in the replica (`<path>/lock.json`, docs/storage_layout.md) with a
// conditional create or replace before it writes anything, renews it before
// a write once a third of its time to live has passed (and during a long
// write, from one thread shared by every lease of the process), and releases
// it on a clean stop. Every write to
// the replica goes through LeasedReplica, which refuses it unless the lease
// is held and still valid by the local clock, so a replicator that could not
// renew in time, or whose lease was taken over, stops writing at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "storage/fence.h"
#include "storage/forwarding_client.h"
#include "storage/replica_client.h"

namespace litekeep::replicate {

// The lease object's key, relative to the replica path. The name and the
// fields generation, expires_at and owner are those of Litestream's own
// (unused) S3 leaser, so the two would exclude each other.
inline constexpr char kLeaseKey[] = "lock.json";
static_assert(std::string_view(kLeaseKey) == storage::kLeaseObjectKey);

// What the lease object says.
struct LeaseRecord {
  std::string owner;     // "host:pid", as Litestream's leaser writes it
  std::string owner_id;  // random per Lease object: who holds it exactly
  std::string host;
  int64_t pid = 0;
  std::string db;           // the database replicated under it
  int64_t generation = 0;   // +1 at every acquisition (the fencing token)
  TimePoint acquired_at{};  // when this generation began
  TimePoint expires_at{};   // by the holder's clock
  int64_t ttl_ms = 0;
  bool released = false;  // given up on a clean stop
  // The holder's kernel boot id and pid namespace ("<boot id>:<ns inode>"):
  // within one, a pid that no longer exists proves the holder is gone.
  std::string pid_ns;
  // The first TXID this generation writes (0 until recorded): what the
  // replica held when it took the lease, + 1.
  TxId since_txid = 0;
  // Every generation that took the lease over from a holder that had not
  // released it, with its since_txid (the newest storage::kMaxFenceEntries,
  // oldest first): what readers check LTX files' node_id against
  // (docs/architecture.md, "Fencing").
  std::vector<storage::FenceEntry> fences;

  // "host H, pid P, owner O, database D, generation G, expires T".
  std::string Describe() const;
};

// JSON text of a record, and back (kCorrupt naming what is wrong; fields
// other than generation and expires_at are optional).
std::string FormatLeaseRecord(const LeaseRecord& r);
Result<LeaseRecord> ParseLeaseRecord(const std::string& text);

struct LeaseOptions {
  std::chrono::milliseconds ttl{std::chrono::seconds(30)};
  std::string db_path;  // for the record and messages
  std::string host;     // empty: gethostname()
  int64_t pid = 0;      // 0: getpid()
  // Clocks (tests inject their own): the wall clock written into the
  // record and compared with other holders' expiry, and the steady clock
  // that decides local validity.
  std::function<TimePoint()> wall_now;
  std::function<std::chrono::steady_clock::time_point()> steady_now;
};

class Lease {
 public:
  // store: the replica's storage (conditional writes, see ReplicaClient).
  Lease(std::shared_ptr<storage::ReplicaClient> store, LeaseOptions options);
  ~Lease();  // stops renewing; does not release
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // One attempt to take the lease: succeeds when the object is absent,
  // released, expired (by this host's clock), already ours, or held by a
  // process of this host (same boot and pid namespace) that no longer
  // exists: a replicator restarted after a crash. Otherwise
  // kFailedPrecondition naming the holder (host, pid, owner, expiry) and
  // what to do; kUnavailable when the store cannot be reached;
  // kUnimplemented when the backend has no conditional writes.
  Status Acquire();

  // Extends the lease by ttl (conditional on the object being unchanged).
  // When another replicator took it, the lease is lost: kFailedPrecondition
  // naming the new holder, and held() turns false. Other failures leave
  // the lease held until its local deadline.
  Status Renew();

  // Gives the lease up (if still ours, the object is marked released).
  Status Release();

  // Records where this generation's history begins, before its first write
  // and after listing the replica: since_txid = the newest TXID listed + 1
  // (a conditional replace of the object; a takeover of an unreleased lease
  // also becomes a fence entry that readers check, docs/architecture.md
  // "Fencing"). Nothing is written when this generation already recorded
  // it. A refused condition means the lease was lost (kFailedPrecondition).
  Status RecordStart(TxId since_txid);

  // The fence of a publish (docs/architecture.md, "Fencing"): Ok when the
  // lease object as it is now (nullptr: absent) is still this lease's, same
  // owner and generation, not released. Otherwise the lease is lost (logged
  // once, naming the new holder) and kFailedPrecondition says so.
  Status CheckFence(const storage::VersionedObject* current);
  // That check as a storage::PublishFence on the lease object.
  storage::PublishFence Fence();

  // Ok while the lease is held and not lost, unless a renewal needed for a
  // write failed and its local deadline (the send time of the last
  // successful write of the object + ttl - ttl/6) has passed. A lease that
  // merely ran out because nothing was written is still ours: nobody took
  // it, and the next Use() renews it first (docs/architecture.md, "Replica
  // lease"). Otherwise kFailedPrecondition saying why (never taken, lost to
  // whom, not renewed in time).
  Status Check() const;

  // Check() for each sync: when a renewal failed, tries again first (at
  // most every tenth of ttl, 50 ms to 1 s), so the lease recovers once the
  // store answers again.
  Status Revalidate();

  // Check() for a write about to happen: once a third of ttl has passed
  // since the last renewal, renews first (conditional on the object being
  // unchanged; if another replicator took it, the lease is lost). Ok when
  // the lease is then valid by the local clock. An idle database thus costs
  // no renewal requests: its lease lapses and is renewed by its next write.
  Status Use();

  // A write of the replica is under way (between Use and its end): while
  // one is, a thread shared by every lease of the process renews the lease
  // at each third of ttl, so a long upload keeps it. Calls nest.
  void BeginWrite();
  void EndWrite();
  // Renews if a third of ttl passed since the last renewal (for the shared
  // thread; errors are logged and remembered for Check).
  void RenewIfDue();

  bool held() const;
  int64_t generation() const;
  // The LTX header node_id of the files written under this lease: its
  // generation (docs/format.md, LTX header).
  uint64_t node_id() const { return static_cast<uint64_t>(generation()); }
  // The last record read or written (the holder when the lease was refused
  // or lost).
  LeaseRecord last_seen() const;
  // True once the lease was taken by another replicator while ours.
  bool lost() const;
  std::chrono::milliseconds ttl() const { return options_.ttl; }
  std::string Describe() const { return store_->Describe(); }

 private:
  TimePoint WallNow() const;
  std::chrono::steady_clock::time_point SteadyNow() const;
  LeaseRecord Mine(int64_t generation, TimePoint now) const;
  // Writes record under if_version; on a refused condition re-reads and
  // accepts it when the stored content is exactly ours (an answer lost in
  // transit). Returns the new version.
  Result<std::string> WriteChecked(const LeaseRecord& record,
                                   const std::string& if_version);
  Status RefusedBy(const LeaseRecord& holder) const;
  // Records a failed renewal (the deadline decides whether writes stop).
  void RenewFailed(const Status& s);
  // Marks the lease lost to the holder in last_seen_ (or to a removed or
  // replaced object) and logs it once; returns the error writes get.
  Status LoseLocked(int64_t generation);

  std::shared_ptr<storage::ReplicaClient> store_;
  LeaseOptions options_;
  std::string owner_id_;

  mutable std::mutex mu_;
  bool held_ = false;
  bool lost_ = false;
  std::string lost_why_;
  std::string version_;  // of the object as we last wrote it
  int64_t generation_ = 0;
  TimePoint acquired_at_{};
  TxId since_txid_ = 0;
  std::vector<storage::FenceEntry> fences_;
  bool takeover_ = false;  // taken from a holder that had not released it
  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::steady_clock::time_point next_renew_{};
  LeaseRecord last_seen_;
  bool expiry_logged_ = false;
  // The last renewal attempt failed (cleared by a successful one).
  bool renew_failed_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  int writes_ = 0;  // BeginWrite minus EndWrite
};

// A ReplicaClient that refuses every write and delete unless the lease is
// held and valid (Lease::Use), publishes them fenced by the lease object
// (Lease::Fence: atomic against a takeover on backends that can, see
// storage::ReplicaClient), and passes everything else through.
class LeasedReplica : public storage::ForwardingReplicaClient {
 public:
  LeasedReplica(std::shared_ptr<storage::ReplicaClient> inner,
                std::shared_ptr<Lease> lease)
      : ForwardingReplicaClient(std::move(inner)), lease_(std::move(lease)) {}

  // Use(), then the write, with the lease kept renewed while it runs.
  base::Status WriteFile(const storage::FileInfo& info,
                         base::Reader& data) override;
  base::Status DeleteFiles(
      const std::vector<storage::FileInfo>& files) override;
  // The lease's fence is the one that counts: these are WriteFile and
  // DeleteFiles (a caller's own fence is not combined with it).
  base::Status WriteFileFenced(const storage::FileInfo& info,
                               base::Reader& data,
                               const storage::PublishFence&) override {
    return WriteFile(info, data);
  }
  base::Status DeleteFilesFenced(const std::vector<storage::FileInfo>& files,
                                 const storage::PublishFence&) override {
    return DeleteFiles(files);
  }
  base::Status DeleteAll() override;

 private:
  std::shared_ptr<Lease> lease_;
};

}  // namespace litekeep::replicate
