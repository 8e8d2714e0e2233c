// etc/entrypoint.sh with the code track, end to end against s3rver: the
// database is restored (or started fresh), the code is copied from the
// bucket before the app starts, `replicate` ships the database and keeps
// the code directory in step while the app runs, and SIGTERM leaves an
// exact replica.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/sync_test_util.h"
#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {
namespace {

using namespace sync_test;  // NOLINT(build/namespaces)
constexpr char kBucket[] = "serverless";

class SyncEntrypointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRclone()) GTEST_SKIP() << "rclone not installed";
    std::string error;
    server_ = S3rver::Start(kBucket, &error);
    if (!server_) GTEST_SKIP() << "s3rver unavailable: " << error;
    data_ = dir_.Join("data");
    db_ = data_ + "/app.db";
    code_ = dir_.Join("code");
    config_ = dir_.Join("litekeep.yml");
    std::ofstream(config_) << "access-key-id: S3RVER\n"
                           << "secret-access-key: S3RVER\n"
                           << "dbs:\n  - path: " << db_ << "\n    replica:\n"
                           << "      url: " << Url("db") << "\n"
                           << "      sync-interval: 100ms\n";
    // The app records the code it started with, then writes a row every
    // 20 ms until SIGTERM.
    app_ = dir_.Join("app.sh");
    std::ofstream(app_) << "#!/bin/sh\n"
                        << "trap 'exit 0' TERM\n"
                        << "cat \"$2/app.py\" > \"$2.seen-at-start\"\n"
                        << "sqlite3 \"$1\" 'CREATE TABLE IF NOT EXISTS t(x)'\n"
                        << "while :; do sqlite3 \"$1\" \"INSERT INTO t VALUES "
                           "(randomblob(200))\"; sleep 0.02; done\n";
    fs::permissions(app_, fs::perms::owner_all);
  }

  std::string Url(const std::string& prefix) const {
    return std::string("s3://") + kBucket + "/" + prefix +
           "?endpoint=" + server_->endpoint() +
           "&forcePathStyle=true&region=us-east-1";
  }

  void UploadCode(const std::string& app_py) {
    const std::string src = dir_.Join("code-src");
    WriteFile(src + "/app.py", app_py);
    WriteFile(src + "/static/style.css", "body {}\n");
    auto r =
        Rclone(server_->port(),
               {"copy", src, std::string("lk:") + kBucket + "/student-code"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<ChildProcess> Start() {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{
            "/usr/bin/env", "LITEKEEP_DB=" + db_, "LITEKEEP_CONFIG=" + config_,
            "LITEKEEP_BIN=" + LitekeepBin(),
            "LITEKEEP_CODE_URL=" + Url("student-code"),
            "LITEKEEP_CODE_DIR=" + code_, SourceDir() + "/etc/entrypoint.sh",
            app_, db_, code_},
        dir_.Join("entrypoint" + std::to_string(++runs_) + ".log"));
  }

  int Rows() {
    return std::atoi(QueryOne(db_, "SELECT count(*) FROM t").c_str());
  }

  void ExpectExactReplica() {
    const std::string out = dir_.Join("check" + std::to_string(runs_) + ".db");
    auto r =
        litekeep::testing::Run({"/usr/bin/env", "AWS_ACCESS_KEY_ID=S3RVER",
                                "AWS_SECRET_ACCESS_KEY=S3RVER", LitekeepBin(),
                                "restore", "-o", out, Url("db")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(QueryOne(out, "SELECT count(*) FROM t"),
              QueryOne(db_, "SELECT count(*) FROM t"));
  }

  TempDir dir_;
  std::unique_ptr<S3rver> server_;
  std::string data_, db_, code_, config_, app_;
  int runs_ = 0;
};

TEST_F(SyncEntrypointTest, RestoreSyncReplicateApp) {
  UploadCode("print('version 1')\n");
  auto p = Start();
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(db_) && Rows() > 10; }))
      << p->Log();
  // The code was complete before the app started.
  EXPECT_EQ(ReadFile(code_ + ".seen-at-start"), "print('version 1')\n");
  EXPECT_EQ(ReadFile(code_ + "/static/style.css"), "body {}\n");
  // A student edits the code: it reaches the running container.
  UploadCode("print('version 2, edited in the IDE')\n");
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ReadFile(code_ + "/app.py") ==
               "print('version 2, edited in the IDE')\n";
      },
      std::chrono::seconds(40)))
      << p->Log();
  p->Signal(SIGTERM);
  ASSERT_EQ(p->Wait(), 0) << p->Log();
  EXPECT_NE(p->Log().find("no backup found"), std::string::npos) << p->Log();
  ExpectExactReplica();
  const int before = Rows();

  // A new container: no data, no code.
  fs::remove_all(data_);
  fs::remove_all(code_);
  p = Start();
  ASSERT_TRUE(WaitUntil([&] {
    return fs::exists(db_) && Rows() > before + 10;
  })) << p->Log();
  EXPECT_EQ(ReadFile(code_ + ".seen-at-start"),
            "print('version 2, edited in the IDE')\n");
  p->Signal(SIGTERM);
  ASSERT_EQ(p->Wait(), 0) << p->Log();
  EXPECT_EQ(p->Log().find("no backup found"), std::string::npos) << p->Log();
  ExpectExactReplica();
}

}  // namespace
}  // namespace litekeep::testing
