// Scalar values of the config file: booleans, integers, and filesystem paths
// (~ expansion, made absolute against the current dir). Byte sizes are
// base::ParseByteSize.
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/internal.h"

namespace litekeep::config {
namespace internal {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<bool> ParseBool(std::string_view text) {
  std::string v = Lower(text);
  if (v == "true" || v == "yes" || v == "on" || v == "y" || v == "1" ||
      v == "t") {
    return true;
  }
  if (v == "false" || v == "no" || v == "off" || v == "n" || v == "0" ||
      v == "f") {
    return false;
  }
  return base::InvalidArgumentError("expected true or false, got " +
                                    Quoted(text));
}

Result<int64_t> ParseInt(std::string_view text) {
  std::string s(text);
  if (s.empty()) return base::InvalidArgumentError("expected an integer");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() ||
      std::isspace(static_cast<unsigned char>(s[0]))) {
    return base::InvalidArgumentError("expected an integer, got " +
                                      Quoted(text));
  }
  if (errno == ERANGE) {
    return base::InvalidArgumentError("integer out of range: " + Quoted(text));
  }
  return static_cast<int64_t>(v);
}

std::string_view StripSqlitePrefix(std::string_view path) {
  for (std::string_view prefix : {"sqlite3://", "sqlite://"}) {
    if (path.substr(0, prefix.size()) == prefix) {
      return path.substr(prefix.size());
    }
  }
  return path;
}

}  // namespace internal

Result<std::string> ExpandPath(std::string_view path) {
  std::string p(path);
  if (p == "~" || p.rfind("~/", 0) == 0) {
    std::string home;
    if (const char* env = std::getenv("HOME"); env != nullptr && *env) {
      home = env;
    } else if (const passwd* pw = getpwuid(getuid());
               pw != nullptr && pw->pw_dir != nullptr) {
      home = pw->pw_dir;
    }
    if (home.empty()) {
      return base::InvalidArgumentError("cannot expand \"" + p +
                                        "\": no home directory");
    }
    p = p == "~" ? home : home + p.substr(1);
  }
  if (p.empty()) return p;
  std::filesystem::path fs_path(p);
  if (fs_path.is_relative()) {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (ec) {
      return base::IoError("cannot make \"" + p +
                           "\" absolute: " + ec.message());
    }
    fs_path = cwd / fs_path;
  }
  std::string out = fs_path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace litekeep::config
