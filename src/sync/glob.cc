// Glob matching for sync's include/exclude rules.
#include "sync/glob.h"

namespace litekeep::sync {
namespace {

// Matches a `[...]` set at p[0] == '[' against c; *len is the set's length
// in the pattern (0 when the set is unterminated).
bool MatchSet(std::string_view p, char c, size_t* len) {
  size_t i = 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  for (; i < p.size() && (p[i] != ']' || first); first = false) {
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) {
        hi = p[i + 3];
        ++i;
      }
      i += 2;
    }
    if (lo <= c && c <= hi) found = true;
    ++i;
  }
  if (i >= p.size()) {
    *len = 0;
    return false;
  }
  *len = i + 1;
  return c != '/' && found != negate;
}

bool Match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.starts_with("**")) {
      std::string_view rest = p.substr(2);
      // "**/" also matches zero directories.
      if (rest.starts_with("/") && Match(rest.substr(1), s)) return true;
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(rest, s.substr(i))) return true;
      }
      return false;
    }
    if (p[0] == '*') {
      std::string_view rest = p.substr(1);
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(rest, s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty()) return false;
    if (p[0] == '?') {
      if (s[0] == '/') return false;
      p.remove_prefix(1);
    } else if (p[0] == '[') {
      size_t len = 0;
      if (!MatchSet(p, s[0], &len)) return false;
      p.remove_prefix(len);
    } else {
      char want = p[0];
      size_t used = 1;
      if (want == '\\' && p.size() > 1) {
        want = p[1];
        used = 2;
      }
      if (want != s[0]) return false;
      p.remove_prefix(used);
    }
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view key) {
  if (pattern.starts_with("/")) return Match(pattern.substr(1), key);
  if (pattern.find('/') == std::string_view::npos) {
    size_t slash = key.rfind('/');
    return Match(pattern,
                 slash == std::string_view::npos ? key : key.substr(slash + 1));
  }
  // Unanchored pattern with '/': matches the key or any tail of it that
  // starts after a '/'.
  if (Match(pattern, key)) return true;
  for (size_t i = key.find('/'); i != std::string_view::npos;
       i = key.find('/', i + 1)) {
    if (Match(pattern, key.substr(i + 1))) return true;
  }
  return false;
}

Status CheckGlob(std::string_view pattern) {
  if (pattern.empty()) {
    return base::InvalidArgumentError("empty include/exclude pattern");
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) {
        return base::InvalidArgumentError("pattern \"" + std::string(pattern) +
                                          "\" ends with a lone '\\'");
      }
      ++i;
    } else if (pattern[i] == '[') {
      size_t len = 0;
      MatchSet(pattern.substr(i), 'a', &len);
      if (len == 0) {
        return base::InvalidArgumentError("pattern \"" + std::string(pattern) +
                                          "\" has a '[' without ']'");
      }
      i += len - 1;
    }
  }
  return Status::Ok();
}

bool Filter::Selects(std::string_view key) const {
  if (!include_.empty()) {
    bool any = false;
    for (const auto& p : include_) any = any || GlobMatch(p, key);
    if (!any) return false;
  }
  for (const auto& p : exclude_) {
    if (GlobMatch(p, key)) return false;
  }
  return true;
}

}  // namespace litekeep::sync
