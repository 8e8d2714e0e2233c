// Include/exclude patterns of `litekeep sync` (docs/sync.md, "Filters"):
// rclone-like globs over '/'-separated object keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace litekeep::sync {

// True when key matches pattern. `*` matches any run of characters except
// '/', `**` any run including '/', `?` one character except '/', `[abc]`,
// `[a-z]` and `[!abc]` one character of (not of) a set, `\x` the character
// x. A pattern without '/' matches the last component of the key (so "*.py"
// matches "a/b/c.py"); a pattern with '/' matches the whole key, a leading
// '/' anchoring it at the top ("/static/**").
bool GlobMatch(std::string_view pattern, std::string_view key);

// Checks a pattern's syntax (an unterminated `[` or a trailing `\`); the
// error quotes the pattern.
Status CheckGlob(std::string_view pattern);

// The include/exclude rules together: with includes, a key must match one
// of them; a key matching an exclude is left out.
class Filter {
 public:
  Filter() = default;
  Filter(std::vector<std::string> include, std::vector<std::string> exclude)
      : include_(std::move(include)), exclude_(std::move(exclude)) {}
  bool Selects(std::string_view key) const;

 private:
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
};

}  // namespace litekeep::sync
