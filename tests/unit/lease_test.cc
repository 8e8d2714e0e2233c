// The replica lease's logic with an injected clock, over a real file replica
// (its conditional writes): acquire, refuse naming the holder, take over an
// expired or released lease, renew, lose it to another replicator, local
// expiry fencing every write, and the record's JSON form
// (docs/architecture.md, "Replica lease").
#include "replicate/lease.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "base/io.h"
#include "storage/fence.h"
#include "storage/file/file_client.h"
#include "storage/forwarding_client.h"
#include "tests/support/test_util.h"

namespace litekeep::replicate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A clock both the wall and steady functions read, moved by hand.
struct FakeClock {
  TimePoint wall = TimePoint(std::chrono::hours(24 * 365 * 56));
  std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
  void Advance(milliseconds d) {
    wall += d;
    steady += d;
  }
};

LeaseOptions Options(FakeClock* clock, const std::string& host, int pid) {
  LeaseOptions o;
  o.ttl = seconds(30);
  o.db_path = "/data/" + host + ".db";
  o.host = host;
  o.pid = pid;
  o.wall_now = [clock] { return clock->wall; };
  o.steady_now = [clock] { return clock->steady; };
  return o;
}

// A file replica whose conditional writes fail while `down` (the store
// unreachable): fault injection only, everything else is the real client.
class FlakyStore : public storage::ForwardingReplicaClient {
 public:
  using ForwardingReplicaClient::ForwardingReplicaClient;
  bool down = false;
  Result<std::string> WriteIf(const std::string& key, const std::string& data,
                              const std::string& if_version) override {
    if (down) return base::UnavailableError("store unreachable (injected)");
    return ForwardingReplicaClient::WriteIf(key, data, if_version);
  }
};

class LeaseTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::shared_ptr<storage::ReplicaClient> store_ =
      std::make_shared<storage::FileReplicaClient>(dir_.Join("replica"));
  std::shared_ptr<FlakyStore> flaky_ = std::make_shared<FlakyStore>(store_);
  FakeClock clock_;
  std::string Version() { return store_->ReadVersioned(kLeaseKey)->version; }
};

TEST_F(LeaseTest, SecondReplicatorIsRefusedNamingTheHolder) {
  Lease a(store_, Options(&clock_, "host-a", 111));
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(a.Acquire().ok());
  EXPECT_TRUE(a.Check().ok());
  EXPECT_EQ(a.generation(), 1);
  Status s = b.Acquire();
  EXPECT_EQ(s.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("host host-a"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("pid 111"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("/data/host-a.db"), std::string::npos);
  EXPECT_NE(s.message().find("-wait-lease"), std::string::npos);
  EXPECT_FALSE(b.Check().ok());
  // The object is Litestream's lock.json shape plus litekeep's fields.
  auto rec =
      ParseLeaseRecord(testing::ReadFile(dir_.Join("replica/") + kLeaseKey));
  ASSERT_TRUE(rec.ok()) << rec.status().message();
  EXPECT_EQ(rec->owner, "host-a:111");
  EXPECT_EQ(rec->generation, 1);
  EXPECT_EQ(rec->expires_at, clock_.wall + seconds(30));
}

TEST_F(LeaseTest, RenewalKeepsItAndExpiryLetsAnotherTakeOver) {
  Lease a(flaky_, Options(&clock_, "host-a", 111));
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(a.Acquire().ok());
  clock_.Advance(seconds(20));
  ASSERT_TRUE(a.Use().ok());    // due: renewed before the write
  clock_.Advance(seconds(20));  // 40 s after the take, 20 s after renewal
  EXPECT_TRUE(a.Check().ok());
  EXPECT_FALSE(b.Acquire().ok());
  // The store becomes unreachable: a write's renewal fails, and once the
  // local deadline (ttl - ttl/6 = 25 s) passes A stops writing, before B
  // can take the lease (30 s).
  flaky_->down = true;
  EXPECT_TRUE(a.Use().ok());  // renewal failed, still valid locally
  clock_.Advance(seconds(6));
  Status w = a.Use();
  EXPECT_EQ(w.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(w.message().find("not renewed within its ttl"), std::string::npos)
      << w.message();
  Status c = a.Check();
  EXPECT_EQ(c.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(c.message().find("not renewed within its ttl"), std::string::npos)
      << c.message();
  EXPECT_FALSE(b.Acquire().ok());
  clock_.Advance(seconds(5));
  ASSERT_TRUE(b.Acquire().ok());
  EXPECT_EQ(b.generation(), 2);
  // Reachable again, A's renewal finds B's lease: lost, never taken back.
  flaky_->down = false;
  Status r = a.Revalidate();
  EXPECT_EQ(r.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(r.message().find("host-b"), std::string::npos) << r.message();
  EXPECT_TRUE(a.lost());
  EXPECT_FALSE(a.held());
  EXPECT_NE(a.Check().message().find("taken over"), std::string::npos);
}

// The store unreachable while writing, nobody else: writes stop after the
// local deadline (Check fails: /healthz), and the next sync's Revalidate
// renews the lease once the store answers again.
TEST_F(LeaseTest, UnreachableStoreStopsWritesUntilRenewed) {
  Lease a(flaky_, Options(&clock_, "host-a", 111));
  ASSERT_TRUE(a.Acquire().ok());
  flaky_->down = true;
  clock_.Advance(seconds(11));
  EXPECT_TRUE(a.Use().ok());
  EXPECT_TRUE(a.Revalidate().ok());
  clock_.Advance(seconds(15));
  EXPECT_FALSE(a.Use().ok());
  EXPECT_FALSE(a.Revalidate().ok());
  flaky_->down = false;
  clock_.Advance(seconds(1));
  EXPECT_TRUE(a.Revalidate().ok());
  EXPECT_TRUE(a.Use().ok());
  EXPECT_EQ(a.generation(), 1);
  EXPECT_TRUE(a.held());
}

// docs/architecture.md, "Fencing": each generation records where it
// begins; only a takeover of an unreleased lease becomes a fence entry
// (kept across later generations), and the rule makes a file of an older
// generation stale from that TXID on, never a node_id 0 file.
TEST_F(LeaseTest, TakeoverRecordsAFenceThatReadersApply) {
  Lease a(store_, Options(&clock_, "host-a", 111));
  ASSERT_TRUE(a.Acquire().ok());
  ASSERT_TRUE(a.RecordStart(1).ok());
  EXPECT_EQ(a.node_id(), 1u);
  auto fences = storage::ReadFences(*store_);
  ASSERT_TRUE(fences.ok());
  EXPECT_TRUE(fences->empty());  // no takeover: readers fetch no header
  clock_.Advance(seconds(31));   // A stalls past its lease
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(b.Acquire().ok());
  ASSERT_TRUE(b.RecordStart(5).ok());
  ASSERT_TRUE(b.RecordStart(9).ok());  // recorded once per generation
  auto rec = ParseLeaseRecord(store_->ReadVersioned(kLeaseKey)->data);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->since_txid, 5u);
  ASSERT_EQ(rec->fences.size(), 1u);
  EXPECT_EQ(rec->fences[0].generation, 2);
  EXPECT_EQ(rec->fences[0].since_txid, 5u);
  // A clean handover carries the entry on and adds none.
  ASSERT_TRUE(b.Release().ok());
  Lease c(store_, Options(&clock_, "host-c", 333));
  ASSERT_TRUE(c.Acquire().ok());
  ASSERT_TRUE(c.RecordStart(8).ok());
  fences = storage::ReadFences(*store_);
  ASSERT_TRUE(fences.ok());
  ASSERT_EQ(fences->entries.size(), 1u);
  EXPECT_EQ(fences->oldest_since(), 5u);
  EXPECT_TRUE(fences->StaleBy(1, 5).has_value());   // A's file at the takeover
  EXPECT_FALSE(fences->StaleBy(1, 4).has_value());  // A's history before it
  EXPECT_FALSE(fences->StaleBy(2, 9).has_value());  // B's own
  EXPECT_FALSE(fences->StaleBy(3, 9).has_value());  // C's
  EXPECT_FALSE(fences->StaleBy(0, 9).has_value());  // Litestream's
}

TEST_F(LeaseTest, ReleaseLetsTheNextTakeOverAtOnce) {
  Lease a(store_, Options(&clock_, "host-a", 111));
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(a.Acquire().ok());
  ASSERT_TRUE(a.Release().ok());
  EXPECT_FALSE(a.Check().ok());
  ASSERT_TRUE(b.Acquire().ok());
  EXPECT_EQ(b.generation(), 2);
  // A released lease is not A's any more.
  EXPECT_FALSE(a.Renew().ok());
}

TEST_F(LeaseTest, ExpiredButUntouchedLeaseIsRenewedByItsHolder) {
  Lease a(store_, Options(&clock_, "host-a", 111));
  ASSERT_TRUE(a.Acquire().ok());
  const std::string v0 = Version();
  clock_.Advance(seconds(40));  // idle: nothing written, no request
  EXPECT_EQ(Version(), v0);
  EXPECT_TRUE(a.Check().ok());  // lapsed unused: still ours
  ASSERT_TRUE(a.Use().ok());    // nobody took it: renewed, same generation
  EXPECT_NE(Version(), v0);
  EXPECT_TRUE(a.Check().ok());
  EXPECT_EQ(a.generation(), 1);
}

TEST_F(LeaseTest, LeasedReplicaRefusesWritesWithoutTheLease) {
  auto lease = std::make_shared<Lease>(store_, Options(&clock_, "h", 1));
  LeasedReplica replica(store_, lease);
  storage::FileInfo info;
  info.level = 0;
  info.min_txid = info.max_txid = 1;
  info.size = 3;
  const std::string abc = "abc";
  base::SpanReader data(
      {reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
  Status s = replica.WriteFile(info, data);
  EXPECT_EQ(s.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("not held"), std::string::npos) << s.message();
  EXPECT_EQ(replica.DeleteFiles({info}).code(),
            base::Code::kFailedPrecondition);
  ASSERT_TRUE(lease->Acquire().ok());
  base::SpanReader again(
      {reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
  EXPECT_TRUE(replica.WriteFile(info, again).ok());
  // Past its local deadline with nobody else: the write renews it first
  // (an idle database lets its lease run out; docs/architecture.md).
  clock_.Advance(seconds(26));
  base::SpanReader late(
      {reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
  EXPECT_TRUE(replica.WriteFile(info, late).ok());
  EXPECT_EQ(lease->generation(), 1);
  // Past its expiry and taken by another replicator: refused, lost.
  clock_.Advance(seconds(31));
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(b.Acquire().ok());
  base::SpanReader stale(
      {reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
  Status refused = replica.WriteFile(info, stale);
  EXPECT_EQ(refused.code(), base::Code::kFailedPrecondition);
  EXPECT_TRUE(lease->lost());
  EXPECT_NE(refused.message().find("host-b"), std::string::npos)
      << refused.message();
}

// The fenced publish (docs/architecture.md, "Fencing"): a write whose lease
// check passed before another replicator took over is refused when it is
// about to be published, so nothing lands; the holder learns it lost the
// lease. Deletes alike. While the lease is still its own, both go through.
TEST_F(LeaseTest, FencedPublishRefusesAStaleWriter) {
  Lease a(store_, Options(&clock_, "host-a", 111));
  ASSERT_TRUE(a.Acquire().ok());
  storage::FileInfo info{0, 5, 5, 3, {}};
  const std::string abc = "abc";
  auto write = [&](const storage::FileInfo& f) {
    base::SpanReader data(
        {reinterpret_cast<const uint8_t*>(abc.data()), abc.size()});
    return store_->WriteFileFenced(f, data, a.Fence());
  };
  ASSERT_TRUE(write(info).ok());
  EXPECT_TRUE(store_->OpenFile(0, 5, 5, 0, -1).ok());
  // A passed Use() and stalls; B takes the expired lease.
  clock_.Advance(seconds(31));
  Lease b(store_, Options(&clock_, "host-b", 222));
  ASSERT_TRUE(b.Acquire().ok());
  storage::FileInfo next{0, 6, 6, 3, {}};
  Status s = write(next);
  EXPECT_EQ(s.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("host-b"), std::string::npos) << s.message();
  EXPECT_EQ(store_->OpenFile(0, 6, 6, 0, -1).status().code(),
            base::Code::kNotFound);
  EXPECT_TRUE(a.lost());
  EXPECT_NE(a.Check().message().find("taken over"), std::string::npos);
  Status d = store_->DeleteFilesFenced({info}, a.Fence());
  EXPECT_EQ(d.code(), base::Code::kFailedPrecondition);
  EXPECT_TRUE(store_->OpenFile(0, 5, 5, 0, -1).ok());
  // The new holder's fence passes; no temporary files are left behind.
  EXPECT_TRUE(store_->DeleteFilesFenced({info}, b.Fence()).ok());
  int entries = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(dir_.Join("replica/ltx/0"))) {
    ++entries;
    ADD_FAILURE() << "left behind: " << e.path();
  }
  EXPECT_EQ(entries, 0);
}

TEST_F(LeaseTest, IdleLeaseIsNotRenewedAndStaysValidUntilTaken) {
  // Writes renew only once a third of ttl has passed; with nothing written
  // the lease lapses with no request, Check() still accepts it, and the
  // next write renews it.
  Lease a(store_, Options(&clock_, "h", 1));
  ASSERT_TRUE(a.Acquire().ok());
  const std::string v0 = Version();
  clock_.Advance(seconds(5));
  ASSERT_TRUE(a.Use().ok());
  EXPECT_EQ(Version(), v0) << "renewed before a third of ttl";
  clock_.Advance(seconds(6));
  ASSERT_TRUE(a.Use().ok());
  const std::string v1 = Version();
  EXPECT_NE(v1, v0) << "a write after ttl/3 did not renew";
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(10));
    EXPECT_TRUE(a.Revalidate().ok());  // each sync of an idle database
  }
  EXPECT_EQ(Version(), v1) << "an unused lease was renewed";
  EXPECT_TRUE(a.Use().ok());
  EXPECT_NE(Version(), v1);
  EXPECT_EQ(a.generation(), 1);
}

// A long upload keeps the lease: while a write is under way the process's
// one keeper thread renews it at each third of ttl; after it, nothing does.
TEST_F(LeaseTest, LongWriteIsKeptRenewedByTheSharedThread) {
  LeaseOptions o = Options(&clock_, "h", 1);
  o.ttl = milliseconds(300);
  o.steady_now = [] { return std::chrono::steady_clock::now(); };
  o.wall_now = [] { return Clock::now(); };
  Lease a(store_, o);
  ASSERT_TRUE(a.Acquire().ok());
  ASSERT_TRUE(a.Use().ok());
  a.BeginWrite();
  const std::string v0 = Version();
  std::this_thread::sleep_for(milliseconds(700));
  EXPECT_NE(Version(), v0) << "not renewed during the write";
  EXPECT_TRUE(a.Use().ok());  // still valid after 2 ttl
  a.EndWrite();
  const std::string v1 = Version();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Version(), v1) << "renewed with no write under way";
  EXPECT_TRUE(a.Check().ok());
}

TEST_F(LeaseTest, DeadHolderOnThisHostIsTakenOverAtOnce) {
  // A replicator of this host (this process's pid namespace) that crashed:
  // its pid is gone, so a restarted one need not wait for the expiry.
  LeaseOptions dead = Options(&clock_, "host-a", 0);
  dead.pid = ::getpid();
  Lease crashed(store_, dead);
  ASSERT_TRUE(crashed.Acquire().ok());
  auto stored = store_->ReadVersioned(kLeaseKey);
  ASSERT_TRUE(stored.ok());
  auto rec = ParseLeaseRecord(stored->data);
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(rec->pid_ns.empty());
  // Rewrite the holder's pid to one that does not exist (pid_max is at
  // most 2^22).
  rec->pid = 1 << 23;
  ASSERT_TRUE(
      store_->WriteIf(kLeaseKey, FormatLeaseRecord(*rec), stored->version)
          .ok());
  Lease restarted(store_, Options(&clock_, "host-a", ::getpid()));
  ASSERT_TRUE(restarted.Acquire().ok());
  EXPECT_EQ(restarted.generation(), 2);
  // A live holder of this host (this process) is not taken over.
  Lease other(store_, Options(&clock_, "host-a", ::getpid()));
  EXPECT_EQ(other.Acquire().code(), base::Code::kFailedPrecondition);
  // Another pid namespace (another container or host): wait for expiry.
  ASSERT_TRUE(restarted.Release().ok());
  ASSERT_TRUE(base::WriteFileAtomic(
                  dir_.Join("replica/lock.json"),
                  "{\"generation\":9,\"expires_at\":\"2100-01-01T00:00:00Z\","
                  "\"pid\":8388608,\"pid_ns\":\"another:1\"}")
                  .ok());
  EXPECT_EQ(other.Acquire().code(), base::Code::kFailedPrecondition);
}

TEST_F(LeaseTest, ForeignObjectIsAnErrorNamingIt) {
  ASSERT_TRUE(base::MakeDirs(dir_.Join("replica")).ok());
  ASSERT_TRUE(
      base::WriteFileAtomic(dir_.Join("replica/lock.json"), "hello").ok());
  Lease a(store_, Options(&clock_, "host-a", 111));
  Status s = a.Acquire();
  EXPECT_EQ(s.code(), base::Code::kCorrupt);
  EXPECT_NE(s.message().find("lock.json"), std::string::npos) << s.message();
}

TEST_F(LeaseTest, LitestreamLeaserRecordIsUnderstood) {
  // What Litestream's S3 leaser writes (generation, expires_at, owner).
  ASSERT_TRUE(base::MakeDirs(dir_.Join("replica")).ok());
  ASSERT_TRUE(base::WriteFileAtomic(
                  dir_.Join("replica/lock.json"),
                  "{\"generation\":7,\"expires_at\":\"2100-01-01T00:00:00Z\","
                  "\"owner\":\"other:42\"}")
                  .ok());
  Lease a(store_, Options(&clock_, "host-a", 111));
  Status s = a.Acquire();
  EXPECT_EQ(s.code(), base::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("other:42"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("generation 7"), std::string::npos);
}

TEST_F(LeaseTest, FileConditionalWritesCompareVersions) {
  auto v1 = store_->WriteIf("lock.json", "one", "");
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ(store_->WriteIf("lock.json", "two", "").status().code(),
            base::Code::kAlreadyExists);
  auto v2 = store_->WriteIf("lock.json", "two", *v1);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(store_->WriteIf("lock.json", "three", *v1).status().code(),
            base::Code::kFailedPrecondition);
  auto read = store_->ReadVersioned("lock.json");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->data, "two");
  EXPECT_EQ(read->version, *v2);
  // Listings of levels do not see it.
  auto files = store_->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty());
}

}  // namespace
}  // namespace litekeep::replicate
