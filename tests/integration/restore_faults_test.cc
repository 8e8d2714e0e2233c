// `litekeep restore` against a hostile S3 server (the fault proxy in front
// of s3rver) and a hostile local directory: a body longer than the listed
// size (endless or announced) or shorter, a slow drip, SIGTERM in the
// middle of a slow restore, a symlink planted where downloads used to go,
// and -txid past the newest TXID. Every case ends in a clear error naming the
// object or a correct restore, and leaves no temporary file behind
// (docs/reliability.md).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "restore/executor.h"
#include "restore/planner.h"
#include "storage/file/file_client.h"
#include "storage/s3/client.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/unit/ltx_test_util.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using ltx::testutil::AsBytes;
using ltx::testutil::EncodeFile;
using ltx::testutil::MakeHeader;
using ltx::testutil::MakePage;
using ltx::testutil::Page;
using ltx::testutil::PageKind;

constexpr char kBucket[] = "restorefaults";
constexpr char kSnapshotName[] =
    "level 9 file 0000000000000001-0000000000000001.ltx";

S3rver* Server() {
  static std::unique_ptr<S3rver> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = S3rver::Start(kBucket, &error);
    if (!server)
      std::fprintf(stderr, "s3rver unavailable: %s\n", error.c_str());
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  }
  return server.get();
}

std::string Url(const std::string& endpoint, const std::string& path) {
  return std::string("s3://") + kBucket + "/" + path + "?endpoint=" + endpoint +
         "&forcePathStyle=true&region=us-east-1";
}

// Writes a snapshot of `pages` random 4096-byte pages under `path`;
// returns the database bytes. The upload's status goes to *put when given
// (else it must succeed).
std::string PutSnapshot(storage::ReplicaClient& c, uint32_t pages,
                        base::Status* put = nullptr) {
  std::mt19937_64 rng(pages);
  std::vector<Page> ps;
  std::string db;
  for (Pgno p = 1; p <= pages; ++p) {
    ps.emplace_back(p, MakePage(rng, 4096, PageKind::kRandom));
    db += ps.back().second;
  }
  base::Status s;
  std::string bytes =
      EncodeFile(MakeHeader(4096, pages, 1, 1, true), ps, 0, &s);
  EXPECT_TRUE(s.ok()) << s.ToString();
  storage::FileInfo f{9, 1, 1, static_cast<int64_t>(bytes.size()),
                      Clock::now()};
  base::SpanReader r(AsBytes(bytes));
  base::Status written = c.WriteFile(f, r);
  if (put != nullptr) {
    *put = written;
  } else {
    EXPECT_TRUE(written.ok()) << written.ToString();
  }
  return db;
}

// A client of s3rver (or of a proxy in front of it at endpoint); `tune`
// may change its options.
std::unique_ptr<storage::ReplicaClient> S3(
    const std::string& path, std::string endpoint = "",
    const std::function<void(storage::s3::S3Options&)>& tune = nullptr) {
  storage::s3::S3Options o;
  o.bucket = kBucket;
  o.path = path;
  o.endpoint = endpoint.empty() ? Server()->endpoint() : endpoint;
  o.region = "us-east-1";
  o.force_path_style = true;
  o.access_key_id = "S3RVER";
  o.secret_access_key = "S3RVER";
  if (tune) tune(o);
  auto c = storage::s3::NewS3ReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

// Entries of dir other than `keep`.
std::vector<std::string> Leftovers(const std::string& dir,
                                   const std::vector<std::string>& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), n) == keep.end()) out.push_back(n);
  }
  return out;
}

// Runs `litekeep restore` as a child, waiting at most 60 s.
int RestoreChild(const TempDir& dir, const std::vector<std::string>& args,
                 std::string* log) {
  std::vector<std::string> argv = {LitekeepBin(), "restore"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, dir.Join("restore.log"));
  int code = p.Wait(std::chrono::seconds(60));
  *log = p.Log();
  return code;
}

TEST(RestoreFaultsTest, EndlessBodyIsRefusedAtTheListedSize) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  PutSnapshot(*S3("endless"), 64);
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kEndless);
  TempDir dir;
  fs::create_directories(dir.Join("out"));
  std::string log;
  int code =
      RestoreChild(dir,
                   {"-integrity-check", "none", "-o", dir.Join("out/app.db"),
                    Url(proxy.endpoint(), "endless")},
                   &log);
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << "restore hung on an endless body";
  EXPECT_NE(log.find("more than the listed"), std::string::npos) << log;
  EXPECT_NE(log.find(kSnapshotName), std::string::npos) << log;
  // It stopped reading right after the listed size (the proxy may have
  // buffered some more in the socket).
  EXPECT_LT(proxy.endless_bytes_sent(), uint64_t{64} << 20);
  EXPECT_TRUE(Leftovers(dir.Join("out"), {}).empty());
}

TEST(RestoreFaultsTest, OverlongBodyIsRefusedNamingTheObject) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  PutSnapshot(*S3("overlong"), 16);
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kOverlong);
  TempDir dir;
  fs::create_directories(dir.Join("out"));
  std::string log;
  int code =
      RestoreChild(dir,
                   {"-integrity-check", "none", "-o", dir.Join("out/app.db"),
                    Url(proxy.endpoint(), "overlong")},
                   &log);
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1);
  EXPECT_NE(log.find("more than the listed"), std::string::npos) << log;
  EXPECT_NE(log.find(kSnapshotName), std::string::npos) << log;
  EXPECT_TRUE(Leftovers(dir.Join("out"), {}).empty());
}

TEST(RestoreFaultsTest, SymlinkWhereDownloadsWentIsNotFollowed) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  const std::string db = PutSnapshot(*S3("symlink"), 8);
  TempDir dir;
  const std::string out = dir.Join("app.db");
  std::ofstream(dir.Join("victim")) << "precious";
  for (const char* s : {".tmp", ".tmp-dl-0"}) {
    ASSERT_EQ(::symlink(dir.Join("victim").c_str(), (out + s).c_str()), 0);
  }
  std::string log;
  int code = RestoreChild(dir,
                          {"-integrity-check", "none", "-o", out,
                           Url(Server()->endpoint(), "symlink")},
                          &log);
  ASSERT_EQ(code, 0) << log;
  EXPECT_TRUE(ReadFile(dir.Join("victim")) == "precious")
      << "the symlink's target was overwritten";
  EXPECT_TRUE(ReadFile(out) == db) << "restored bytes differ";
  // .app.db-litekeep holds the lineage record of the restored file.
  EXPECT_TRUE(Leftovers(dir.path(),
                        {"app.db", "victim", "app.db.tmp", "app.db.tmp-dl-0",
                         "restore.log", ".app.db-litekeep"})
                  .empty());
}

TEST(RestoreFaultsTest, SigtermDuringRestoreLeavesNothingBehind) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  PutSnapshot(*S3("sigterm"), 64);  // 256 KiB at 16 KiB/s: ~16 s
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kDrip, 16 << 10);
  TempDir dir;
  fs::create_directories(dir.Join("out"));
  ChildProcess p({LitekeepBin(), "restore", "-integrity-check", "none", "-o",
                  dir.Join("out/app.db"), Url(proxy.endpoint(), "sigterm")},
                 dir.Join("restore.log"));
  // Wait for the private scratch directory, then a little into the download.
  ASSERT_TRUE(WaitUntil([&] { return !Leftovers(dir.Join("out"), {}).empty(); },
                        std::chrono::seconds(20)))
      << p.Log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(p.running()) << p.Log();
  p.Signal(SIGTERM);
  const int code = p.Wait(std::chrono::seconds(20));
  EXPECT_NE(code, 0) << p.Log();
  EXPECT_NE(code, -1) << "restore did not stop on SIGTERM";
  EXPECT_TRUE(Leftovers(dir.Join("out"), {}).empty());
  EXPECT_FALSE(fs::exists(dir.Join("out/app.db")));
}

TEST(RestoreFaultsTest, TxidPastTheNewestNamesTheNewest) {
  TempDir dir;
  storage::FileReplicaClient replica(dir.Join("replica"));
  PutSnapshot(replica, 2);
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-txid", "10",
                                   "-o", dir.Join("out.db"),
                                   "file://" + dir.Join("replica")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the replica's newest TXID is 0000000000000001"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("gap"), std::string::npos) << r.err;
}

// An object shorter than its listing (Content-Length agrees with the short
// body, so the HTTP layer sees nothing wrong): restore refuses it naming
// the object and the two sizes, and leaves nothing behind.
TEST(RestoreFaultsTest, ObjectShorterThanListedIsRefused) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  PutSnapshot(*S3("short"), 16);
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kShort);
  TempDir dir;
  fs::create_directories(dir.Join("out"));
  ChildProcess p({LitekeepBin(), "restore", "-integrity-check", "none", "-o",
                  dir.Join("out/app.db"), Url(proxy.endpoint(), "short")},
                 dir.Join("restore.log"));
  const int code = p.Wait(std::chrono::seconds(60));
  const std::string log = p.Log();
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << "restore hung";
  EXPECT_NE(log.find(kSnapshotName), std::string::npos) << log;
  EXPECT_NE(log.find("of the listed"), std::string::npos) << log;
  EXPECT_TRUE(Leftovers(dir.Join("out"), {}).empty());
}

// A store that sends every object slowly (but steadily): the restore takes
// its time and is exact.
TEST(RestoreFaultsTest, SlowDripRestoresExactly) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  const std::string db = PutSnapshot(*S3("drip"), 24);
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_body_fault(BodyFault::kDrip, 64 << 10);  // ~1.5 s for 96 KiB
  TempDir dir;
  ChildProcess p({LitekeepBin(), "restore", "-integrity-check", "none", "-o",
                  dir.Join("app.db"), Url(proxy.endpoint(), "drip")},
                 dir.Join("restore.log"));
  ASSERT_EQ(p.Wait(std::chrono::seconds(60)), 0) << p.Log();
  EXPECT_TRUE(ReadFile(dir.Join("app.db")) == db) << "restored bytes differ";
}

// A file downloaded in many ranges at once through a proxy that cuts
// responses mid-body and resets connections: every range resumes where it
// stopped and the restored bytes equal the source (docs/cli/restore.md,
// "Parallel downloads").
TEST(RestoreFaultsTest, ParallelRangesSurviveDroppedConnections) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  const std::string db = PutSnapshot(*S3("ranges"), 640);  // 2.5 MiB
  FaultRates rates;
  rates.truncate = 0.3;
  rates.reset = 0.05;
  FaultProxy proxy(Server()->port(), rates, 20261201);
  auto replica = S3("ranges", proxy.endpoint());
  auto files = restore::ListAllFiles(*replica);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto plan = restore::MakePlan(*files, restore::Target{}, "ranges");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  TempDir dir;
  restore::ExecuteOptions o;
  o.output = dir.Join("app.db");
  o.integrity = restore::IntegrityCheck::kNone;
  o.parallelism = 4;
  o.range_bytes = 256 << 10;
  auto r = restore::Execute(*replica, *plan, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(ReadFile(dir.Join("app.db")) == db) << "restored bytes differ";
  // Ranges started at every 256 KiB boundary, and cut ones resumed past it.
  std::set<int64_t> starts;
  int resumed = 0;
  for (const auto& head : proxy.request_heads()) {
    if (head.rfind("GET ", 0) != 0) continue;
    const std::string low = head.substr(0, head.find("\r\n"));
    if (low.find(".ltx") == std::string::npos) continue;
    auto at = head.find("bytes=");
    if (at == std::string::npos) continue;
    const int64_t start = std::strtoll(head.c_str() + at + 6, nullptr, 10);
    if (start % (256 << 10) == 0) {
      starts.insert(start);
    } else {
      ++resumed;
    }
  }
  EXPECT_GE(starts.size(), 9u);
  EXPECT_GT(proxy.counts().truncate, 0u);
  EXPECT_GT(resumed, 0);
}

// The thread ids of this process now.
std::set<std::string> ThreadIds() {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator("/proc/self/task")) {
    out.insert(e.path().filename().string());
  }
  return out;
}

// A restore of 40 ranges with 4 in flight runs its HTTP transfers on reused
// threads, not one new thread per range (docs/cli/restore.md, "Parallel
// downloads"): every thread id the process had while it ran is counted.
TEST(RestoreFaultsTest, RangesReuseTransferThreads) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  const std::string db = PutSnapshot(*S3("threads"), 640);  // 2.5 MiB
  auto replica = S3("threads");
  auto files = restore::ListAllFiles(*replica);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto plan = restore::MakePlan(*files, restore::Target{}, "threads");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::set<std::string> seen = ThreadIds();
  const size_t before = seen.size();
  std::atomic<bool> done{false};
  std::mutex mu;
  std::thread sampler([&] {
    while (!done) {
      auto now = ThreadIds();
      std::lock_guard<std::mutex> l(mu);
      seen.insert(now.begin(), now.end());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  TempDir dir;
  restore::ExecuteOptions o;
  o.output = dir.Join("app.db");
  o.integrity = restore::IntegrityCheck::kNone;
  o.parallelism = 4;
  o.range_bytes = 64 << 10;  // 40 ranges
  auto r = restore::Execute(*replica, *plan, o);
  done = true;
  sampler.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(ReadFile(dir.Join("app.db")) == db) << "restored bytes differ";
  // 4 download threads, the writer, the sampler, and transfer threads:
  // at most one per range in flight (plus one that has not yet gone idle).
  std::lock_guard<std::mutex> l(mu);
  std::printf("threads started during the restore: %zu\n",
              seen.size() - before);
  EXPECT_LE(seen.size() - before, 16u)
      << "new threads during a 40-range restore: one per range?";
}

// Uploads a multipart snapshot under path through a proxy that does
// something to its CompleteMultipartUpload, with a 1 s no-progress limit
// for every other request (docs/s3.md, "Timeouts"); expects success and
// returns the database bytes.
std::string UploadThroughCompleteFault(const std::string& path,
                                       FaultProxy& proxy) {
  auto replica = S3(path, proxy.endpoint(), [](storage::s3::S3Options& o) {
    o.part_size = 5 << 20;
    o.stall_timeout = std::chrono::milliseconds(1000);
    o.retry.max_attempts = 4;
    o.retry.backoff_base = std::chrono::milliseconds(5);
    o.retry.backoff_max = std::chrono::milliseconds(50);
  });
  base::Status put;
  // 3000 random pages: a 12 MB LTX file, three parts.
  const std::string db = PutSnapshot(*replica, 3000, &put);
  EXPECT_TRUE(put.ok()) << put.ToString();
  return db;
}

void ExpectRestores(const std::string& path, const std::string& db) {
  TempDir dir;
  std::string log;
  ASSERT_EQ(RestoreChild(dir,
                         {"-integrity-check", "none", "-o", dir.Join("app.db"),
                          Url(Server()->endpoint(), path)},
                         &log),
            0)
      << log;
  EXPECT_TRUE(ReadFile(dir.Join("app.db")) == db) << "restored bytes differ";
}

// The store takes 3 s to answer Complete (it joins the parts first), three
// times the limit other requests get: one Complete, waited for.
TEST(RestoreFaultsTest, SlowCompleteMultipartUploadIsWaitedFor) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  FaultProxy proxy(Server()->port(), FaultRates{});
  proxy.set_complete_fault(CompleteFault::kHold, std::chrono::seconds(3));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string db = UploadThroughCompleteFault("slowcomplete", proxy);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(proxy.completes(), 1u) << "the slow Complete was given up on";
  ExpectRestores("slowcomplete", db);
}

// The first Complete succeeds but its answer is lost; the retries find no
// upload (s3rver: 500, AWS: 404 NoSuchUpload). The object is there with the
// upload's size and metadata: success, not an error.
TEST(RestoreFaultsTest, CompleteWhoseAnswerWasLostIsRecognised) {
  if (Server() == nullptr) GTEST_SKIP() << "s3rver not installed";
  struct Case {
    const char* path;
    CompleteFault fault;
  };
  const Case cases[] = {
      {"lostcomplete500", CompleteFault::kLoseFirst},
      {"lostcomplete404", CompleteFault::kLoseFirstThenNoSuchUpload},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    FaultProxy proxy(Server()->port(), FaultRates{});
    proxy.set_complete_fault(c.fault);
    const std::string db = UploadThroughCompleteFault(c.path, proxy);
    EXPECT_GE(proxy.completes(), 2u) << "the lost answer was not retried";
    ExpectRestores(c.path, db);
  }
}

}  // namespace
}  // namespace litekeep::testing
