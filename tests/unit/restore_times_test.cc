// Creation times for `restore -timestamp` (restore::ResolveTimestampTimes):
// from a listing whose times are only the store's (upload times, or a clock
// that differs from the writer's), the plan must still pick the TXID the
// exact creation times select, asking for as few exact times as it can
// (docs/cli/restore.md, "Requests").
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "restore/planner.h"

namespace litekeep {
namespace {

using std::chrono::seconds;

TimePoint At(int s) { return TimePoint(seconds(1'000'000 + s)); }

// A listing with inexact times and the exact ones behind it; CreatedTime
// calls are counted. Files in `gone` answer kNotFound.
class TimesReplica : public storage::ReplicaClient {
 public:
  std::string Type() const override { return "times"; }
  std::string Describe() const override { return "times test replica"; }
  Result<std::vector<storage::FileInfo>> ListFiles(int level) override {
    std::vector<storage::FileInfo> out;
    for (const auto& f : listed) {
      if (f.level == level) out.push_back(f);
    }
    return out;
  }
  Result<std::unique_ptr<base::Reader>> OpenFile(int, TxId, TxId, int64_t,
                                                 int64_t) override {
    return base::UnimplementedError("not in this test");
  }
  base::Status WriteFile(const storage::FileInfo&, base::Reader&) override {
    return base::UnimplementedError("not in this test");
  }
  base::Status DeleteFiles(const std::vector<storage::FileInfo>&) override {
    return base::UnimplementedError("not in this test");
  }
  base::Status DeleteAll() override {
    return base::UnimplementedError("not in this test");
  }
  Result<TimePoint> CreatedTime(const storage::FileInfo& f) override {
    std::lock_guard<std::mutex> l(mu);
    ++asked;
    if (gone.count(f.max_txid)) return base::NotFoundError("gone");
    return exact.at(f.max_txid);
  }

  std::vector<storage::FileInfo> listed;
  std::map<TxId, TimePoint> exact;  // by max TXID
  std::set<TxId> gone;
  std::mutex mu;
  int asked = 0;
};

// A snapshot up to TXID 10 made at second 10, then L0 files 11..40, file n
// made at second n; every listed time is `listed_offset` seconds off.
void Fill(TimesReplica* r, int listed_offset) {
  auto add = [&](int level, TxId lo, TxId hi) {
    storage::FileInfo f;
    f.level = level;
    f.min_txid = lo;
    f.max_txid = hi;
    f.size = 100;
    f.created = At(static_cast<int>(hi) + listed_offset);
    r->listed.push_back(f);
    r->exact[hi] = At(static_cast<int>(hi));
  };
  add(9, 1, 10);
  for (TxId t = 11; t <= 40; ++t) add(0, t, t);
}

Result<restore::Plan> PlanAt(TimesReplica& r, TimePoint t, int concurrency) {
  LK_ASSIGN_OR_RETURN(auto files, restore::ListAllFiles(r));
  LK_RETURN_IF_ERROR(
      restore::ResolveTimestampTimes(r, &files, t, concurrency).status());
  restore::Target target;
  target.timestamp = t;
  return restore::MakePlan(files, target, "test");
}

// Uploaded long after they were made (a copied bucket): by the listing
// alone nothing is old enough; the exact times select TXID 25, and only
// the files ending after it (plus the rest of the last batch) are asked.
TEST(RestoreTimesTest, LateUploadsStillSelectTheExactTxid) {
  TimesReplica r;
  Fill(&r, 1000);
  auto plan = PlanAt(r, At(25), 4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->txid, 25u);
  EXPECT_EQ(plan->files.front().level, 9);
  EXPECT_EQ(r.asked, 16);  // 40..25 in batches of 4
}

// A store clock behind the writer's: the listing makes files look older
// than they are; the exact times keep TXIDs 31..40 out of a restore to
// second 30.
TEST(RestoreTimesTest, StoreClockBehindDoesNotPullLaterTransactionsIn) {
  TimesReplica r;
  Fill(&r, -100);
  auto plan = PlanAt(r, At(30), 16);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->txid, 30u);
  EXPECT_LE(r.asked, 16 + 10);
}

// The newest state's time: one batch, not one request per file.
TEST(RestoreTimesTest, RecentTimestampAsksOneBatch) {
  TimesReplica r;
  Fill(&r, 0);
  auto plan = PlanAt(r, At(100), 8);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->txid, 40u);
  EXPECT_EQ(r.asked, 8);
}

// Before the snapshot: every time is asked, and the plan names the problem.
TEST(RestoreTimesTest, BeforeEverythingIsNotFound) {
  TimesReplica r;
  Fill(&r, -1000);
  auto plan = PlanAt(r, At(5), 16);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), base::Code::kNotFound);
  EXPECT_NE(plan.status().message().find("at or before the requested time"),
            std::string::npos)
      << plan.status().message();
  EXPECT_EQ(r.asked, 31);
}

// A file deleted since the listing is dropped, not an error.
TEST(RestoreTimesTest, FileGoneSinceTheListingIsDropped) {
  TimesReplica r;
  Fill(&r, 0);
  r.gone.insert(40);
  auto files = restore::ListAllFiles(r);
  ASSERT_TRUE(files.ok());
  auto asked = restore::ResolveTimestampTimes(r, &*files, At(39), 2);
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  EXPECT_EQ(files->size(), 30u);
  for (const auto& f : *files) EXPECT_NE(f.max_txid, 40u);

  // Printing a plan needs every file: there a gone file is an error.
  auto all = restore::ListAllFiles(r);
  ASSERT_TRUE(all.ok());
  Status st = restore::MakeCreatedTimesExact(r, &*all, 4);
  EXPECT_EQ(st.code(), base::Code::kNotFound);
}

}  // namespace
}  // namespace litekeep
