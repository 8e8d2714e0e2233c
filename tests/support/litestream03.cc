// Runs the official Litestream 0.3.13 binary for legacy-replica tests.
#include "tests/support/litestream03.h"

#include <lz4frame.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "tests/support/process.h"
#include "tests/support/s3rver.h"

namespace litekeep::testing {

std::string Litestream03Bin() {
  std::string modules = NpmModulesDir();
  if (modules.empty()) return "";
  std::string bin = modules + "/@flydotio/litestream-linux-x64/litestream";
  return std::filesystem::exists(bin) ? bin : "";
}

std::string ReplicateWithLitestream03(const std::string& config_path,
                                      const std::string& db,
                                      const WorkloadOptions& w,
                                      const std::string& log_path) {
  const std::string bin = Litestream03Bin();
  if (bin.empty()) return "litestream 0.3.13 is not installed";
  // Create the database first so litestream starts a generation at once.
  std::string err = ExecSql(db,
                            "PRAGMA journal_mode=wal; CREATE TABLE IF NOT "
                            "EXISTS boot(x); INSERT INTO boot VALUES(1);");
  if (!err.empty()) return err;
  ChildProcess ls({bin, "replicate", "-config", config_path}, log_path);
  if (!WaitUntil(
          [&] {
            return ls.Log().find("snapshot written") != std::string::npos;
          },
          std::chrono::seconds(30))) {
    return "litestream did not write a snapshot: " + ls.Log();
  }
  err = RunWorkload(db, w);
  if (!err.empty()) return err;
  // Let it sync the end of the WAL (monitor interval 1 s), then stop it.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  ls.Signal(SIGTERM);
  int code = ls.Wait(std::chrono::seconds(30));
  if (code != 0)
    return "litestream exited with " + std::to_string(code) + ": " + ls.Log();
  return "";
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Lz4Decompress(const std::string& frame) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return "";
  std::string out;
  std::vector<char> buf(1 << 16);
  size_t pos = 0;
  while (pos < frame.size()) {
    size_t dst = buf.size(), src = frame.size() - pos;
    size_t r = LZ4F_decompress(ctx, buf.data(), &dst, frame.data() + pos, &src,
                               nullptr);
    if (LZ4F_isError(r)) break;
    out.append(buf.data(), dst);
    pos += src;
    if (src == 0 && dst == 0) break;
  }
  LZ4F_freeDecompressionContext(ctx);
  return out;
}

std::string Lz4Compress(const std::string& data) {
  std::string out(LZ4F_compressFrameBound(data.size(), nullptr), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(),
                                data.size(), nullptr);
  if (LZ4F_isError(n)) return "";
  out.resize(n);
  return out;
}

}  // namespace litekeep::testing
