// Shared helpers for tests: temporary directories, running the litekeep
// binary and other commands, locating test data and the optional ../shared
// tools, SQLite helpers.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace litekeep::testing {

// A fresh empty directory under the test temp dir; removed by the dtor
// unless LITEKEEP_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv (no shell), waits, and captures stdout and stderr.
CommandResult Run(const std::vector<std::string>& argv);
// Runs a shell command line via /bin/sh -c.
CommandResult RunShell(const std::string& command);

// The litekeep binary under test ($LITEKEEP_BIN).
std::string LitekeepBin();
// ../shared beside the source tree (tools kept outside the project, such as
// the independent LTX inspector); it may be absent.
std::string SharedDir();
// The golden LTX vectors, tests/testdata/ltx of this repository.
std::string GoldenLtxDir();
// The independent LTX inspector <SharedDir()>/tools/ltx_inspect.py, or ""
// when it is not there (a clone with nothing beside it).
std::string LtxInspector();
// The one line a test prints when it skips for lack of the inspector.
inline constexpr const char* kNoLtxInspector =
    "independent LTX inspector not found (../shared/tools/ltx_inspect.py is "
    "outside this repository; set LITEKEEP_SHARED_DIR to run this check)";
// The source tree root.
std::string SourceDir();
// The CMake build directory (holds npm/ with the test servers).
std::string BuildDir();

// Reads a whole file; aborts the test on failure.
std::string ReadFile(const std::string& path);
// SHA-256 of bytes, lower-case hex.
std::string Sha256Hex(const std::string& data);

// Executes SQL on a database with the sqlite3 library; returns "" on
// success or the error message.
std::string ExecSql(const std::string& db_path, const std::string& sql);
// Returns the first column of the first row as text ("" if none).
std::string QueryOne(const std::string& db_path, const std::string& sql);

// GET http://127.0.0.1:port/path (HTTP/1.0); returns {status, body}, or
// {0, ""} when nothing answers.
std::pair<int, std::string> HttpGet(int port, const std::string& path);

}  // namespace litekeep::testing

// Skips the current test with kNoLtxInspector when the inspector is absent.
#define LK_SKIP_WITHOUT_LTX_INSPECTOR()                     \
  do {                                                      \
    if (::litekeep::testing::LtxInspector().empty()) {      \
      GTEST_SKIP() << ::litekeep::testing::kNoLtxInspector; \
    }                                                       \
  } while (0)
