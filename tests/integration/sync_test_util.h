// Helpers shared by the `litekeep sync` integration tests: building source
// trees, comparing directories, rclone with an env-var config for s3rver,
// and reading /metrics.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace litekeep::testing::sync_test {

namespace fs = std::filesystem;

// Every regular file under root (relative path -> content), skipping
// litekeep's state file and temporary files.
inline std::map<std::string, std::string> Tree(const std::string& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    std::string rel = e.path().string().substr(root.size() + 1);
    // The state file, and its temporary while it is rewritten (renamed away
    // between listing and reading).
    if (e.path().filename().string().starts_with(".litekeep-sync.json")) {
      continue;
    }
    // A download in flight (renamed over its name when complete).
    if (e.path().filename().string().starts_with(".litekeep-tmp-")) continue;
    // Tree() is polled while the syncer works: a file removed between
    // listing and reading is left out (the next poll sees the new tree).
    std::ifstream in(e.path(), std::ios::binary);
    if (!in) continue;
    out[rel].assign(std::istreambuf_iterator<char>(in),
                    std::istreambuf_iterator<char>());
  }
  return out;
}

inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

// A source tree with nested directories and sizes from 0 bytes to 1.5 MiB.
inline void MakeSourceTree(const std::string& root) {
  WriteFile(root + "/app.py", "import streamlit as st\nst.write('hello')\n");
  WriteFile(root + "/empty.txt", "");
  WriteFile(root + "/pages/1_page.py", "print('page one')\n");
  WriteFile(root + "/static/img/logo.bin", RandomBytes(1536 * 1024, 7));
  WriteFile(root + "/static/css/site.css", "body { color: red; }\n");
  WriteFile(root + "/data/a b (copy).csv", "x,y\n1,2\n");
  for (int i = 0; i < 20; ++i) {
    WriteFile(root + "/lib/mod" + std::to_string(i) + ".py",
              RandomBytes(100 + i * 997, i));
  }
}

// rclone against s3rver (remote "lk"), configured by environment.
inline CommandResult Rclone(int port, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      "/usr/bin/env",
      // A CA bundle meant for real AWS makes rclone refuse plain http.
      "-u", "AWS_CA_BUNDLE", "RCLONE_CONFIG=/dev/null",
      "RCLONE_CONFIG_LK_TYPE=s3", "RCLONE_CONFIG_LK_PROVIDER=Other",
      "RCLONE_CONFIG_LK_ENDPOINT=http://127.0.0.1:" + std::to_string(port),
      "RCLONE_CONFIG_LK_ACCESS_KEY_ID=S3RVER",
      "RCLONE_CONFIG_LK_SECRET_ACCESS_KEY=S3RVER",
      "RCLONE_CONFIG_LK_FORCE_PATH_STYLE=true",
      "RCLONE_CONFIG_LK_REGION=us-east-1", "rclone"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

inline bool HaveRclone() { return fs::exists("/usr/bin/rclone"); }

// The value of the first sample line starting with `series` in a
// Prometheus text body (-1 when absent).
inline double Sample(const std::string& body, const std::string& series) {
  size_t pos = 0;
  while ((pos = body.find(series, pos)) != std::string::npos) {
    if (pos == 0 || body[pos - 1] == '\n') {
      size_t sp = body.find(' ', pos + series.size());
      if (sp != std::string::npos) return std::stod(body.substr(sp + 1));
    }
    pos += series.size();
  }
  return -1;
}

}  // namespace litekeep::testing::sync_test
