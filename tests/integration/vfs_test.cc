// The litekeep VFS extension (build/litekeep.so) end to end: a workload is
// replicated by `litekeep replicate` to a local directory and to s3rver,
// then read through the VFS from this process, the real sqlite3 shell and
// Python's sqlite3 module, and every query result is compared with the
// source at the same TXID. Also: time travel, freshness, hydration (no
// network afterwards), write mode round trip and refusal, and faults.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/age.h"
#include "base/io.h"
#include "base/rfc3339.h"
#include "config/config.h"
#include "ltx/decoder.h"
#include "ltx/encoder.h"
#include "ltx/file_name.h"
#include "storage/file/file_client.h"
#include "storage/registry.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"
#include "tests/support/test_util.h"
#include "tests/support/vfs_util.h"
#include "tests/support/workload.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kBucket[] = "vfs-test";

std::string SourceUri(const std::string& path) {
  return "file:" + path + "?mode=ro";
}

TxId ReplicaTxId(const std::string& url) {
  auto rc = config::ParseReplicaUrl(url);
  if (!rc.ok()) return 0;
  auto c = storage::NewReplicaClient(*rc);
  if (!c.ok()) return 0;
  auto t = storage::MaxTxId(**c);
  return t.ok() ? *t : 0;
}

// Waits until the replica's newest state, read through the VFS (with
// read_params, e.g. an age identity file), equals want (the source's dump
// once its writes stopped): the replicator shipped everything the source
// committed, however slowly it runs. Its TXID, or 0 after 120 s.
TxId WaitReplicaHolds(const std::string& url, const std::string& read_params,
                      const std::string& want) {
  TxId checked = 0;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    const TxId t = ReplicaTxId(url);
    if (t != 0 && t != checked) {
      Db replica(VfsUri(url, read_params));
      const std::string at = ltx::FormatTxId(t) + "\n";
      if (replica.ok() &&
          replica.Query("PRAGMA litekeep_txid = '" + ltx::FormatTxId(t) +
                        "'") == at &&
          replica.Dump() == want) {
        return t;
      }
      checked = t;
    }
    std::this_thread::sleep_for(250ms);
  }
  return 0;
}

void CreateSchema(const std::string& db) {
  std::string sql =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE accounts(id INTEGER PRIMARY KEY, owner TEXT, balance INT);"
      "CREATE INDEX accounts_owner ON accounts(owner);";
  for (int i = 0; i < 300; ++i) {
    sql += "INSERT INTO accounts(owner, balance) VALUES('owner-" +
           std::to_string(i * 7919 % 1000) + "', " + std::to_string(i * 13) +
           ");";
  }
  ASSERT_EQ(ExecSql(db, sql), "");
}

void Work(const std::string& db, int n, uint64_t seed) {
  WorkloadOptions w;
  w.transactions = n;
  w.seed = seed;
  ASSERT_EQ(RunWorkload(db, w), "");
  ASSERT_EQ(ExecSql(db, "UPDATE accounts SET balance = balance + " +
                            std::to_string(seed) + " WHERE id % 5 = 0"),
            "");
}

std::string SetS3Env() {
  setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  return "";
}

// A replicated source database, shared by the tests of one backend.
struct Replicated {
  TempDir dir;
  std::string db;
  std::string url;
  std::unique_ptr<ChildProcess> rep;
  std::string expected;  // source dump once everything was shipped
  TxId txid = 0;
  std::string read_params;  // VFS URI parameters that read url

  // replica_lines: more keys of the replica map (e.g. `age:`), which
  // replicates with a config file instead of the URL form.
  void Start(const std::string& replica_url,
             const std::string& replica_lines = "") {
    db = dir.Join("source.db");
    url = replica_url;
    CreateSchema(db);
    std::vector<std::string> args{LitekeepBin(), "replicate", db, url};
    if (!replica_lines.empty()) {
      const std::string cfg = dir.Join("litekeep.yml");
      std::ofstream(cfg) << "dbs:\n  - path: " << db
                         << "\n    replica:\n      url: \"" << url << "\"\n"
                         << replica_lines;
      args = {LitekeepBin(), "replicate", "-config", cfg};
    }
    rep = std::make_unique<ChildProcess>(args, dir.Join("replicate.log"));
    ASSERT_TRUE(WaitUntil([&] { return ReplicaTxId(url) != 0; }, 30s))
        << rep->Log();
  }
  // Runs n transactions and waits until they are all in the replica.
  void Advance(int n, uint64_t seed) {
    Work(db, n, seed);
    {
      Db src(SourceUri(db));
      ASSERT_TRUE(src.ok()) << src.error();
      expected = src.Dump();
    }
    txid = WaitReplicaHolds(url, read_params, expected);
    ASSERT_NE(txid, 0u) << "the replica never held the source's state (TXID "
                        << ltx::FormatTxId(ReplicaTxId(url))
                        << " is the newest): " << rep->Log();
  }
};

S3rver* SharedS3() {
  static std::unique_ptr<S3rver> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string error;
    server = S3rver::Start(kBucket, &error);
    if (!server)
      std::fprintf(stderr, "s3rver unavailable: %s\n", error.c_str());
  }
  return server.get();
}

std::string S3Url(const std::string& path, int port) {
  return std::string("s3://") + kBucket + "/" + path +
         "?endpoint=http://127.0.0.1:" + std::to_string(port);
}

// ---- local directory replica
// -------------------------------------------------

class VfsFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new Replicated();
    shared_->Start("file://" + shared_->dir.Join("replica"));
    shared_->Advance(3000, 1);
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  static Replicated* shared_;
};
Replicated* VfsFileTest::shared_ = nullptr;

TEST_F(VfsFileTest, InProcessQueriesMatchSource) {
  Db vfs(VfsUri(shared_->url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_EQ(vfs.Query("PRAGMA litekeep_txid"),
            ltx::FormatTxId(shared_->txid) + "\n");
  std::string got = vfs.Dump();
  EXPECT_GT(got.size(), 100000u);
  EXPECT_TRUE(got == shared_->expected)
      << "VFS results differ from the source at TXID "
      << ltx::FormatTxId(shared_->txid) << "\n"
      << got.substr(0, 600);
  // A read-only database: writes are refused.
  EXPECT_NE(vfs.Query("INSERT INTO events(kind) VALUES('x')").find("ERROR"),
            std::string::npos);
}

std::string ShellQueries() {
  std::string s;
  for (const auto& q : VfsQueries()) s += q + ";\nSELECT '--';\n";
  return s;
}

TEST_F(VfsFileTest, SqliteShellMatchesSource) {
  TempDir t;
  std::ofstream(t.Join("vfs.sql"))
      << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep\n"
      << ShellQueries();
  std::ofstream(t.Join("src.sql")) << ShellQueries();
  auto got = RunShell("LITEKEEP_REPLICA_URL='" + shared_->url +
                      "' sqlite3 -bail < " + t.Join("vfs.sql"));
  auto want =
      RunShell("sqlite3 -readonly " + shared_->db + " < " + t.Join("src.sql"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  ASSERT_EQ(want.exit_code, 0) << want.err;
  EXPECT_GT(got.out.size(), 100000u);
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;
}

std::string PythonScript(const std::string& target, bool vfs) {
  std::string s =
      "import sqlite3, sys\n"
      "m = sqlite3.connect(':memory:')\n"
      "m.enable_load_extension(True)\n"
      "m.load_extension('" +
      VfsLibPath() + "')\n";
  s += vfs ? "c = sqlite3.connect('file:replica.db?vfs=litekeep', uri=True)\n"
           : "c = sqlite3.connect('file:" + target + "?mode=ro', uri=True)\n";
  s += "for q in sys.stdin.read().split(';;'):\n"
       "    for row in c.execute(q):\n"
       "        print('|'.join('' if v is None else str(v) for v in row))\n"
       "    print('--')\n";
  return s;
}

TEST_F(VfsFileTest, PythonMatchesSource) {
  TempDir t;
  std::string queries;
  for (const auto& q : VfsQueries()) {
    queries += (queries.empty() ? "" : ";;") + q;
  }
  std::ofstream(t.Join("q.txt")) << queries;
  std::ofstream(t.Join("vfs.py")) << PythonScript("", true);
  std::ofstream(t.Join("src.py")) << PythonScript(shared_->db, false);
  // Debian's python (pyenv builds may lack enable_load_extension).
  auto got =
      RunShell("LITEKEEP_REPLICA_URL='" + shared_->url + "' /usr/bin/python3 " +
               t.Join("vfs.py") + " < " + t.Join("q.txt"));
  auto want = RunShell("/usr/bin/python3 " + t.Join("src.py") + " < " +
                       t.Join("q.txt"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  ASSERT_EQ(want.exit_code, 0) << want.err;
  EXPECT_GT(got.out.size(), 100000u);
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;
}

TEST_F(VfsFileTest, TimeTravelAndFreshness) {
  struct Point {
    TxId txid;
    std::string dump;
    TimePoint at;
  };
  std::vector<Point> points;
  points.push_back({shared_->txid, shared_->expected, Clock::now()});
  std::this_thread::sleep_for(1100ms);
  Db live(VfsUri(shared_->url, "&poll_interval=200ms&poll_max_interval=1s"));
  ASSERT_TRUE(live.ok()) << live.error();
  for (int phase = 0; phase < 3; ++phase) {
    shared_->Advance(200, 100 + phase);
    points.push_back({shared_->txid, shared_->expected, Clock::now()});
    std::this_thread::sleep_for(1100ms);
    // Freshness: the live reader catches up after the poll interval.
    EXPECT_TRUE(WaitUntil(
        [&] {
          return live.Query("PRAGMA litekeep_txid") ==
                 ltx::FormatTxId(shared_->txid) + "\n";
        },
        20s));
    EXPECT_TRUE(live.Dump() == shared_->expected) << "phase " << phase;
  }

  Db tt(VfsUri(shared_->url));
  ASSERT_TRUE(tt.ok()) << tt.error();
  for (const auto& p : points) {
    EXPECT_EQ(
        tt.Query("PRAGMA litekeep_txid = '" + ltx::FormatTxId(p.txid) + "'"),
        ltx::FormatTxId(p.txid) + "\n");
    EXPECT_TRUE(tt.Dump() == p.dump) << "txid " << p.txid;
    // The same state by time: RFC 3339 (as `restore -timestamp`).
    auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(
                    p.at.time_since_epoch())
                    .count();
    std::time_t tsec = secs / 1000;
    char buf[64];
    std::tm tm{};
    gmtime_r(&tsec, &tm);
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    std::string ts = std::string(buf) + "." +
                     std::to_string(1000 + secs % 1000).substr(1) + "Z";
    EXPECT_EQ(tt.Query("PRAGMA litekeep_time = '" + ts + "'"),
              ltx::FormatTxId(p.txid) + "\n")
        << ts;
    EXPECT_TRUE(tt.Dump() == p.dump) << "time " << ts;
  }
  // Relative form: a moment inside the quiet second after point 1.
  auto ago = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() -
                                                              points[1].at)
                 .count();
  EXPECT_EQ(tt.Query("PRAGMA litekeep_time = '" + std::to_string(ago) +
                     " seconds ago'"),
            ltx::FormatTxId(points[1].txid) + "\n");
  EXPECT_TRUE(tt.Dump() == points[1].dump);
  // Back to live.
  EXPECT_EQ(tt.Query("PRAGMA litekeep_time = 'live'"), "live\n");
  EXPECT_TRUE(tt.Dump() == points.back().dump);
  // Errors are SQL errors, not crashes.
  EXPECT_NE(tt.Query("PRAGMA litekeep_time = 'yesterday-ish'").find("ERROR"),
            std::string::npos);
  EXPECT_NE(tt.Query("PRAGMA litekeep_txid = 'ffffffff'").find("ERROR"),
            std::string::npos);
}

// ---- write mode
// ------------------------------------------------------------------

TEST(VfsWriteTest, WriteRoundTripThenRestore) {
  TempDir t;
  std::string url = "file://" + t.Join("replica");
  std::string sql =
      "CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB, n INT);"
      "CREATE INDEX kv_n ON kv(n);";
  const int kRows = 2000;
  {
    Db w(VfsUri(url, "&write=true&sync_interval=200ms"),
         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(w.ok()) << w.error();
    ASSERT_EQ(w.Query(sql), "");
    for (int i = 0; i < kRows; i += 100) {
      ASSERT_EQ(
          w.Query("WITH RECURSIVE s(x) AS (SELECT " + std::to_string(i) +
                  " UNION ALL SELECT x + 1 FROM s WHERE x < " +
                  std::to_string(i + 99) +
                  ") INSERT INTO kv SELECT 'k' || x, zeroblob(x % 700) || "
                  "x, x * 3 FROM s"),
          "");
    }
    ASSERT_EQ(w.Query("DELETE FROM kv WHERE n % 7 = 0"), "");
    std::this_thread::sleep_for(500ms);
    ASSERT_EQ(w.Query("UPDATE kv SET n = n + 1 WHERE n % 5 = 0"), "");
  }  // close: final sync
  std::string out = t.Join("restored.db");
  auto r = litekeep::testing::Run({LitekeepBin(), "restore", "-o", out, url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryOne(out, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM kv"),
            std::to_string(kRows - (kRows + 6) / 7));
  EXPECT_EQ(
      QueryOne(out, "SELECT count(*) FROM kv"),
      QueryOne(out, "SELECT count(*) FROM kv INDEXED BY kv_n WHERE n >= 0"));
  // The same state read back through the VFS.
  Db rd(VfsUri(url));
  ASSERT_TRUE(rd.ok()) << rd.error();
  Db rs(SourceUri(out));
  EXPECT_EQ(rd.Query("SELECT k, hex(v), n FROM kv ORDER BY k"),
            rs.Query("SELECT k, hex(v), n FROM kv ORDER BY k"));
  int64_t expect_sum = 0;
  for (int x = 0; x < kRows; ++x) {
    int64_t n = x * 3;
    if (n % 7 == 0) continue;
    if (n % 5 == 0) ++n;
    expect_sum += n;
  }
  EXPECT_EQ(QueryOne(out, "SELECT sum(n) FROM kv"), std::to_string(expect_sum));

  // Reopen and append: the chain continues from the replica's TXID.
  {
    Db w(VfsUri(url, "&write=true&sync_interval=200ms"), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(w.ok()) << w.error();
    ASSERT_EQ(w.Query("INSERT INTO kv VALUES('extra', x'01', -1)"), "");
  }
  auto r2 = litekeep::testing::Run(
      {LitekeepBin(), "restore", "-force", "-o", out, url});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(QueryOne(out, "SELECT n FROM kv WHERE k = 'extra'"), "-1");
}

// A valid LTX file whose commit (300,000,000 pages) is far beyond the
// pages its chain supplies: the VFS refuses to open, naming the file and
// the first missing page, instead of allocating a page map of 4.7 GB.
TEST(VfsChainTest, HugeCommitIsRefusedBeforeAllocating) {
  TempDir t;
  storage::FileReplicaClient replica(t.Join("replica"));
  auto ship = [&](TxId txid, Pgno commit, const std::vector<Pgno>& pages) {
    ltx::Header h;
    h.flags = ltx::kHeaderFlagNoChecksum;
    h.page_size = 4096;
    h.commit = commit;
    h.min_txid = h.max_txid = txid;
    h.timestamp_ms = 1700000000000;
    std::string out;
    base::StringWriter writer(&out);
    ltx::Encoder enc(&writer);
    ASSERT_TRUE(enc.EncodeHeader(h).ok());
    for (Pgno p : pages) {
      std::vector<uint8_t> page(4096, static_cast<uint8_t>(p));
      ASSERT_TRUE(enc.EncodePage(p, page).ok());
    }
    ASSERT_TRUE(enc.Close(0).ok());
    storage::FileInfo info{0, txid, txid, static_cast<int64_t>(out.size()), {}};
    base::SpanReader reader(
        {reinterpret_cast<const uint8_t*>(out.data()), out.size()});
    ASSERT_TRUE(replica.WriteFile(info, reader).ok());
  };
  ship(1, 2, {1, 2});
  ship(2, 300000000, {1});
  {
    Db vfs(VfsUri("file://" + t.Join("replica")));
    EXPECT_FALSE(vfs.ok());
  }
  // The shell, with 1 GB of address space: the error names the file (the
  // shell itself then goes on with an in-memory database).
  std::ofstream(t.Join("q.sql"))
      << ".load " << VfsLibPath()
      << "\n.open file:replica.db?vfs=litekeep\nSELECT count(*) FROM "
         "sqlite_master;\n";
  auto got =
      RunShell("ulimit -v 1048576; LITEKEEP_REPLICA_URL='file://" +
               t.Join("replica") + "' sqlite3 -bail < " + t.Join("q.sql"));
  EXPECT_NE(got.err.find("level 0 0000000000000002-0000000000000002.ltx: "
                         "commit is 300000000 pages but page 3"),
            std::string::npos)
      << got.err;
}

// ---- corrupted replica files (docs/vfs.md "What is verified") --------------

constexpr char kIncrement[] = "0000000000000002-0000000000000002.ltx";

// A source database of `rows` rows of 1,500 random bytes each (pages that do
// not compress) in a file replica as two LTX files: the snapshot (TXID 1,
// every page) and an increment (TXID 2) carrying pages 2..commit again, so
// every page but page 1 (read by SQLite's open) is read from the increment,
// the file the tests corrupt.
struct CorruptFixture {
  TempDir t;
  std::string root = t.Join("replica");
  std::string url = "file://" + root;
  std::string path;                        // the increment
  std::string original;                    // its good bytes
  std::string expected;                    // kQuery on the source
  std::vector<ltx::PageIndexEntry> index;  // the increment's
  static constexpr char kQuery[] = "SELECT id, hex(b) FROM t ORDER BY id";

  void Build(int rows) {
    std::string db = t.Join("source.db");
    ASSERT_EQ(ExecSql(db,
                      "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);"
                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
                      "i + 1 FROM n WHERE i < " +
                          std::to_string(rows) +
                          ") INSERT INTO t SELECT i, randomblob(1500) "
                          "FROM n;"),
              "");
    {
      Db src(SourceUri(db));
      ASSERT_TRUE(src.ok()) << src.error();
      expected = src.Query(kQuery);
    }
    std::string bytes = ReadFile(db);
    ASSERT_GE(bytes.size(), 8192u);
    ASSERT_EQ(bytes.size() % 4096, 0u);
    const auto commit = static_cast<Pgno>(bytes.size() / 4096);
    std::string snapshot;
    Encode(bytes, 1, 1, &snapshot);
    Encode(bytes, 2, 2, &original);
    Put(ltx::FormatFileName(1, 1), snapshot);
    base::SpanReader in(
        {reinterpret_cast<const uint8_t*>(original.data()), original.size()});
    ltx::Decoder dec(&in, "fixture");
    ASSERT_TRUE(dec.DecodeHeader().ok());
    ASSERT_TRUE(dec.Close().ok());
    index = dec.page_index();
    ASSERT_EQ(index.size(), commit - 1);
    path = root + "/ltx/0/" + ltx::FormatFileName(2, 2);
    Write(original);
  }
  // Pages first..commit of db as the LTX file of TXID txid.
  static void Encode(const std::string& db, TxId txid, Pgno first,
                     std::string* out) {
    ltx::Header h;
    h.flags = ltx::kHeaderFlagNoChecksum;
    h.page_size = 4096;
    h.commit = static_cast<uint32_t>(db.size() / 4096);
    h.min_txid = h.max_txid = txid;
    h.timestamp_ms = 1700000000000 + static_cast<int64_t>(txid);
    base::StringWriter writer(out);
    ltx::Encoder enc(&writer);
    ASSERT_TRUE(enc.EncodeHeader(h).ok());
    for (Pgno p = first; p <= h.commit; ++p) {
      auto* page =
          reinterpret_cast<const uint8_t*>(db.data()) + size_t{p - 1} * 4096;
      ASSERT_TRUE(enc.EncodePage(p, {page, 4096}).ok());
    }
    ASSERT_TRUE(enc.Close(0).ok());
  }
  void Put(const std::string& name, const std::string& bytes) {
    fs::create_directories(root + "/ltx/0");
    std::ofstream(root + "/ltx/0/" + name, std::ios::binary | std::ios::trunc)
        << bytes;
  }
  void Write(const std::string& bytes) {
    Put(fs::path(path).filename(), bytes);
  }
  // The good bytes with one byte flipped at offset.
  std::string Flipped(uint64_t offset) const {
    std::string bad = original;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x5a);
    return bad;
  }
  // The frame of page pgno in the increment.
  const ltx::PageIndexEntry& Frame(Pgno pgno) const {
    return index.at(pgno - 2);
  }
  // An offset in the middle of page pgno's compressed bytes (past the page
  // header and the size field): random pages are stored as literals, so
  // the flip still decompresses, to a wrong page.
  uint64_t InsidePage(Pgno pgno) const {
    const auto& e = Frame(pgno);
    return e.offset + 10 + (e.size - 10) / 2;
  }
  // What the log says about the increment when its checksum mismatches.
  std::string ChecksumMismatch() const {
    return std::string(kIncrement) + ": offset " +
           std::to_string(original.size() - 8) + ": file checksum: mismatch";
  }
  // The shell's stderr for the query through the VFS (warnings on).
  std::string ShellError(const std::string& extra = "") {
    std::ofstream(t.Join("q.sql"))
        << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep"
        << extra << "\n"
        << kQuery << ";\n";
    return RunShell("LITEKEEP_LOG_LEVEL=warn LITEKEEP_REPLICA_URL='" + url +
                    "' sqlite3 -bail < " + t.Join("q.sql"))
        .err;
  }
};

// The VFS reports a file that fails its checks as SQLITE_IOERR_CORRUPTFS,
// which SQLite's pager turns into SQLITE_CORRUPT.
bool IsReadError(int code) {
  return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_IOERR;
}

// With one byte of the increment flipped at `flip`: the query through a
// connection that reads the increment whole fails (again on a second try:
// nothing of the bad read was cached), the log names the file and the
// checksum, and the same connection reads the right rows once the file is
// repaired.
void ExpectFailsUntilRepaired(CorruptFixture& f, uint64_t flip) {
  f.Write(f.Flipped(flip));
  Db vfs(VfsUri(f.url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  for (int i = 0; i < 2; ++i) {
    std::string got = vfs.Query(CorruptFixture::kQuery);
    EXPECT_TRUE(IsReadError(vfs.last_code())) << got.substr(0, 200);
    EXPECT_EQ(got.rfind("ERROR", 0), 0u) << got.substr(0, 200);
  }
  std::string err = f.ShellError();
  EXPECT_NE(err.find(f.ChecksumMismatch()), std::string::npos) << err;
  f.Write(f.original);
  EXPECT_EQ(vfs.Query(CorruptFixture::kQuery), f.expected);
}

// An increment read whole by page reads (between 64 KiB and a full
// read-ahead run, so the open reads only its tail and header) with one
// byte flipped inside a page's compressed data: the page still
// decompresses, so only the file checksum can tell.
TEST(VfsVerifyTest, FlippedPageByteFailsTheQueryUntilRepaired) {
  CorruptFixture f;
  f.Build(60);
  ASSERT_GT(f.original.size(), 64u << 10);
  ASSERT_LT(f.original.size(), 256u << 10);
  ExpectFailsUntilRepaired(f, f.InsidePage(10));
}

// The same with the flipped byte in the trailer's file checksum.
TEST(VfsVerifyTest, FlippedTrailerByteFailsTheQueryUntilRepaired) {
  CorruptFixture f;
  f.Build(60);
  ExpectFailsUntilRepaired(f, f.original.size() - 3);
}

// A small file is read whole when the VFS opens: a flipped page byte makes
// the open fail, naming the file and the checksum; repaired, it opens.
TEST(VfsVerifyTest, SmallFileIsCheckedAtOpen) {
  CorruptFixture f;
  f.Build(8);
  ASSERT_LE(f.original.size(), 64u << 10);
  f.Write(f.Flipped(f.InsidePage(3)));
  {
    Db vfs(VfsUri(f.url));
    EXPECT_FALSE(vfs.ok() && vfs.Query("SELECT 1").rfind("ERROR", 0) != 0);
  }
  std::string err = f.ShellError();
  EXPECT_NE(err.find(f.ChecksumMismatch()), std::string::npos) << err;
  f.Write(f.original);
  Db vfs(VfsUri(f.url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_EQ(vfs.Query(CorruptFixture::kQuery), f.expected);
}

// Without read-ahead the increment is read by ranges: a frame whose page
// header names another page is refused, naming the file and the offset;
// the repaired file reads right.
TEST(VfsVerifyTest, RangedReadRefusesAFrameOfAnotherPage) {
  CorruptFixture f;
  f.Build(60);
  const uint64_t frame = f.Frame(20).offset;
  f.Write(f.Flipped(frame + 3));  // the page number's low byte
  Db vfs(VfsUri(f.url, "&prefetch=1"));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  std::string got = vfs.Query(CorruptFixture::kQuery);
  EXPECT_TRUE(IsReadError(vfs.last_code())) << got.substr(0, 200);
  std::string err = f.ShellError("&prefetch=1");
  EXPECT_NE(err.find(std::string(kIncrement) + ": offset " +
                     std::to_string(frame) + ": page header: page 20"),
            std::string::npos)
      << err;
  f.Write(f.original);
  EXPECT_EQ(vfs.Query(CorruptFixture::kQuery), f.expected);
}

// Hydration reads every file whole: a flipped page byte fails it, the
// local file is not used (the error is in PRAGMA litekeep_stats), and it
// succeeds by itself once the file is repaired.
TEST(VfsVerifyTest, HydrationChecksEveryFileAndRetries) {
  CorruptFixture f;
  f.Build(60);
  f.Write(f.Flipped(f.InsidePage(30)));
  std::string local = f.t.Join("hydrated.db");
  Db vfs(VfsUri(f.url,
                "&poll_interval=100ms&poll_max_interval=200ms"
                "&hydration_path=" +
                    UriEscape(local)));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  std::string stats;
  ASSERT_TRUE(WaitUntil(
      [&] {
        stats = vfs.Query("PRAGMA litekeep_stats");
        return stats.find("file checksum: mismatch") != std::string::npos;
      },
      20s))
      << stats;
  EXPECT_NE(stats.find(kIncrement), std::string::npos) << stats;
  EXPECT_EQ(StatField(stats, "hydrated"), 0) << stats;
  EXPECT_FALSE(fs::exists(local));
  f.Write(f.original);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return StatField(vfs.Query("PRAGMA litekeep_stats"), "hydrated") == 1;
      },
      20s))
      << vfs.Query("PRAGMA litekeep_stats");
  EXPECT_EQ(vfs.Query(CorruptFixture::kQuery), f.expected);
  EXPECT_EQ(QueryOne(local, "PRAGMA integrity_check"), "ok");
}

TEST(VfsWriteTest, SyncRefusedWhenReplicaAdvanced) {
  TempDir t;
  std::string root = t.Join("replica");
  std::string url = "file://" + root;
  {
    Db w(VfsUri(url, "&write=true"),
         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(w.ok()) << w.error();
    ASSERT_EQ(w.Query("CREATE TABLE t(x); INSERT INTO t VALUES(1);"), "");
  }
  TxId base = ReplicaTxId(url);
  ASSERT_GT(base, 0u);
  Db w(VfsUri(url, "&write=true&sync_interval=100ms"), SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(w.ok()) << w.error();
  // Another writer advances the replica underneath.
  fs::copy_file(root + "/ltx/0/" + ltx::FormatFileName(base, base),
                root + "/ltx/0/" + ltx::FormatFileName(base + 1, base + 1));
  ASSERT_EQ(w.Query("INSERT INTO t VALUES(2)"), "");
  EXPECT_TRUE(WaitUntil(
      [&] {
        return w.Query("PRAGMA litekeep_stats").find("sync refused") !=
               std::string::npos;
      },
      10s))
      << w.Query("PRAGMA litekeep_stats");
  // Later write transactions fail instead of building a diverging chain.
  EXPECT_NE(w.Query("INSERT INTO t VALUES(3)").find("ERROR"),
            std::string::npos);
  EXPECT_EQ(ReplicaTxId(url), base + 1);
}

// ---- S3 (s3rver)
// -------------------------------------------------------------------

class VfsS3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetS3Env();
    if (SharedS3() == nullptr) return;
    shared_ = new Replicated();
    shared_->Start(S3Url("app", SharedS3()->port()));
    shared_->Advance(2000, 7);
    shared_->rep->Signal(SIGTERM);
    shared_->rep->Wait();
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  void SetUp() override {
    if (shared_ == nullptr) GTEST_SKIP() << "s3rver unavailable";
  }
  static Replicated* shared_;
};
Replicated* VfsS3Test::shared_ = nullptr;

TEST_F(VfsS3Test, QueriesMatchSourceInProcessShellAndPython) {
  Db vfs(VfsUri(shared_->url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_TRUE(vfs.Dump() == shared_->expected);
  std::string stats = vfs.Query("PRAGMA litekeep_stats");
  EXPECT_GT(StatField(stats, "get"), 0) << stats;

  TempDir t;
  std::ofstream(t.Join("vfs.sql"))
      << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep\n"
      << ShellQueries();
  std::ofstream(t.Join("src.sql")) << ShellQueries();
  std::string env = "LITEKEEP_REPLICA_URL='" + shared_->url + "' ";
  auto got = RunShell(env + "sqlite3 -bail < " + t.Join("vfs.sql"));
  auto want =
      RunShell("sqlite3 -readonly " + shared_->db + " < " + t.Join("src.sql"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;

  std::string queries;
  for (const auto& q : VfsQueries())
    queries += (queries.empty() ? "" : ";;") + q;
  std::ofstream(t.Join("q.txt")) << queries;
  std::ofstream(t.Join("vfs.py")) << PythonScript("", true);
  std::ofstream(t.Join("src.py")) << PythonScript(shared_->db, false);
  auto pgot = RunShell(env + "/usr/bin/python3 " + t.Join("vfs.py") + " < " +
                       t.Join("q.txt"));
  auto pwant = RunShell("/usr/bin/python3 " + t.Join("src.py") + " < " +
                        t.Join("q.txt"));
  ASSERT_EQ(pgot.exit_code, 0) << pgot.err;
  EXPECT_TRUE(pgot.out == pwant.out) << pgot.out.substr(0, 400) << pgot.err;
}

// Requests of one kind ("LIST", "GET", "HEAD") in the JSON of
// bench/s3_count_proxy.py's /__counts.
int64_t ProxyCount(const std::string& json, const std::string& kind) {
  auto at = json.find("\"" + kind + "\": {\"n\": ");
  if (at == std::string::npos) return 0;
  return std::atoll(json.c_str() + at + kind.size() + 9);
}

// The requests of a VFS open and a point query, counted by a proxy in
// front of s3rver (bench/s3_count_proxy.py), not by litekeep: each level is
// listed once and no HEAD is sent (creation times come from the listing).
// Time travel by time needs the exact creation times: one HEAD per file,
// once.
TEST_F(VfsS3Test, OpenSendsNoHeadRequests) {
  TempDir t;
  const int port = FreePort();
  ChildProcess proxy(
      {"/usr/bin/python3", SourceDir() + "/bench/s3_count_proxy.py",
       std::to_string(port), std::to_string(SharedS3()->port())},
      t.Join("proxy.log"));
  ASSERT_TRUE(
      WaitUntil([&] { return HttpGet(port, "/__counts").first == 200; }, 10s))
      << proxy.Log();
  auto counts = [&] { return HttpGet(port, "/__counts").second; };
  Db vfs(VfsUri(S3Url("app", port), "&poll_interval=600s"));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  const std::string open = counts();
  std::string row = vfs.Query("SELECT owner FROM accounts WHERE id = 7");
  ASSERT_EQ(row.rfind("owner-", 0), 0u) << row;
  const std::string query = counts();
  std::printf(
      "vfs open: %lld LIST, %lld GET, %lld HEAD; +point query: %lld "
      "GET, %lld HEAD\n",
      static_cast<long long>(ProxyCount(open, "LIST")),
      static_cast<long long>(ProxyCount(open, "GET")),
      static_cast<long long>(ProxyCount(open, "HEAD")),
      static_cast<long long>(ProxyCount(query, "GET") -
                             ProxyCount(open, "GET")),
      static_cast<long long>(ProxyCount(query, "HEAD") -
                             ProxyCount(open, "HEAD")));
  EXPECT_EQ(ProxyCount(open, "LIST"), ltx::kMaxLevel + 1) << open;
  EXPECT_GT(ProxyCount(open, "GET"), 0) << open;
  EXPECT_EQ(ProxyCount(query, "HEAD"), 0) << query;

  // Time travel to now: the live TXID, from exact creation times.
  EXPECT_EQ(vfs.Query("PRAGMA litekeep_time = '" +
                      base::FormatRfc3339(Clock::now()) + "'"),
            ltx::FormatTxId(shared_->txid) + "\n");
  const int64_t heads = ProxyCount(counts(), "HEAD");
  EXPECT_GT(heads, 0);
  std::printf("time travel by time: %lld HEAD (one per LTX file)\n",
              static_cast<long long>(heads));
  EXPECT_EQ(vfs.Query("PRAGMA litekeep_time = '1 second ago'"),
            ltx::FormatTxId(shared_->txid) + "\n");
  EXPECT_EQ(ProxyCount(counts(), "HEAD"), heads);  // remembered
}

TEST_F(VfsS3Test, HydrationThenNoNetworkReads) {
  TempDir t;
  std::string local = t.Join("hydrated.db");
  Db vfs(VfsUri(shared_->url, "&hydration_path=" + UriEscape(local)));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_TRUE(vfs.Dump() == shared_->expected);  // served while hydrating
  ASSERT_TRUE(WaitUntil(
      [&] {
        return StatField(vfs.Query("PRAGMA litekeep_stats"), "hydrated") == 1;
      },
      60s));
  std::string before = vfs.Query("PRAGMA litekeep_stats");
  EXPECT_TRUE(vfs.Dump() == shared_->expected);
  EXPECT_TRUE(vfs.Dump() == shared_->expected);
  std::string after = vfs.Query("PRAGMA litekeep_stats");
  EXPECT_EQ(StatField(after, "get"), StatField(before, "get")) << before << "\n"
                                                               << after;
  EXPECT_EQ(QueryOne(local, "PRAGMA integrity_check"), "ok");
}

TEST_F(VfsS3Test, ServerGoneGivesIoErrorThenRecovers) {
  FaultProxy proxy(SharedS3()->port(), FaultRates{});
  std::string url = S3Url("app", proxy.port());
  // A tiny cache and no read-ahead: every page read goes to the server.
  Db vfs(VfsUri(url, "&cache_size=4096&prefetch=1"));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  // SQLite's own page cache as small as it goes, so reads reach the VFS.
  ASSERT_EQ(vfs.Query("PRAGMA cache_size = 1"), "");
  const std::string q =
      "SELECT id, name, qty, hex(data) FROM items ORDER BY id";
  std::string want = vfs.Query(q);
  ASSERT_EQ(want.find("ERROR"), std::string::npos) << want;

  // Mid-query: step part of a scan, then the server goes away.
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(vfs.get(), q.c_str(), -1, &st, nullptr),
            SQLITE_OK);
  std::string partial;
  int rc = SQLITE_ROW;
  for (int i = 0; i < 50 && (rc = sqlite3_step(st)) == SQLITE_ROW; ++i) {
    partial += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  FaultRates down;
  down.reset = 1.0;
  proxy.set_rates(down);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
  }
  EXPECT_EQ(rc & 0xff, SQLITE_IOERR) << sqlite3_errmsg(vfs.get());
  sqlite3_finalize(st);
  std::string failed = vfs.Query(q);
  EXPECT_EQ(vfs.last_code() & 0xff, SQLITE_IOERR) << failed;  // never rows
  // Back: the same query gives the same rows.
  proxy.set_rates(FaultRates{});
  EXPECT_EQ(vfs.Query(q), want);
}

// ---- age-encrypted replicas (docs/vfs.md "Encrypted replicas")
// ----------------------------------------------------------------------

// Replicated with `age:` to two recipients (so the stored headers are not
// the one-recipient size a listing would assume); the VFS reads with the
// second one's identity only. A table of random blobs makes the snapshot
// many 64 KiB chunks long, read by ranges.
struct AgeReplicated {
  Replicated r;
  base::AgeIdentity other, reader;

  void Start(const std::string& url) {
    other = *base::GenerateAgeIdentity();
    reader = *base::GenerateAgeIdentity();
    // Advance reads the replica with the reader's key file.
    const std::string key = r.dir.Join("reader-key.txt");
    ASSERT_TRUE(base::WriteFileAtomic(key, reader.Encode() + "\n").ok());
    r.read_params = "&age_identity_file=" + UriEscape(key);
    ASSERT_NO_FATAL_FAILURE(r.Start(
        url, "      age:\n        recipients: [" + other.recipient.Encode() +
                 ", " + reader.recipient.Encode() + "]\n        identities: [" +
                 reader.Encode() + "]\n"));
    ASSERT_EQ(ExecSql(r.db,
                      "CREATE TABLE blobs(b);"
                      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                      "FROM c WHERE i<2000) INSERT INTO blobs SELECT "
                      "randomblob(400) FROM c;"),
              "");
    ASSERT_NO_FATAL_FAILURE(r.Advance(500, 11));
  }
};

constexpr char kBlobQuery[] =
    "SELECT count(*), sum(length(b)), hex(min(b)) FROM blobs";

// The shell's output and log for the queries through the VFS, with env
// ("NAME=value ...") and extra URI parameters.
CommandResult AgeShell(const std::string& url, const std::string& env,
                       const std::string& sql,
                       const std::string& uri_extra = "") {
  TempDir t;
  std::ofstream(t.Join("q.sql"))
      << ".load " << VfsLibPath() << "\n.open file:replica.db?vfs=litekeep"
      << uri_extra << "\n"
      << sql;
  return RunShell("LITEKEEP_LOG_LEVEL=warn LITEKEEP_REPLICA_URL='" + url +
                  "' " + env + " sqlite3 -bail < " + t.Join("q.sql"));
}

class VfsAgeFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new AgeReplicated();
    shared_->Start("file://" + shared_->r.dir.Join("replica"));
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  void TearDown() override { unsetenv("LITEKEEP_AGE_IDENTITIES"); }
  static AgeReplicated* shared_;
};
AgeReplicated* VfsAgeFileTest::shared_ = nullptr;

// The identity from the environment or from a key file (named in the URI or
// the environment): every query equals the source, in this process and in
// the sqlite3 shell.
TEST_F(VfsAgeFileTest, QueriesMatchSource) {
  const Replicated& r = shared_->r;
  int stored = 0;
  for (const auto& e :
       fs::recursive_directory_iterator(r.dir.Join("replica"))) {
    if (e.path().extension() != ".ltx") continue;
    EXPECT_TRUE(base::LooksLikeAge(ReadFile(e.path().string()))) << e.path();
    ++stored;
  }
  EXPECT_GT(stored, 0);
  Db src(SourceUri(r.db));
  const std::string want_blobs = src.Query(kBlobQuery);
  setenv("LITEKEEP_AGE_IDENTITIES", shared_->reader.Encode().c_str(), 1);
  {
    Db vfs(VfsUri(r.url));
    ASSERT_TRUE(vfs.ok()) << vfs.error();
    EXPECT_EQ(vfs.Query("PRAGMA litekeep_txid"),
              ltx::FormatTxId(r.txid) + "\n");
    EXPECT_TRUE(vfs.Dump() == r.expected);
    EXPECT_EQ(vfs.Query(kBlobQuery), want_blobs);
  }
  unsetenv("LITEKEEP_AGE_IDENTITIES");
  TempDir t;
  const std::string key = t.Join("key.txt");
  ASSERT_TRUE(base::WriteFileAtomic(
                  key, "# created: test\n" + shared_->reader.Encode() + "\n")
                  .ok());
  {
    Db vfs(VfsUri(r.url, "&age_identity_file=" + UriEscape(key)));
    ASSERT_TRUE(vfs.ok()) << vfs.error();
    EXPECT_TRUE(vfs.Dump() == r.expected);
    EXPECT_EQ(vfs.Query(kBlobQuery), want_blobs);
  }
  auto got = AgeShell(r.url, "LITEKEEP_AGE_IDENTITY_FILE=" + key,
                      ShellQueries() + kBlobQuery + ";\n");
  std::ofstream(t.Join("src.sql")) << ShellQueries() << kBlobQuery << ";\n";
  auto want = RunShell("sqlite3 -readonly " + r.db + " < " + t.Join("src.sql"));
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(got.out == want.out) << got.out.substr(0, 400) << got.err;
}

// No identity, a wrong one, or a key in the URI: the open fails
// (SQLITE_CANTOPEN: no rows), the log says why, and no key is printed.
TEST_F(VfsAgeFileTest, MissingOrWrongIdentityIsAClearError) {
  const Replicated& r = shared_->r;
  {
    Db vfs(VfsUri(r.url));
    EXPECT_FALSE(vfs.ok());
  }
  const std::string q = std::string(kBlobQuery) + ";\n";
  auto none = AgeShell(r.url, "", q);
  EXPECT_NE(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("age-encrypted"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("LITEKEEP_AGE_IDENTITIES"), std::string::npos)
      << none.err;
  EXPECT_NE(none.err.find(".ltx"), std::string::npos) << none.err;

  auto stranger = *base::GenerateAgeIdentity();
  auto wrong =
      AgeShell(r.url, "LITEKEEP_AGE_IDENTITIES=" + stranger.Encode(), q);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_EQ(wrong.out, "");
  EXPECT_NE(wrong.err.find("no identity matches"), std::string::npos)
      << wrong.err;
  EXPECT_NE(wrong.err.find(".ltx"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find(stranger.Encode()), std::string::npos);

  auto in_uri = AgeShell(
      r.url, "", q, "&age_identity=" + UriEscape(shared_->reader.Encode()));
  EXPECT_NE(in_uri.exit_code, 0);
  EXPECT_EQ(in_uri.out, "");
  // The shell itself echoes the URI it failed to open (why keys must not
  // be there); litekeep's own log line does not.
  std::string ours;
  std::istringstream lines(in_uri.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("litekeep:", 0) == 0) ours += line + "\n";
  }
  EXPECT_NE(ours.find("not accepted in a URI"), std::string::npos)
      << in_uri.err;
  EXPECT_EQ(ours.find(shared_->reader.Encode()), std::string::npos) << ours;
}

// One changed byte inside chunk 2 of every stored file of five chunks or
// more (not a chunk the open reads: its header, first and last two): the
// query that reads it fails, never with rows, and the log names the file
// and the chunk.
TEST_F(VfsAgeFileTest, TamperedChunkFailsNamingTheFile) {
  TempDir t;
  const std::string copy = t.Join("replica");
  fs::copy(shared_->r.dir.Join("replica"), copy, fs::copy_options::recursive);
  int changed = 0;
  for (const auto& e : fs::recursive_directory_iterator(copy)) {
    if (!e.is_regular_file() || e.path().extension() != ".ltx" ||
        e.file_size() < 5 * base::kAgeSealedChunkSize) {
      continue;
    }
    std::string bytes = ReadFile(e.path().string());
    bytes[2 * base::kAgeSealedChunkSize + 1000] ^= 0x20;
    ASSERT_TRUE(base::WriteFileAtomic(e.path().string(), bytes).ok());
    ++changed;
  }
  ASSERT_GT(changed, 0) << "no stored file has five chunks";
  const std::string env = "LITEKEEP_AGE_IDENTITIES=" + shared_->reader.Encode();
  auto got = AgeShell("file://" + copy, env, std::string(kBlobQuery) + ";\n");
  EXPECT_NE(got.exit_code, 0) << got.out;
  EXPECT_EQ(got.out, "");
  EXPECT_NE(got.err.find("failed authentication"), std::string::npos)
      << got.err;
  EXPECT_NE(got.err.find(".ltx"), std::string::npos) << got.err;
  EXPECT_NE(got.err.find("chunk"), std::string::npos) << got.err;
}

class VfsAgeS3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetS3Env();
    if (SharedS3() == nullptr) return;
    shared_ = new AgeReplicated();
    shared_->Start(S3Url("age", SharedS3()->port()));
    shared_->r.rep->Signal(SIGTERM);
    shared_->r.rep->Wait();
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  void SetUp() override {
    if (shared_ == nullptr) GTEST_SKIP() << "s3rver unavailable";
  }
  void TearDown() override { unsetenv("LITEKEEP_AGE_IDENTITIES"); }
  static AgeReplicated* shared_;
};
AgeReplicated* VfsAgeS3Test::shared_ = nullptr;

TEST_F(VfsAgeS3Test, QueriesMatchSource) {
  const Replicated& r = shared_->r;
  Db src(SourceUri(r.db));
  setenv("LITEKEEP_AGE_IDENTITIES", shared_->reader.Encode().c_str(), 1);
  Db vfs(VfsUri(r.url));
  ASSERT_TRUE(vfs.ok()) << vfs.error();
  EXPECT_TRUE(vfs.Dump() == r.expected);
  EXPECT_EQ(vfs.Query(kBlobQuery), src.Query(kBlobQuery));
  unsetenv("LITEKEEP_AGE_IDENTITIES");
  auto none = AgeShell(r.url, "", std::string(kBlobQuery) + ";\n");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("age-encrypted"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace litekeep::testing
