// Text helpers shared by the config loader and replica settings (storage/):
// key spellings and "did you mean" suggestions, and the scalar values a
// setting can hold (booleans, integers, byte sizes, filesystem paths).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_size.h"
#include "base/status.h"

namespace litekeep::base {

// s with ASCII letters in lower case.
std::string Lower(std::string_view s);

// s without leading and trailing ASCII white space.
std::string Trim(std::string_view s);

// Levenshtein distance between a and b (bytes).
size_t EditDistance(std::string_view a, std::string_view b);

// camelCase, PascalCase and snake_case spellings in kebab-case:
// "forcePathStyle" -> "force-path-style", "accessKeyID" -> "access-key-id",
// "force_path_style" -> "force-path-style". Kebab-case input is unchanged.
std::string KebabCase(std::string_view key);

// The tail of an unknown-key message: ` (did you mean "x"?)` naming the
// nearest of known, or ` (known keys: a, b, ...)` when none is close.
std::string SuggestKey(std::string_view key,
                       const std::vector<std::string_view>& known);

// YAML 1.1 / Go booleans: true/false, yes/no, on/off, y/n, 1/0, t/f (any
// case). Errors quote the text.
Result<bool> ParseBool(std::string_view text);

// A decimal integer, optionally signed. Errors quote the text.
Result<int64_t> ParseInt(std::string_view text);



// "~" and "~/x" become the home directory; relative paths become absolute
// against the current directory (what Litestream does for db paths).
Result<std::string> ExpandPath(std::string_view path);

}  // namespace litekeep::base
