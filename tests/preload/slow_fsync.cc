// A fault-injection shim for tests (LD_PRELOAD): makes fsync and fdatasync
// of chosen files slow, as a disk that stalls behind writeback does.
//
//   LITEKEEP_TEST_SLOW_FSYNC=<ms>:<suffix>[,<suffix>...]
//   LITEKEEP_TEST_SLOW_FSYNC_WHILE=<path>   (optional)
//
// A call on a descriptor whose path ends with one of the suffixes sleeps
// <ms> milliseconds before the real call; with _WHILE, only while <path>
// exists (a test removes it to make the disk fast again). Nothing else
// changes: the real call always runs and its result is returned.
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Config {
  long ms = 0;
  std::vector<std::string> suffixes;
  std::string while_path;
};

const Config& GetConfig() {
  static const Config config = [] {
    Config c;
    const char* spec = getenv("LITEKEEP_TEST_SLOW_FSYNC");
    if (spec == nullptr) return c;
    char* rest = nullptr;
    c.ms = strtol(spec, &rest, 10);
    if (rest == nullptr || *rest != ':') return Config{};
    std::string list(rest + 1);
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start)
        c.suffixes.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    if (const char* w = getenv("LITEKEEP_TEST_SLOW_FSYNC_WHILE")) {
      c.while_path = w;
    }
    return c;
  }();
  return config;
}

void MaybeStall(int fd) {
  const Config& c = GetConfig();
  if (c.ms <= 0 || c.suffixes.empty()) return;
  struct stat st;
  if (!c.while_path.empty() && ::stat(c.while_path.c_str(), &st) != 0) return;
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char path[PATH_MAX];
  const ssize_t n = ::readlink(link, path, sizeof(path) - 1);
  if (n <= 0) return;
  const std::string p(path, static_cast<size_t>(n));
  for (const auto& s : c.suffixes) {
    if (p.size() >= s.size() &&
        p.compare(p.size() - s.size(), s.size(), s) == 0) {
      ::usleep(static_cast<useconds_t>(c.ms * 1000));
      return;
    }
  }
}

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" int fsync(int fd) {
  static const auto real = Real<int (*)(int)>("fsync");
  MaybeStall(fd);
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const auto real = Real<int (*)(int)>("fdatasync");
  MaybeStall(fd);
  return real(fd);
}
