// Shared Key string-to-sign and signature for the Azure Blob backend.
#include "storage/abs/shared_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "base/text.h"
#include "storage/hash.h"

namespace litekeep::storage::abs {
namespace {

// The value of the first header named `name` (case-insensitive), or "".
std::string HeaderValue(const KeyValues& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (base::Lower(k) == name) return v;
  }
  return "";
}

// A header value as Azure canonicalizes it: trimmed, and runs of spaces
// outside quotes folded to one.
std::string FoldSpaces(std::string_view v) {
  std::string t = base::Trim(v);
  std::string out;
  bool quoted = false;
  for (char c : t) {
    if (c == '"') quoted = !quoted;
    if (c == ' ' && !quoted && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string StringToSign(const SharedKeyRequest& r) {
  std::string length = HeaderValue(r.headers, "content-length");
  if (length == "0") length.clear();
  std::string s = r.method + "\n";
  for (std::string_view name : {"content-encoding", "content-language"}) {
    s += HeaderValue(r.headers, name) + "\n";
  }
  s += length + "\n";
  for (std::string_view name :
       {"content-md5", "content-type", "date", "if-modified-since", "if-match",
        "if-none-match", "if-unmodified-since", "range"}) {
    s += HeaderValue(r.headers, name) + "\n";
  }
  // Canonicalized headers: every x-ms-* header, lower-case, sorted.
  std::map<std::string, std::string> ms;
  for (const auto& [k, v] : r.headers) {
    std::string name = base::Lower(base::Trim(k));
    if (name.rfind("x-ms-", 0) != 0) continue;
    auto [it, fresh] = ms.emplace(name, FoldSpaces(v));
    if (!fresh) it->second += "," + FoldSpaces(v);
  }
  for (const auto& [k, v] : ms) s += k + ":" + v + "\n";
  // Canonicalized resource: /account/path, then each query parameter
  // (lower-case name, sorted; several values sorted and comma-joined).
  s += "/" + r.account + (r.path.empty() ? "/" : r.path);
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : r.query) params[base::Lower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    s += "\n" + k + ":";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) s += ",";
      s += values[i];
    }
  }
  return s;
}

std::string SharedKeySignature(std::string_view key_bytes,
                               std::string_view string_to_sign) {
  std::string mac = HmacSha256(key_bytes, string_to_sign);
  return Base64Encode(
      {reinterpret_cast<const uint8_t*>(mac.data()), mac.size()});
}

std::string SharedKeyAuthorization(std::string_view account,
                                   std::string_view key_bytes,
                                   std::string_view string_to_sign) {
  return "SharedKey " + std::string(account) + ":" +
         SharedKeySignature(key_bytes, string_to_sign);
}

std::string Rfc1123Date(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed",
                                "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<TimePoint> ParseRfc1123(std::string_view text) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string s(text);
  char wday[4] = {}, mon[4] = {}, zone[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", wday, &day, mon,
                  &year, &hh, &mm, &ss, zone) != 8 ||
      std::strcmp(zone, "GMT") != 0) {
    return std::nullopt;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(mon, kMonths[i]) == 0) month = i;
  }
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace litekeep::storage::abs
