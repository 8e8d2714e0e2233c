// Key spellings: edit distance, camelCase/snake_case to kebab-case, and the
// "did you mean" tail of unknown-key errors.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "config/internal.h"

namespace litekeep::config::internal {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

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

}  // namespace litekeep::config::internal
