// AWS Signature Version 4 signing.
#include "storage/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace litekeep::storage::s3 {
namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims leading/trailing whitespace and collapses runs of spaces to one.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string AmzDate(TimePoint t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SignedRequest SignV4(const SigningRequest& request,
                     const Credentials& credentials, std::string_view region,
                     std::string_view service, TimePoint now) {
  SignedRequest out;
  const std::string amz_date = AmzDate(now);
  const std::string date = amz_date.substr(0, 8);

  // Headers to sign: the caller's plus ours, lower-cased, grouped by name in
  // order of appearance (duplicates join with ','), sorted by name.
  KeyValues all = request.headers;
  out.added_headers.emplace_back("X-Amz-Date", amz_date);
  if (request.content_sha256_header) {
    out.added_headers.emplace_back("x-amz-content-sha256",
                                   request.payload_hash);
  }
  if (!credentials.session_token.empty() && request.sign_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token",
                                   credentials.session_token);
  }
  for (const auto& h : out.added_headers) all.push_back(h);
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : all) {
    std::string key = ToLower(name);
    std::string v = CanonicalHeaderValue(value);
    auto it = canonical.find(key);
    if (it == canonical.end()) {
      canonical.emplace(std::move(key), std::move(v));
    } else {
      it->second += ',';
      it->second += v;
    }
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : canonical) {
    canonical_headers += name + ':' + value + '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }

  // Query: encode names and values, sort by name then value.
  std::vector<std::pair<std::string, std::string>> q;
  q.reserve(request.query.size());
  for (const auto& [k, v] : request.query) {
    q.emplace_back(UriEncode(k, true), UriEncode(v, true));
  }
  std::sort(q.begin(), q.end());
  std::string canonical_query;
  for (const auto& [k, v] : q) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += k + '=' + v;
  }

  std::string path =
      request.path.empty() ? "/" : UriEncode(request.path, false);

  out.canonical_request = request.method + '\n' + path + '\n' +
                          canonical_query + '\n' + canonical_headers + '\n' +
                          signed_headers + '\n' + request.payload_hash;

  const std::string scope = date + '/' + std::string(region) + '/' +
                            std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + '\n' + scope + '\n' +
                       Sha256Hex(out.canonical_request);

  std::string k = HmacSha256("AWS4" + credentials.secret_access_key, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  const std::string sig = HmacSha256(k, out.string_to_sign);
  out.signature =
      HexEncode({reinterpret_cast<const uint8_t*>(sig.data()), sig.size()});
  out.authorization =
      "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + '/' + scope +
      ", SignedHeaders=" + signed_headers + ", Signature=" + out.signature;

  if (!credentials.session_token.empty() && !request.sign_session_token) {
    out.added_headers.emplace_back("X-Amz-Security-Token",
                                   credentials.session_token);
  }
  out.added_headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace litekeep::storage::s3
