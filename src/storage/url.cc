// Replica URLs parsed into ReplicaSettings; S3 host shortcuts for the common
// S3-compatible providers; redaction of credentials in URLs.
#include "storage/url.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.h"
#include "storage/registry.h"

namespace litekeep::storage {
namespace {

using base::Lower;
using base::Status;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as space when plus_is_space).
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return base::InvalidArgumentError("bad percent escape");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Go's path.Clean, keeping a leading '/' only when keep_root.
std::string CleanPath(std::string_view p, bool keep_root) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = keep_root && !p.empty() && p[0] == '/' ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += "/";
    out += parts[k];
  }
  return out;
}

struct UrlParts {
  std::string scheme;  // lower case
  std::string user;
  std::string password;
  bool has_password = false;
  std::string host;  // host[:port]
  std::string path;  // decoded, as written (leading '/')
  std::vector<std::pair<std::string, std::string>> query;  // decoded
};

Status UrlError(std::string_view url, std::string_view why) {
  return base::InvalidArgumentError("replica URL \"" + RedactUrlText(url) +
                                    "\": " + std::string(why));
}

Result<UrlParts> SplitUrl(std::string_view url) {
  UrlParts parts;
  size_t sep = url.find("://");
  parts.scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view raw_path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view raw_user = info;
    if (size_t colon = info.find(':'); colon != std::string_view::npos) {
      raw_user = info.substr(0, colon);
      auto pw = PercentDecode(info.substr(colon + 1), false);
      if (!pw.ok()) return UrlError(url, "bad escape in password");
      parts.password = *pw;
      parts.has_password = true;
    }
    auto user = PercentDecode(raw_user, false);
    if (!user.ok()) return UrlError(url, "bad escape in user name");
    parts.user = *user;
  }
  parts.host = std::string(authority);
  auto path = PercentDecode(raw_path, false);
  if (!path.ok()) return UrlError(url, "bad escape in path");
  parts.path = *path;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    auto name = PercentDecode(item.substr(0, eq), true);
    auto value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1),
        true);
    if (!name.ok() || !value.ok()) {
      return UrlError(url, "bad escape in query");
    }
    parts.query.emplace_back(*name, *value);
  }
  return parts;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

// Splits "<bucket>.<label><suffix>" (or "<label><suffix>", bucket empty)
// where label is one DNS label.
bool SplitLabel(std::string_view host, std::string_view suffix,
                std::string* bucket, std::string* label) {
  if (!EndsWith(host, suffix)) return false;
  std::string_view head = host.substr(0, host.size() - suffix.size());
  size_t dot = head.rfind('.');
  *label =
      std::string(dot == std::string_view::npos ? head : head.substr(dot + 1));
  *bucket =
      dot == std::string_view::npos ? "" : std::string(head.substr(0, dot));
  return !label->empty() && label->find('.') == std::string::npos;
}

// Splits "<bucket>.s3.<region><suffix>" (or "s3.<region><suffix>").
bool SplitS3Label(std::string_view host, std::string_view suffix,
                  std::string* bucket, std::string* region) {
  std::string head;
  if (!SplitLabel(host, suffix, &head, region)) return false;
  if (head == "s3") {
    bucket->clear();
    return true;
  }
  if (!EndsWith(head, ".s3")) return false;
  *bucket = head.substr(0, head.size() - 3);
  return true;
}

struct S3Host {
  std::string bucket;
  std::string region;
  std::string endpoint;
  bool force_path_style = false;
  bool path_style_known = false;  // the shortcut decides path style
};

bool IsAllDigitsAndDots(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return !s.empty();
}

// The bucket (and provider endpoint) an s3:// URL host names. Follows
// Litestream's s3.ParseHost, plus R2, Linode and Tigris shortcuts.
S3Host ParseS3Host(std::string_view host) {
  S3Host h;
  std::string lower = Lower(host);
  std::string bucket;
  std::string label;
  // bucket.host:port (MinIO and other local servers): path style, http.
  if (host.find(':') != std::string_view::npos &&
      lower.find(".com") == std::string::npos) {
    size_t colon = host.find(':');
    size_t dot = host.find('.');
    h.path_style_known = true;
    h.force_path_style = true;
    if (dot != std::string_view::npos && dot < colon &&
        !IsAllDigitsAndDots(host.substr(0, colon))) {
      h.bucket = std::string(host.substr(0, dot));
      h.endpoint = "http://" + std::string(host.substr(dot + 1));
      h.region = "us-east-1";
    } else {
      h.endpoint = "http://" + std::string(host);
    }
    return h;
  }
  // bucket.s3.amazonaws.com, bucket.s3.<region>.amazonaws.com
  if (EndsWith(lower, ".amazonaws.com")) {
    std::string_view head = std::string_view(host).substr(
        0, host.size() - std::string_view(".amazonaws.com").size());
    size_t s3 = std::string_view(head).rfind(".s3");
    if (s3 != std::string_view::npos) {
      std::string_view tail = head.substr(s3 + 3);  // "" or ".<region>"
      if (tail.empty() ||
          (tail[0] == '.' && tail.find('.', 1) == std::string_view::npos)) {
        h.bucket = std::string(head.substr(0, s3));
        h.region = tail.empty() ? "" : std::string(tail.substr(1));
        h.path_style_known = true;
        return h;
      }
    }
  }
  auto provider = [&](std::string endpoint, std::string region,
                      bool path_style) {
    h.bucket = bucket;
    h.region = std::move(region);
    h.endpoint = std::move(endpoint);
    h.force_path_style = path_style;
    h.path_style_known = true;
    return h;
  };
  if (SplitLabel(lower, ".digitaloceanspaces.com", &bucket, &label)) {
    return provider("https://" + label + ".digitaloceanspaces.com", label,
                    false);
  }
  if (SplitS3Label(lower, ".backblazeb2.com", &bucket, &label)) {
    return provider("https://s3." + label + ".backblazeb2.com", label, true);
  }
  if (lower == "s3.filebase.com" || EndsWith(lower, ".s3.filebase.com")) {
    bucket =
        lower == "s3.filebase.com" ? "" : lower.substr(0, lower.size() - 16);
    return provider("https://s3.filebase.com", "", true);
  }
  if (SplitS3Label(lower, ".scw.cloud", &bucket, &label)) {
    return provider("https://s3." + label + ".scw.cloud", label, false);
  }
  // litekeep extensions: Cloudflare R2, Linode, Tigris.
  if (SplitLabel(lower, ".r2.cloudflarestorage.com", &bucket, &label) &&
      !bucket.empty()) {
    return provider("https://" + label + ".r2.cloudflarestorage.com", "auto",
                    false);
  }
  if (SplitLabel(lower, ".linodeobjects.com", &bucket, &label) &&
      !bucket.empty()) {
    return provider("https://" + label + ".linodeobjects.com", label, false);
  }
  if (EndsWith(lower, ".fly.storage.tigris.dev")) {
    bucket = lower.substr(0, lower.size() - 23);
    return provider("https://fly.storage.tigris.dev", "auto", false);
  }
  h.bucket = std::string(host);
  return h;
}

bool IsLocalHost(std::string_view endpoint) {
  std::string host = Lower(endpoint);
  if (size_t slash = host.find('/'); slash != std::string::npos) {
    host = host.substr(0, slash);
  }
  if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  auto starts = [&](std::string_view p) { return host.rfind(p, 0) == 0; };
  if (host == "localhost" || host == "127.0.0.1" || starts("192.168.") ||
      starts("10.") || EndsWith(host, ".local") ||
      EndsWith(host, ".localhost")) {
    return true;
  }
  for (int i = 16; i <= 31; ++i) {
    if (starts("172." + std::to_string(i) + ".")) return true;
  }
  return false;
}

// Query parameters an s3:// URL takes, canonical spelling.
const std::vector<std::string_view>& S3QueryKeys() {
  static const std::vector<std::string_view> keys = {
      "endpoint",      "region",       "force-path-style",
      "skip-verify",   "sign-payload", "require-content-md5",
      "storage-class", "part-size",    "concurrency"};
  return keys;
}

// Query parameters an abs:// URL takes, canonical spelling.
const std::vector<std::string_view>& AbsQueryKeys() {
  static const std::vector<std::string_view> keys = {
      "endpoint", "skip-verify", "part-size", "concurrency"};
  return keys;
}

// Query parameters a gs:// URL takes, canonical spelling.
const std::vector<std::string_view>& GcsQueryKeys() {
  static const std::vector<std::string_view> keys = {"endpoint", "skip-verify",
                                                     "part-size"};
  return keys;
}

// Query parameters a webdav:// URL takes, canonical spelling.
const std::vector<std::string_view>& WebdavQueryKeys() {
  static const std::vector<std::string_view> keys = {"skip-verify"};
  return keys;
}

// Query parameters an oss:// URL takes, canonical spelling.
const std::vector<std::string_view>& OssQueryKeys() {
  static const std::vector<std::string_view> keys = {
      "endpoint",    "region",    "force-path-style",
      "skip-verify", "part-size", "concurrency"};
  return keys;
}

// Where a credential given as a query parameter belongs instead.
std::string CredentialHome(const std::string& name) {
  if (name == "access-key-id") {
    return "set access-key-id in the config file, or AWS_ACCESS_KEY_ID / "
           "LITESTREAM_ACCESS_KEY_ID in the environment";
  }
  if (name == "secret-access-key") {
    return "set secret-access-key in the config file, or "
           "AWS_SECRET_ACCESS_KEY / LITESTREAM_SECRET_ACCESS_KEY in the "
           "environment";
  }
  if (name == "session-token" || name == "x-amz-security-token") {
    return "set session-token in the config file, or AWS_SESSION_TOKEN in "
           "the environment";
  }
  if (name == "account-key") {
    return "set account-key in the config file, or "
           "LITESTREAM_AZURE_ACCOUNT_KEY in the environment";
  }
  if (name == "sas-token" || name == "sig") {
    return "set sas-token in the config file, or LITESTREAM_AZURE_SAS_TOKEN "
           "in the environment";
  }
  if (name == "sse-customer-key") {
    return "set sse-customer-key or sse-customer-key-path in the config file";
  }
  return "put it in the config file (docs/config.md), not in the URL";
}

Status ApplyQuery(std::string_view url, const UrlParts& parts,
                  const std::vector<std::string_view>& allowed,
                  ReplicaSettings* r, std::set<std::string>* keys) {
  bool path_style_given = false;
  bool endpoint_given = false;
  for (const auto& [raw_name, value] : parts.query) {
    std::string name = base::KebabCase(raw_name);
    if (IsCredentialParameter(name)) {
      return UrlError(url,
                      "credentials do not belong in a URL (query "
                      "parameter \"" +
                          raw_name + "\"): " + CredentialHome(name));
    }
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      if (allowed.empty()) {
        return UrlError(url, "unexpected query parameter \"" + raw_name +
                                 "\" (" + parts.scheme +
                                 " URLs take no query parameters)");
      }
      return UrlError(url, "unknown query parameter \"" + raw_name + "\"" +
                               base::SuggestKey(name, allowed));
    }
    if (value.empty()) continue;  // `?endpoint=`: not given (Litestream)
    const SettingKey* key = FindSetting(name);
    std::string text = value;
    if (name == "endpoint") text = EnsureEndpointScheme(value);
    Status s = SetSetting(*key, text, r);
    if (!s.ok()) {
      return UrlError(url,
                      "query parameter \"" + raw_name + "\": " + s.message());
    }
    keys->insert(name);
    if (name == "force-path-style") path_style_given = true;
    if (name == "endpoint") endpoint_given = true;
  }
  // An endpoint in the query means path style unless forcePathStyle says
  // otherwise (Litestream does the same).
  if (endpoint_given && !path_style_given && r->type == "s3") {
    r->force_path_style = true;
    keys->insert("force-path-style");
  }
  return Status::Ok();
}

// The user info of an authority with any password replaced.
std::string RedactAuthority(std::string_view authority) {
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(authority);
  std::string_view info = authority.substr(0, at);
  size_t colon = info.find(':');
  if (colon == std::string_view::npos) return std::string(authority);
  return std::string(info.substr(0, colon)) + ":REDACTED" +
         std::string(authority.substr(at));
}

// A query string ("a=1&b=2", no '?') with credential values redacted and
// URLs nested in values redacted.
std::string RedactQuery(std::string_view query) {
  std::string out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (!out.empty()) out += "&";
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out += item;
      continue;
    }
    std::string_view raw_name = item.substr(0, eq);
    std::string_view raw_value = item.substr(eq + 1);
    auto name = PercentDecode(raw_name, true);
    auto value = PercentDecode(raw_value, true);
    out += raw_name;
    out += "=";
    if (!name.ok() || !value.ok()) {
      out += "REDACTED";  // cannot tell what it is: do not print it
    } else if (IsCredentialParameter(base::KebabCase(*name))) {
      out += "REDACTED";
    } else if (RedactUrlText(*value) != *value) {
      out += RedactUrlText(*value);
    } else {
      out += raw_value;
    }
  }
  return out;
}

}  // namespace

bool IsUrl(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  for (char c : text.substr(0, sep)) {
    bool word = c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z');
    if (!word) return false;
  }
  return true;
}

bool IsCredentialParameter(std::string_view name) {
  std::string n = base::Lower(name);
  for (std::string_view c :
       {"secret-access-key", "access-key-id", "session-token",
        "sse-customer-key", "password", "account-key", "sas-token", "token",
        "x-amz-signature", "x-amz-credential", "x-amz-security-token",
        "signature", "sig", "secret", "credential", "credentials"}) {
    if (n == c) return true;
  }
  return n.find("secret") != std::string::npos ||
         n.find("password") != std::string::npos;
}

std::string RedactUrlText(std::string_view url) {
  if (!IsUrl(url)) return std::string(url);
  size_t start = url.find("://") + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  std::string out = std::string(url.substr(0, start)) +
                    RedactAuthority(url.substr(start, end - start));
  std::string_view rest = url.substr(end);
  size_t q = rest.find('?');
  if (q == std::string_view::npos) return out + std::string(rest);
  out += rest.substr(0, q + 1);
  rest = rest.substr(q + 1);
  size_t hash = rest.find('#');
  out += RedactQuery(rest.substr(0, hash));
  if (hash != std::string_view::npos) out += rest.substr(hash);
  return out;
}

std::string EnsureEndpointScheme(std::string_view endpoint) {
  if (endpoint.empty() || endpoint.rfind("http://", 0) == 0 ||
      endpoint.rfind("https://", 0) == 0) {
    return std::string(endpoint);
  }
  return (IsLocalHost(endpoint) ? "http://" : "https://") +
         std::string(endpoint);
}

Result<ReplicaSettings> ParseReplicaUrl(std::string_view url,
                                        std::set<std::string>* keys) {
  std::set<std::string> ignored;
  if (keys == nullptr) keys = &ignored;
  ReplicaSettings r;
  r.url = std::string(url);
  if (url.empty()) return base::InvalidArgumentError("empty replica URL");
  if (!IsUrl(url)) {
    LK_ASSIGN_OR_RETURN(r.path, base::ExpandPath(url));
    r.type = "file";
    keys->insert({"type", "path"});
    return r;
  }
  LK_ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(url));
  const std::string& scheme = parts.scheme;
  auto backend = FindBuiltBackend(scheme);
  if (!backend.ok()) {
    return UrlError(url, backend.status().message());
  }
  r.type = std::string((*backend)->type);
  keys->insert("type");

  if (r.type == "sftp") {
    // sftp://USER[:PASSWORD]@HOST[:PORT]/PATH, as Litestream.
    if (parts.host.empty()) {
      return UrlError(url, "sftp URL has no host (sftp://USER@HOST:PORT/PATH)");
    }
    if (parts.user.empty()) {
      return UrlError(url, "sftp URL has no user (sftp://USER@HOST:PORT/PATH)");
    }
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, {}, &r, keys));
    r.host = parts.host;
    r.user = parts.user;
    keys->insert({"host", "user", "path"});
    if (parts.has_password) {
      r.password = parts.password;
      keys->insert("password");
    }
    r.path = CleanPath(parts.path, true);
    return r;
  }
  if (r.type == "webdav") {
    // webdav[s]://[USER[:PASSWORD]@]HOST[:PORT]/PATH, as Litestream: the
    // server URL is http(s)://HOST[:PORT], the path is below it.
    if (parts.host.empty()) {
      return UrlError(url, "webdav URL has no host (" + scheme +
                               "://[USER[:PASSWORD]@]HOST[:PORT]/PATH)");
    }
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, WebdavQueryKeys(), &r, keys));
    r.webdav_url = (scheme == "webdavs" ? "https://" : "http://") + parts.host;
    r.path = CleanPath(parts.path, false);
    keys->insert({"webdav-url", "path"});
    if (!parts.user.empty()) {
      r.webdav_username = parts.user;
      keys->insert("webdav-username");
    }
    if (parts.has_password) {
      r.webdav_password = parts.password;
      keys->insert("webdav-password");
    }
    return r;
  }
  if (r.type == "nats") {
    // nats://[USER:PASSWORD@]HOST[:PORT]/BUCKET, as Litestream (the whole
    // path is the bucket; no host means nats.go's 127.0.0.1:4222).
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, {}, &r, keys));
    r.host = parts.host;
    std::string bucket = parts.path;
    while (!bucket.empty() && bucket.front() == '/') bucket.erase(0, 1);
    while (!bucket.empty() && bucket.back() == '/') bucket.pop_back();
    if (bucket.empty()) {
      return UrlError(url, "nats URL has no bucket (nats://HOST:PORT/BUCKET)");
    }
    r.bucket = bucket;
    keys->insert("bucket");
    if (!r.host.empty()) keys->insert("host");
    if (!parts.user.empty() || parts.has_password) {
      r.username = parts.user;
      r.password = parts.password;
      keys->insert({"username", "password"});
    }
    return r;
  }
  if (parts.has_password) {
    return UrlError(url, scheme +
                             " URLs carry no password; put credentials in "
                             "the config file or the environment");
  }
  if (r.type == "file") {
    if (!parts.host.empty() && Lower(parts.host) != "localhost") {
      return UrlError(url,
                      "file URLs need an absolute path (file:///dir), not "
                      "host \"" +
                          parts.host + "\"");
    }
    if (CleanPath(parts.path, true).empty()) {
      return UrlError(url, "file URL has no path");
    }
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, {}, &r, keys));
    r.path = CleanPath(parts.path, true);
    keys->insert("path");
    return r;
  }

  if (r.type == "gcs") {
    // gs://BUCKET/PATH (Litestream's form; gcs:// as 0.3 spelled the type).
    if (parts.host.empty()) {
      return UrlError(url, "gs URL has no bucket (gs://BUCKET/path)");
    }
    if (!parts.user.empty()) {
      return UrlError(url,
                      "gs URLs carry no user name; credentials come from "
                      "GOOGLE_APPLICATION_CREDENTIALS or the metadata server");
    }
    r.bucket = parts.host;
    r.path = CleanPath(parts.path, false);
    keys->insert({"bucket", "path"});
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, GcsQueryKeys(), &r, keys));
    return r;
  }

  if (r.type == "oss") {
    // oss://BUCKET[.oss-REGION[-internal].aliyuncs.com]/PATH (Litestream's).
    if (!parts.user.empty()) {
      return UrlError(url,
                      "oss URLs carry no user name; put credentials in the "
                      "config file or the environment");
    }
    std::string host = Lower(parts.host);
    const std::string suffix = ".aliyuncs.com";
    size_t oss = host.find(".oss-");
    if (oss != std::string::npos && host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string region =
          host.substr(oss + 5, host.size() - suffix.size() - oss - 5);
      if (region.size() > 9 &&
          region.compare(region.size() - 9, 9, "-internal") == 0) {
        region.resize(region.size() - 9);
      }
      r.bucket = parts.host.substr(0, oss);
      r.region = region;
      keys->insert("region");
    } else {
      r.bucket = parts.host;
    }
    if (r.bucket.empty()) {
      return UrlError(url, "oss URL has no bucket (oss://BUCKET/path)");
    }
    r.path = CleanPath(parts.path, false);
    keys->insert({"bucket", "path"});
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, OssQueryKeys(), &r, keys));
    return r;
  }

  if (r.type == "abs") {
    // abs://[ACCOUNT@]CONTAINER/PATH (Litestream's form).
    if (parts.host.empty()) {
      return UrlError(
          url, "abs URL has no container (abs://ACCOUNT@CONTAINER/path)");
    }
    r.bucket = parts.host;
    keys->insert("bucket");
    if (!parts.user.empty()) {
      r.account_name = parts.user;
      keys->insert("account-name");
    }
    r.path = CleanPath(parts.path, false);
    keys->insert("path");
    LK_RETURN_IF_ERROR(ApplyQuery(url, parts, AbsQueryKeys(), &r, keys));
    return r;
  }

  // s3
  r.path = CleanPath(parts.path, false);
  keys->insert("path");
  std::string_view after_scheme = url.substr(url.find("://") + 3);
  if (Lower(after_scheme.substr(0, 4)) == "arn:") {
    // Access point: s3://arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/path
    std::string_view arn = after_scheme.substr(0, after_scheme.find('?'));
    std::string lower = Lower(arn);
    size_t marker = lower.find(":accesspoint/");
    if (marker == std::string::npos) {
      return UrlError(url, "invalid S3 access point ARN");
    }
    size_t name_end = arn.find('/', marker + 13);
    r.bucket = std::string(arn.substr(0, name_end));
    r.path = name_end == std::string_view::npos
                 ? ""
                 : CleanPath(arn.substr(name_end + 1), false);
    size_t f1 = arn.find(':'), f2 = arn.find(':', f1 + 1),
           f3 = arn.find(':', f2 + 1), f4 = arn.find(':', f3 + 1);
    if (f4 != std::string_view::npos) {
      r.region = std::string(arn.substr(f3 + 1, f4 - f3 - 1));
      if (!r.region.empty()) keys->insert("region");
    }
    keys->insert("bucket");
  } else {
    if (!parts.user.empty()) {
      return UrlError(url,
                      "s3 URLs carry no user name; put credentials in the "
                      "config file or the environment");
    }
    S3Host h = ParseS3Host(parts.host);
    if (h.bucket.empty()) {
      return UrlError(url, "s3 URL has no bucket (s3://BUCKET/path)");
    }
    r.bucket = h.bucket;
    keys->insert("bucket");
    if (!h.region.empty()) {
      r.region = h.region;
      keys->insert("region");
    }
    if (!h.endpoint.empty()) {
      r.endpoint = h.endpoint;
      keys->insert("endpoint");
    }
    if (h.path_style_known && !h.endpoint.empty()) {
      r.force_path_style = h.force_path_style;
      keys->insert("force-path-style");
    }
  }
  LK_RETURN_IF_ERROR(ApplyQuery(url, parts, S3QueryKeys(), &r, keys));
  return r;
}

std::string Describe(const ReplicaSettings& r) {
  if (r.type == "file" || r.type.empty()) return r.path;
  if (r.type == "sftp") {
    std::string out = "sftp://" + r.user + "@" + r.host;
    if (!r.path.empty() && r.path.front() != '/') out += "/";
    return out + r.path;
  }
  if (r.type == "webdav") {
    const size_t sep = r.webdav_url.find("://");
    std::string out =
        r.webdav_url.compare(0, sep, "https") == 0 ? "webdavs://" : "webdav://";
    if (!r.webdav_username.empty()) out += r.webdav_username + "@";
    out +=
        sep == std::string::npos ? r.webdav_url : r.webdav_url.substr(sep + 3);
    if (!r.path.empty() && r.path.front() != '/') out += "/";
    out += r.path;
    return r.skip_verify ? out + "?skipVerify=true" : out;
  }
  if (r.type == "nats") {
    return "nats://" +
           (r.host.empty() ? std::string("127.0.0.1:4222") : r.host) + "/" +
           r.bucket;
  }
  std::string out =
      (r.type == "gcs" ? std::string("gs") : r.type) + "://" +
      (r.type == "abs" && !r.account_name.empty() ? r.account_name + "@" : "") +
      r.bucket;
  if (!r.path.empty()) out += "/" + r.path;
  std::string query;
  auto add = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    query += (query.empty() ? "?" : "&") + std::string(name) + "=" + value;
  };
  add("endpoint", RedactUrlText(r.endpoint));
  add("region", r.region);
  if ((r.type == "s3" || r.type == "oss") && r.force_path_style) {
    add("forcePathStyle", "true");
  }
  if (r.skip_verify) add("skipVerify", "true");
  return out + query;
}

}  // namespace litekeep::storage
