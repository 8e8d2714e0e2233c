// WebDAV backend against a real `rclone serve webdav` on 127.0.0.1: the
// ReplicaClient conformance suite, Litestream's file layout, creation times
// from the LTX header (read once per file, not on every listing), conditional
// writes for the lease (create-if-absent refused when present; replacement
// exclusive under WebDAV locks, also with many writers racing), a wrong
// password refused without printing it, and a server killed and restarted
// between requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ltx/file_name.h"
#include "ltx/format.h"
#include "storage/webdav/client.h"
#include "tests/support/rclone_webdav.h"
#include "tests/support/replica_conformance.h"

namespace litekeep::testing {
namespace {

namespace fs = std::filesystem;
using storage::FileInfo;

RcloneWebdav* Server() { return SharedRcloneWebdav(); }

std::unique_ptr<storage::ReplicaClient> MakeClient(
    const storage::webdav::WebdavOptions& o) {
  auto c = storage::webdav::NewWebdavReplicaClient(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

Status Write(storage::ReplicaClient& c, const FileInfo& info,
             const std::string& data) {
  base::SpanReader r(
      {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return c.WriteFile(info, r);
}

FileInfo Info(int level, TxId min, TxId max, size_t size) {
  FileInfo f;
  f.level = level;
  f.min_txid = min;
  f.max_txid = max;
  f.size = static_cast<int64_t>(size);
  f.created = TimePoint(std::chrono::seconds(1700000000));
  return f;
}

// An LTX header for [min, max] created at ms, followed by filler.
std::string LtxLike(TxId min, TxId max, int64_t ms, size_t filler = 50) {
  ltx::Header h;
  h.page_size = 4096;
  h.commit = 1;
  h.min_txid = min;
  h.max_txid = max;
  h.timestamp_ms = ms;
  std::string out(ltx::kHeaderSize, '\0');
  h.Encode(reinterpret_cast<uint8_t*>(out.data()));
  return out + std::string(filler, 'x');
}

INSTANTIATE_TEST_SUITE_P(
    Webdav, ReplicaConformanceTest, ::testing::Values([] {
      ReplicaBackend b;
      b.name = "rclone";
      b.factory = []() -> std::unique_ptr<storage::ReplicaClient> {
        return Server() == nullptr ? nullptr
                                   : MakeClient(Server()->Options("conf/db"));
      };
      b.large_file_size = 12 << 20;  // beyond the 8 MiB memory buffer
      b.put_named =
          [](int level,
             const std::vector<std::pair<std::string, std::string>>& objects) {
            for (const auto& [name, bytes] : objects) {
              EXPECT_EQ(Server()->RawPut(
                            "conf/db/ltx/" + std::to_string(level) + "/" + name,
                            bytes),
                        201)
                  << name;
            }
          };
      b.created_from_ltx_header = true;
      return b;
    }()),
    ReplicaBackendName);

class WebdavReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Server() == nullptr) GTEST_SKIP() << "rclone is not installed";
  }
};

// Files land where Litestream's WebDAV client puts them
// (<path>/ltx/<level>/<min>-<max>.ltx), and no temporary file stays.
TEST_F(WebdavReplicaTest, LayoutAsLitestream) {
  auto c = MakeClient(Server()->Options("layout/app"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  const std::string data = LtxLike(1, 5, 1700000000123);
  ASSERT_TRUE(Write(*c, Info(9, 1, 5, data.size()), data).ok());
  const std::string dir = Server()->root() + "/layout/app/ltx/9";
  EXPECT_EQ(ReadFile(dir + "/" + ltx::FormatFileName(1, 5)), data);
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(c->Describe(),
            "webdav://litekeep@127.0.0.1:" + std::to_string(Server()->port()) +
                "/layout/app");
}

// A fresh client reads each file's creation time from its LTX header once
// (one ranged GET per file); later listings cost one PROPFIND and no GET.
// Files this client wrote cost no GET at all; a file another writer
// replaced (new ETag) is read again.
TEST_F(WebdavReplicaTest, CreationTimesFromHeaderReadOncePerFile) {
  const std::string dir = "created/app/ltx/0/";
  {
    auto cleaner = MakeClient(Server()->Options("created/app"));
    ASSERT_TRUE(cleaner && cleaner->DeleteAll().ok());
  }
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(Server()->RawPut(dir + ltx::FormatFileName(i, i),
                               LtxLike(i, i, 1600000000000 + i * 1000)),
              201);
  }
  // Not an LTX file under an LTX name: the server's time stands in.
  ASSERT_EQ(Server()->RawPut(dir + ltx::FormatFileName(6, 6), "short"), 201);
  auto c = MakeClient(Server()->Options("created/app"));
  ASSERT_TRUE(c);
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        (*files)[i].created,
        TimePoint(std::chrono::milliseconds(1600000000000 + (i + 1) * 1000)));
  }
  EXPECT_GT((*files)[5].created, TimePoint(std::chrono::seconds(1700000000)));
  auto first = c->request_counts();
  EXPECT_EQ(first.list, 1u);
  EXPECT_EQ(first.get, 6u);
  ASSERT_TRUE(c->ListFiles(0).ok());
  const std::string mine = LtxLike(7, 7, 1650000000000);
  FileInfo info = Info(0, 7, 7, mine.size());
  info.created = TimePoint(std::chrono::milliseconds(1650000000000));
  const auto before_write = c->request_counts();
  ASSERT_TRUE(Write(*c, info, mine).ok());
  // One sync's upload: PUT to the temporary name and MOVE (the collection
  // is known from the listing: no MKCOL), nothing else.
  const auto after_write = c->request_counts();
  EXPECT_EQ(after_write.put - before_write.put, 2u);
  EXPECT_EQ(after_write.get + after_write.list + after_write.del,
            before_write.get + before_write.list + before_write.del);
  files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 7u);
  EXPECT_EQ(files->back().created, info.created);
  auto later = c->request_counts();
  EXPECT_EQ(later.list, 3u);
  EXPECT_EQ(later.get, 6u) << "no header read after the first listing";

  // Another writer replaces file 1 with one of the same size and a new
  // time: its ETag changed, so its header is read again (and only its).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(Server()->RawPut(dir + ltx::FormatFileName(1, 1),
                             LtxLike(1, 1, 1690000000000)),
            201);
  files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->front().created,
            TimePoint(std::chrono::milliseconds(1690000000000)));
  EXPECT_EQ(c->request_counts().get, 7u);

  // A caller that compares no creation times (the VFS opening the newest
  // state) gets the server's time for files not yet read, without a GET.
  auto listed = MakeClient(Server()->Options("created/app"));
  ASSERT_TRUE(listed);
  listed->SetCreatedTimes(storage::CreatedTimes::kListed);
  files = listed->ListFiles(0);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 7u);
  EXPECT_GT(files->front().created,
            TimePoint(std::chrono::milliseconds(1700000000000)));
  EXPECT_EQ(listed->request_counts().get, 0u);
  EXPECT_EQ(listed->request_counts().list, 1u);
}

// The lease's conditional writes: create-if-absent, replace-if-unchanged,
// and eight writers racing on one version: exactly one wins.
TEST_F(WebdavReplicaTest, ConditionalWrites) {
  auto c = MakeClient(Server()->Options("cond/app"));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  EXPECT_EQ(c->ReadVersioned("lock.json").status().code(),
            base::Code::kNotFound);
  auto v1 = c->WriteIf("lock.json", "{\"a\":1}", "");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto again = c->WriteIf("lock.json", "{\"b\":1}", "");
  EXPECT_EQ(again.status().code(), base::Code::kAlreadyExists);
  auto read = c->ReadVersioned("lock.json");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->data, "{\"a\":1}");
  EXPECT_EQ(read->version, *v1);
  const auto before = c->request_counts();
  auto v2 = c->WriteIf("lock.json", "{\"a\":2}", *v1);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  // A lease renewal: PUT (temporary), LOCK, GET (compare), MOVE, UNLOCK.
  const auto after = c->request_counts();
  EXPECT_EQ(after.put - before.put, 4u);
  EXPECT_EQ(after.get - before.get, 1u);
  EXPECT_NE(*v2, *v1);
  auto stale = c->WriteIf("lock.json", "{\"a\":3}", *v1);
  EXPECT_EQ(stale.status().code(), base::Code::kFailedPrecondition)
      << stale.status().ToString();

  for (int round = 0; round < 3; ++round) {
    auto cur = c->ReadVersioned("lock.json");
    ASSERT_TRUE(cur.ok());
    std::atomic<int> won{0}, lost{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto mine = MakeClient(Server()->Options("cond/app"));
        auto r = mine->WriteIf("lock.json",
                               "{\"round\":" + std::to_string(round) +
                                   ",\"t\":" + std::to_string(t) + "}",
                               cur->version);
        if (r.ok()) {
          ++won;
        } else if (r.status().code() == base::Code::kFailedPrecondition) {
          ++lost;
        } else {
          ++other;
          ADD_FAILURE() << r.status().ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), 7) << "round " << round;
  }
  // No temporary upload or lock leftovers are listed.
  auto objs = c->ListObjects("");
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), 1u);
  EXPECT_EQ((*objs)[0].key, "lock.json");
}

// A wrong password is refused as such; the message names the user, never
// the password.
TEST_F(WebdavReplicaTest, WrongPasswordRefusedWithoutPrintingIt) {
  auto o = Server()->Options("auth/app");
  o.password = "not-the-right-one-xyz";
  auto c = MakeClient(o);
  ASSERT_TRUE(c);
  auto files = c->ListFiles(0);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), base::Code::kPermissionDenied);
  const std::string m = files.status().ToString();
  EXPECT_NE(m.find("webdav-username litekeep"), std::string::npos) << m;
  EXPECT_EQ(m.find("not-the-right-one-xyz"), std::string::npos) << m;
  EXPECT_EQ(m.find(RcloneWebdav::kPassword), std::string::npos) << m;
}

// Another client removes the whole replica (its collections included)
// while this one remembers them: the next upload makes them again.
TEST_F(WebdavReplicaTest, CollectionsRemovedBehindTheClientAreMadeAgain) {
  auto c = MakeClient(Server()->Options("gone/deep/app"));
  auto other = MakeClient(Server()->Options("gone"));
  ASSERT_TRUE(c && other);
  const std::string a = LtxLike(1, 1, 1700000001000);
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, a.size()), a).ok());
  ASSERT_TRUE(other->DeleteAll().ok());
  const std::string b = LtxLike(2, 2, 1700000002000);
  Status s = Write(*c, Info(0, 2, 2, b.size()), b);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].min_txid, 2u);
}

// The server crashes and comes back on the same port: the same client
// carries on (new connections, collections made again where needed).
TEST_F(WebdavReplicaTest, ServerKilledAndRestarted) {
  auto o = Server()->Options("restart/app");
  o.retry.max_attempts = 40;
  auto c = MakeClient(o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->DeleteAll().ok());
  const std::string a = LtxLike(1, 1, 1700000001000);
  ASSERT_TRUE(Write(*c, Info(0, 1, 1, a.size()), a).ok());
  Server()->Kill();
  std::atomic<bool> restarted{false};
  std::thread back([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    restarted = Server()->Restart();
  });
  // Retries ride out the outage.
  const std::string b = LtxLike(2, 2, 1700000002000);
  Status s = Write(*c, Info(0, 2, 2, b.size()), b);
  back.join();
  ASSERT_TRUE(restarted.load()) << ReadFile(Server()->log_path());
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto files = c->ListFiles(0);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  auto r = c->OpenFile(0, 2, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ReadAllOrFail(**r), b);
}

}  // namespace
}  // namespace litekeep::testing
