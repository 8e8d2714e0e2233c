// Environment-variable expansion of config text, with the rules of Go's
// os.Expand (which Litestream uses): $NAME, ${NAME}, and $PID.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

namespace litekeep::config {
namespace {

bool IsNameChar(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

// One-character names Go treats as shell special variables ($1, $?, ...).
bool IsSpecialVar(char c) {
  switch (c) {
    case '*':
    case '#':
    case '$':
    case '@':
    case '!':
    case '?':
    case '-':
      return true;
    default:
      return c >= '0' && c <= '9';
  }
}

std::string Lookup(const std::string& name) {
  if (name == "PID") return std::to_string(getpid());
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

// After a '$': the variable name and how many bytes the reference takes.
// An empty name with width > 0 is bad syntax (Go drops it); an empty name
// with width 0 means the '$' is kept as is.
void ReadName(std::string_view s, std::string_view* name, size_t* width) {
  if (s[0] == '{') {
    if (s.size() > 2 && IsSpecialVar(s[1]) && s[2] == '}') {
      *name = s.substr(1, 1);
      *width = 3;
      return;
    }
    for (size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '}') {
        *name = i == 1 ? std::string_view() : s.substr(1, i - 1);
        *width = i + 1;
        return;
      }
    }
    *name = {};
    *width = 1;
    return;
  }
  if (IsSpecialVar(s[0])) {
    *name = s.substr(0, 1);
    *width = 1;
    return;
  }
  size_t i = 0;
  while (i < s.size() && IsNameChar(s[i])) ++i;
  *name = s.substr(0, i);
  *width = i;
}

}  // namespace

std::string ExpandEnv(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t j = 0; j < text.size(); ++j) {
    if (text[j] != '$' || j + 1 == text.size()) {
      out.push_back(text[j]);
      continue;
    }
    std::string_view name;
    size_t width = 0;
    ReadName(text.substr(j + 1), &name, &width);
    if (name.empty() && width == 0) {
      out.push_back('$');
    } else if (!name.empty()) {
      out += Lookup(std::string(name));
    }
    j += width;
  }
  return out;
}

}  // namespace litekeep::config
