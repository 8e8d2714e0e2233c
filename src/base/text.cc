// Text helpers: key spellings and suggestions, scalar values, paths.
#include "base/text.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace litekeep::base {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  return std::string(s);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string KebabCase(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '_' || c == ' ') {
      out.push_back('-');
      continue;
    }
    if (IsUpper(c)) {
      // A word starts at an upper-case letter that follows a lower-case
      // letter or digit ("forcePath"), or that ends an acronym and begins a
      // word ("KMSKey": the K of "Key").
      bool after_lower = i > 0 && (IsLower(key[i - 1]) || IsDigit(key[i - 1]));
      bool acronym_end = i > 0 && IsUpper(key[i - 1]) && i + 1 < key.size() &&
                         IsLower(key[i + 1]);
      if ((after_lower || acronym_end) && !out.empty() && out.back() != '-') {
        out.push_back('-');
      }
      out.push_back(static_cast<char>(c - 'A' + 'a'));
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string SuggestKey(std::string_view key,
                       const std::vector<std::string_view>& known) {
  std::string kebab = KebabCase(key);
  std::string_view best;
  size_t best_distance = ~size_t{0};
  for (std::string_view candidate : known) {
    size_t d =
        std::min(EditDistance(key, candidate), EditDistance(kebab, candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // Close enough to be a typo: a few edits, relative to the key's length.
  size_t limit = std::max<size_t>(2, std::max(kebab.size(), best.size()) / 3);
  if (!best.empty() && best_distance <= limit) {
    return " (did you mean \"" + std::string(best) + "\"?)";
  }
  if (known.size() > 24) return " (docs/config.md lists the keys)";
  std::vector<std::string_view> sorted = known;
  std::sort(sorted.begin(), sorted.end());
  std::string list;
  for (std::string_view k : sorted) {
    if (!list.empty()) list += ", ";
    list += k;
  }
  return " (known keys: " + list + ")";
}

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
  return InvalidArgumentError("expected true or false, got " + Quoted(text));
}

Result<int64_t> ParseInt(std::string_view text) {
  std::string s(text);
  if (s.empty()) return InvalidArgumentError("expected an integer");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() ||
      std::isspace(static_cast<unsigned char>(s[0]))) {
    return InvalidArgumentError("expected an integer, got " + Quoted(text));
  }
  if (errno == ERANGE) {
    return InvalidArgumentError("integer out of range: " + Quoted(text));
  }
  return static_cast<int64_t>(v);
}

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
      return InvalidArgumentError("cannot expand \"" + p +
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
      return IoError("cannot make \"" + p + "\" absolute: " + ec.message());
    }
    fs_path = cwd / fs_path;
  }
  std::string out = fs_path.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace litekeep::base
