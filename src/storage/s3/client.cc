// S3ReplicaClient: ReplicaClient over the S3 REST API (PUT, multipart
// upload, ranged GET, ListObjectsV2, DeleteObjects, HEAD) with retries,
// request counting, and errors that say what to check.
#include "storage/s3/client.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "storage/s3/http.h"
#include "storage/s3/keys.h"

namespace litekeep::storage::s3 {
namespace {

// ---- Minimal XML for S3 responses (flat, well-formed, no CDATA). ----

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      unsigned long cp =
          ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
              ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
              : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Inner texts of every <tag>…</tag> (also <tag attr="…">) in order.
std::vector<std::string_view> XmlBlocks(std::string_view xml,
                                        std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size() || (xml[after] != '>' && xml[after] != ' ')) {
      pos = after;
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::string XmlText(std::string_view xml, std::string_view tag) {
  auto blocks = XmlBlocks(xml, tag);
  return blocks.empty() ? std::string() : XmlUnescape(blocks.front());
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// ---- Credentials ----

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Reads one profile section of an AWS shared credentials file.
std::map<std::string, std::string> ReadProfile(const std::string& file,
                                               const std::string& profile) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line, section;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = Trim(section.substr(8));
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return out;
}

// ---- Misc ----

enum class Kind { kList, kGet, kPut, kDel, kHead };

bool RetryableStatus(long status, const std::string& code) {
  if (status >= 500 || status == 429) return true;
  return code == "SlowDown" || code == "RequestTimeout" ||
         code == "InternalError" || code == "OperationAborted" ||
         code == "ConditionalRequestConflict";
}

// Runs fn(i) for i in [0, n) on up to `threads` threads.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  size_t t = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  std::vector<std::thread> pool;
  for (size_t k = 1; k < t; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

class S3Client;

// One object of a listing.
struct Listed {
  std::string key;
  int64_t size = 0;
  TimePoint last_modified{};
  std::string etag;  // as listed, quotes included
};

// A body reader that resumes with a Range request after transient failures
// and checks that it received every byte the store announced.
class ObjectReader : public base::Reader {
 public:
  ObjectReader(S3Client* client, std::string key, int64_t offset,
               int64_t length)
      : client_(client),
        key_(std::move(key)),
        offset_(offset),
        remaining_(length) {}
  // Sends the first request (errors such as kNotFound surface here).
  Status Start();
  Result<size_t> Read(std::span<uint8_t> buf) override;

 private:
  Status OpenStream();
  S3Client* client_;
  std::string key_;
  int64_t offset_;     // next absolute byte
  int64_t remaining_;  // bytes still wanted; -1 = to the end
  std::string etag_;
  std::unique_ptr<HttpStream> stream_;
  int64_t stream_expected_ = -1;  // Content-Length of the current response
  int64_t stream_got_ = 0;
  int64_t skip_ = 0;  // bytes to drop (store ignored the Range header)
  bool eof_ = false;
};

class S3Client : public ReplicaClient {
 public:
  S3Client(S3Options opts, Credentials creds)
      : opts_(std::move(opts)),
        creds_(std::move(creds)),
        http_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                          .stall_timeout = opts_.stall_timeout,
                          .skip_verify = opts_.skip_verify,
                          .ca_bundle = opts_.ca_bundle}) {
    std::string ep = opts_.endpoint;
    if (ep.empty()) {
      scheme_ = "https";
      path_style_ = opts_.force_path_style.value_or(false);
    } else {
      size_t sep = ep.find("://");
      if (sep == std::string::npos) {
        bool local = ep.rfind("localhost", 0) == 0 || ep.rfind("127.", 0) == 0;
        scheme_ = local ? "http" : "https";
      } else {
        scheme_ = ep.substr(0, sep);
        ep = ep.substr(sep + 3);
      }
      while (!ep.empty() && ep.back() == '/') ep.pop_back();
      authority_ = ep;
      path_style_ = opts_.force_path_style.value_or(true);
    }
    region_ = opts_.region;
    if (region_.empty() && !opts_.endpoint.empty()) region_ = "us-east-1";
  }

  std::string Type() const override { return "s3"; }

  std::string Describe() const override {
    std::string out = "s3://" + opts_.bucket + "/" + opts_.path;
    if (!opts_.endpoint.empty()) out += "?endpoint=" + opts_.endpoint;
    return out;
  }

  RequestCounts request_counts() const override {
    RequestCounts c;
    c.list = counts_[0].load();
    c.get = counts_[1].load();
    c.put = counts_[2].load();
    c.del = counts_[3].load();
    c.head = counts_[4].load();
    c.list_errors = errors_[0].load();
    c.get_errors = errors_[1].load();
    c.put_errors = errors_[2].load();
    c.del_errors = errors_[3].load();
    c.head_errors = errors_[4].load();
    return c;
  }

  Result<std::vector<FileInfo>> ListFiles(int level) override;
  Result<std::unique_ptr<base::Reader>> OpenFile(int level, TxId min_txid,
                                                 TxId max_txid, int64_t offset,
                                                 int64_t length) override;
  Status WriteFile(const FileInfo& info, base::Reader& data) override;
  Status DeleteFiles(const std::vector<FileInfo>& files) override;
  Status DeleteAll() override;
  Result<std::vector<ObjectInfo>> ListObjects(const std::string& prefix) override;
  Result<std::unique_ptr<base::Reader>> OpenObject(
      const std::string& key) override;

  // ---- Used by ObjectReader ----
  struct Request {
    std::string method = "GET";
    std::string key;  // "" = the bucket itself
    KeyValues query;
    KeyValues headers;
    std::string_view body;
    Kind kind = Kind::kGet;
  };
  Result<std::unique_ptr<HttpStream>> OpenOnce(const Request& r);
  Status ResponseError(const HttpResponse& r, std::string_view op,
                       const std::string& key) const;
  void Backoff(int attempt) const;
  int max_attempts() const { return std::max(1, opts_.max_attempts); }
  std::string Where(const std::string& key) const {
    return "s3://" + opts_.bucket + "/" + key;
  }

 private:
  Status EnsureRegion();
  std::string Region() {
    std::lock_guard<std::mutex> lock(mu_);
    return region_;
  }
  HttpRequest Build(const Request& r, std::string_view region);
  // Sends with retries on transient failures; returns the last response
  // (any status) or the last transport error.
  Result<HttpResponse> Execute(const Request& r, std::string_view op);
  Status DeleteKeys(const std::vector<std::string>& keys);
  // Every object under prefix (ListObjectsV2, all pages).
  Result<std::vector<Listed>> ListKeys(const std::string& prefix);
  Status PutSmall(const std::string& key, const FileInfo& info,
                  std::string body);
  Status PutMultipart(const std::string& key, const FileInfo& info,
                      base::Reader& data, std::string first_part);
  Status PutPart(const std::string& key, const std::string& upload_id, int part,
                 const std::string& body, std::string* etag);
  Status CheckExisting(const std::string& key, int64_t size,
                       const std::string& md5_hex);
  KeyValues WriteHeaders(const FileInfo& info) const;
  std::string PayloadHash(std::string_view body) const {
    return opts_.sign_payload ? Sha256Hex(body) : std::string(kUnsignedPayload);
  }

  S3Options opts_;
  Credentials creds_;
  HttpClient http_;
  std::string scheme_;
  std::string authority_;  // host[:port] of the endpoint
  bool path_style_ = true;

  std::mutex mu_;
  std::string region_;
  bool region_checked_ = false;
  std::unordered_map<std::string, TimePoint> created_;  // key -> metadata time

  mutable std::atomic<uint64_t> counts_[5] = {};
  mutable std::atomic<uint64_t> errors_[5] = {};  // failed requests by kind
};

// ---- Request plumbing ----

std::string DefaultPortStripped(const std::string& scheme, std::string host) {
  if (scheme == "https" && host.size() > 4 && host.ends_with(":443")) {
    host.resize(host.size() - 4);
  } else if (scheme == "http" && host.size() > 3 && host.ends_with(":80")) {
    host.resize(host.size() - 3);
  }
  return host;
}

HttpRequest S3Client::Build(const Request& r, std::string_view region) {
  std::string authority = authority_;
  if (authority.empty()) {
    authority = region == "us-east-1"
                    ? "s3.amazonaws.com"
                    : "s3." + std::string(region) + ".amazonaws.com";
  }
  std::string path;
  if (path_style_) {
    authority = DefaultPortStripped(scheme_, authority);
    path = "/" + opts_.bucket;
    if (!r.key.empty()) path += "/" + r.key;
  } else {
    authority = opts_.bucket + "." + DefaultPortStripped(scheme_, authority);
    path = "/" + r.key;
  }
  SigningRequest sr;
  sr.method = r.method;
  sr.path = path;
  sr.query = r.query;
  sr.headers.emplace_back("Host", authority);
  for (const auto& h : r.headers) sr.headers.push_back(h);
  sr.payload_hash =
      r.body.empty() ? std::string(kEmptyPayloadSha256) : PayloadHash(r.body);
  SignedRequest signed_req = SignV4(sr, creds_, region, "s3", Clock::now());

  HttpRequest h;
  h.method = r.method;
  h.url = scheme_ + "://" + authority + UriEncode(path, false);
  std::string q;
  for (const auto& [k, v] : r.query) {
    q += q.empty() ? "?" : "&";
    q += UriEncode(k, true);
    if (!v.empty()) q += "=" + UriEncode(v, true);
  }
  h.url += q;
  h.headers = sr.headers;
  for (auto& kv : signed_req.added_headers) h.headers.push_back(std::move(kv));
  h.body = r.body;
  return h;
}

Result<std::unique_ptr<HttpStream>> S3Client::OpenOnce(const Request& r) {
  counts_[static_cast<int>(r.kind)].fetch_add(1);
  std::string region = Region();
  auto stream = http_.Open(Build(r, region));
  if (!stream.ok() || (*stream)->status() >= 300) {
    errors_[static_cast<int>(r.kind)].fetch_add(1);
  }
  return stream;
}

void S3Client::Backoff(int attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double d = static_cast<double>(opts_.retry_base.count()) *
             static_cast<double>(1u << std::min(attempt, 16));
  d = std::min(d, static_cast<double>(opts_.retry_max.count()));
  std::uniform_real_distribution<double> jitter(d / 2, d);
  std::this_thread::sleep_for(
      std::chrono::microseconds(static_cast<int64_t>(jitter(rng) * 1000)));
}

Result<HttpResponse> S3Client::Execute(const Request& r, std::string_view op) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  Status last;
  for (int attempt = 0; attempt < max_attempts(); ++attempt) {
    if (attempt > 0) Backoff(attempt - 1);
    auto stream = OpenOnce(r);
    if (!stream.ok()) {
      last = stream.status();
      if (last.retryable()) continue;
      return last;
    }
    auto body = (*stream)->ReadAll(64 << 20);
    if (!body.ok()) {
      last = body.status();
      if (last.retryable()) continue;
      return last;
    }
    HttpResponse resp = (*stream)->head();
    resp.body = std::move(*body);
    std::string code = resp.status >= 300 ? XmlText(resp.body, "Code") : "";
    if (RetryableStatus(resp.status, code) && attempt + 1 < max_attempts()) {
      last = ResponseError(resp, op, r.key);
      continue;
    }
    return resp;
  }
  return base::UnavailableError(
      std::string(op) + " " + Where(r.key) + ": gave up after " +
      std::to_string(max_attempts()) + " attempts: " + last.message());
}

Status S3Client::ResponseError(const HttpResponse& r, std::string_view op,
                               const std::string& key) const {
  std::string code = XmlText(r.body, "Code");
  std::string msg = XmlText(r.body, "Message");
  const std::string where = std::string(op) + " " + Where(key);
  const std::string detail = "HTTP " + std::to_string(r.status) +
                             (code.empty() ? "" : " " + code) +
                             (msg.empty() ? "" : ": " + msg);
  const std::string akid = creds_.access_key_id;
  std::string bucket_region =
      r.Header("x-amz-bucket-region").value_or(XmlText(r.body, "Region"));
  if (code == "RequestTimeTooSkewed") {
    return base::FailedPreconditionError(
        where +
        ": the local clock differs from the store's by more than 15 "
        "minutes (" +
        detail + "); fix the system time (NTP)");
  }
  if ((r.status == 301 || code == "PermanentRedirect" ||
       code == "AuthorizationHeaderMalformed" ||
       code == "IllegalLocationConstraintException")) {
    return base::FailedPreconditionError(
        where + ": bucket " + opts_.bucket + " is in region " +
        (bucket_region.empty() ? "another region" : bucket_region) + ", not " +
        region_ + " (" + detail + "); set region" +
        (bucket_region.empty() ? "" : ": " + bucket_region) +
        " or check the endpoint");
  }
  if (code == "InvalidAccessKeyId") {
    return base::PermissionDeniedError(
        where + ": the store does not know access key id " + akid + " (" +
        detail +
        "); check access-key-id / AWS_ACCESS_KEY_ID / "
        "LITESTREAM_ACCESS_KEY_ID");
  }
  if (code == "SignatureDoesNotMatch") {
    return base::PermissionDeniedError(
        where + ": signature rejected for access key id " + akid + " (" +
        detail +
        "); check the secret access key for that key id and the region");
  }
  if (r.status == 403 || r.status == 401) {
    return base::PermissionDeniedError(
        where + ": access denied for access key id " + akid + " on bucket " +
        opts_.bucket + " (" + detail +
        "); check the credentials and the "
        "key's permissions on the bucket");
  }
  if (code == "NoSuchBucket") {
    return base::FailedPreconditionError(
        where + ": bucket " + opts_.bucket + " does not exist at " +
        (opts_.endpoint.empty() ? "AWS S3" : opts_.endpoint) + " (" + detail +
        "); check bucket, endpoint and region");
  }
  if (r.status == 404) return base::NotFoundError(where + ": not found");
  if (RetryableStatus(r.status, code)) {
    return base::UnavailableError(where + ": " + detail);
  }
  if (r.status == 412) {
    return base::AlreadyExistsError(where + ": precondition failed (" + detail +
                                    ")");
  }
  return base::FailedPreconditionError(where + ": " + detail);
}

Status S3Client::EnsureRegion() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!region_.empty() || region_checked_) return Status::Ok();
  }
  // AWS without a region: ask where the bucket lives (any response to a
  // HEAD on the bucket carries x-amz-bucket-region).
  std::string found;
  for (int attempt = 0; attempt < max_attempts() && found.empty(); ++attempt) {
    if (attempt > 0) Backoff(attempt - 1);
    Request r;
    r.method = "HEAD";
    r.kind = Kind::kHead;
    counts_[static_cast<int>(Kind::kHead)].fetch_add(1);
    auto resp = http_.Do(Build(r, "us-east-1"));
    if (!resp.ok() || resp->status >= 400) {
      errors_[static_cast<int>(Kind::kHead)].fetch_add(1);
    }
    if (!resp.ok()) {
      if (resp.status().retryable()) continue;
      return resp.status();
    }
    found = resp->Header("x-amz-bucket-region").value_or("");
    if (found.empty() && resp->status < 500) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  region_ = found.empty() ? "us-east-1" : found;
  region_checked_ = true;
  return Status::Ok();
}

// ---- Listing ----

}  // namespace

namespace {

Result<std::vector<Listed>> S3Client::ListKeys(const std::string& prefix) {
  std::vector<Listed> out;
  std::string token;
  for (int page = 0;; ++page) {
    Request r;
    r.kind = Kind::kList;
    r.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "list"));
    if (resp.status != 200) return ResponseError(resp, "list", prefix);
    for (std::string_view c : XmlBlocks(resp.body, "Contents")) {
      Listed l;
      l.key = XmlText(c, "Key");
      l.size = std::strtoll(XmlText(c, "Size").c_str(), nullptr, 10);
      l.last_modified =
          ParseTimestamp(XmlText(c, "LastModified")).value_or(TimePoint{});
      l.etag = XmlText(c, "ETag");
      out.push_back(std::move(l));
    }
    std::string truncated = XmlText(resp.body, "IsTruncated");
    token = XmlText(resp.body, "NextContinuationToken");
    if (truncated != "true" || token.empty()) break;
  }
  return out;
}

Result<std::vector<FileInfo>> S3Client::ListFiles(int level) {
  const std::string prefix = LevelPrefix(opts_.path, level);
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListKeys(prefix));

  std::vector<FileInfo> files;
  std::vector<std::string> keys;
  for (const auto& l : listed) {
    if (l.key.size() <= prefix.size() ||
        l.key.find('/', prefix.size()) != std::string::npos) {
      continue;
    }
    auto range = ParseObjectName(l.key);
    if (!range) continue;
    FileInfo f;
    f.level = level;
    f.min_txid = range->min_txid;
    f.max_txid = range->max_txid;
    f.size = l.size;
    f.created = l.last_modified;
    files.push_back(f);
    keys.push_back(l.key);
  }

  if (opts_.list_timestamps == ListTimestamps::kMetadata) {
    std::vector<size_t> unknown;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < files.size(); ++i) {
        auto it = created_.find(keys[i]);
        if (it != created_.end()) {
          files[i].created = it->second;
        } else {
          unknown.push_back(i);
        }
      }
    }
    std::vector<Status> errors(unknown.size());
    std::vector<char> gone(files.size(), 0);
    ParallelFor(unknown.size(), opts_.list_concurrency, [&](size_t u) {
      size_t i = unknown[u];
      Request r;
      r.method = "HEAD";
      r.kind = Kind::kHead;
      r.key = keys[i];
      auto resp = Execute(r, "head");
      if (!resp.ok()) {
        errors[u] = resp.status();
        return;
      }
      if (resp->status == 404) {
        gone[i] = 1;  // deleted since the listing
        return;
      }
      if (resp->status != 200) {
        errors[u] = ResponseError(*resp, "head", keys[i]);
        return;
      }
      auto meta = resp->Header("x-amz-meta-" + std::string(kTimestampMetadata));
      if (meta) {
        if (auto t = ParseTimestamp(*meta)) files[i].created = *t;
      }
      std::lock_guard<std::mutex> lock(mu_);
      created_[keys[i]] = files[i].created;
    });
    for (const auto& e : errors) LK_RETURN_IF_ERROR(e);
    std::vector<FileInfo> kept;
    for (size_t i = 0; i < files.size(); ++i) {
      if (!gone[i]) kept.push_back(files[i]);
    }
    files = std::move(kept);
  }

  std::sort(files.begin(), files.end(),
            [](const FileInfo& a, const FileInfo& b) {
              return a.min_txid != b.min_txid ? a.min_txid < b.min_txid
                                              : a.max_txid < b.max_txid;
            });
  return files;
}

// ---- Reading ----

Status ObjectReader::OpenStream() {
  S3Client::Request r;
  r.kind = Kind::kGet;
  r.key = key_;
  if (offset_ > 0 || remaining_ >= 0) {
    std::string range = "bytes=" + std::to_string(offset_) + "-";
    if (remaining_ >= 0) range += std::to_string(offset_ + remaining_ - 1);
    r.headers.emplace_back("Range", range);
  }
  if (!etag_.empty()) r.headers.emplace_back("If-Match", etag_);
  LK_ASSIGN_OR_RETURN(auto stream, client_->OpenOnce(r));
  const long status = stream->status();
  if (status == 416) {  // range starts at or past the end
    eof_ = true;
    return Status::Ok();
  }
  if (status != 200 && status != 206) {
    HttpResponse resp = stream->head();
    auto body = stream->ReadAll();
    if (body.ok()) resp.body = std::move(*body);
    return client_->ResponseError(resp, "get", key_);
  }
  if (etag_.empty()) etag_ = stream->head().Header("etag").value_or("");
  stream_expected_ = -1;
  if (auto len = stream->head().Header("content-length")) {
    stream_expected_ = std::strtoll(len->c_str(), nullptr, 10);
  }
  stream_got_ = 0;
  // A store that ignored Range sends the whole object from byte 0.
  skip_ = (status == 200 && offset_ > 0) ? offset_ : 0;
  if (status == 200 && remaining_ >= 0 && stream_expected_ >= 0) {
    stream_expected_ = std::min(stream_expected_, offset_ + remaining_);
  }
  stream_ = std::move(stream);
  return Status::Ok();
}

Status ObjectReader::Start() {
  if (remaining_ == 0) {
    eof_ = true;
    return Status::Ok();
  }
  Status last;
  for (int attempt = 0; attempt < client_->max_attempts(); ++attempt) {
    if (attempt > 0) client_->Backoff(attempt - 1);
    last = OpenStream();
    if (last.ok() || !last.retryable()) return last;
  }
  return last;
}

Result<size_t> ObjectReader::Read(std::span<uint8_t> buf) {
  int failures = 0;
  Status last;
  while (!eof_) {
    if (remaining_ == 0) {
      eof_ = true;
      break;
    }
    if (!stream_) {
      if (failures >= client_->max_attempts()) {
        return base::UnavailableError(
            "get " + client_->Where(key_) + ": gave up after " +
            std::to_string(failures) + " failed attempts: " + last.message());
      }
      if (failures > 0) client_->Backoff(failures - 1);
      Status s = OpenStream();
      if (!s.ok()) {
        if (!s.retryable()) return s;
        last = s;
        ++failures;
        continue;
      }
      if (eof_) break;
    }
    std::span<uint8_t> want = buf;
    if (remaining_ >= 0 &&
        static_cast<int64_t>(want.size()) > remaining_ + skip_) {
      want = want.first(static_cast<size_t>(remaining_ + skip_));
    }
    auto n = stream_->Read(want);
    if (!n.ok()) {
      if (!n.status().retryable()) return n.status();
      last = n.status();
      stream_.reset();
      ++failures;
      continue;
    }
    if (*n == 0) {
      // End of this response: complete only if every announced byte came.
      if (stream_expected_ >= 0 && stream_got_ < stream_expected_) {
        last = base::UnavailableError(
            "get " + client_->Where(key_) + ": truncated body (" +
            std::to_string(stream_got_) + " of " +
            std::to_string(stream_expected_) + " bytes)");
        stream_.reset();
        ++failures;
        continue;
      }
      // A range past the end of the object reads what is there.
      stream_.reset();
      eof_ = true;
      break;
    }
    stream_got_ += static_cast<int64_t>(*n);
    size_t got = *n;
    size_t start = 0;
    if (skip_ > 0) {
      size_t drop = static_cast<size_t>(
          std::min<int64_t>(skip_, static_cast<int64_t>(got)));
      skip_ -= static_cast<int64_t>(drop);
      start = drop;
      if (start == got) continue;
      std::memmove(buf.data(), buf.data() + start, got - start);
      got -= start;
    }
    offset_ += static_cast<int64_t>(got);
    if (remaining_ > 0) remaining_ -= static_cast<int64_t>(got);
    return got;
  }
  return size_t{0};
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenFile(
    int level, TxId min_txid, TxId max_txid, int64_t offset, int64_t length) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  auto reader = std::make_unique<ObjectReader>(
      this, ObjectKey(opts_.path, level, min_txid, max_txid),
      std::max<int64_t>(offset, 0), length < 0 ? -1 : length);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

// ---- Writing ----

KeyValues S3Client::WriteHeaders(const FileInfo& info) const {
  KeyValues h;
  h.emplace_back("x-amz-meta-" + std::string(kTimestampMetadata),
                 FormatTimestamp(info.created));
  return h;
}

Status S3Client::CheckExisting(const std::string& key, int64_t size,
                               const std::string& md5_hex) {
  Request r;
  r.method = "HEAD";
  r.kind = Kind::kHead;
  r.key = key;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "head"));
  if (resp.status != 200) return ResponseError(resp, "head", key);
  std::string etag = resp.Header("etag").value_or("");
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  int64_t len = std::strtoll(
      resp.Header("content-length").value_or("-1").c_str(), nullptr, 10);
  if (len == size && (md5_hex.empty() || etag == md5_hex)) return Status::Ok();
  return base::AlreadyExistsError(
      "put " + Where(key) +
      ": a different object already exists under this name "
      "(size " +
      std::to_string(len) + ", etag " + etag + "); not replaced");
}

Status S3Client::PutSmall(const std::string& key, const FileInfo& info,
                          std::string body) {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.key = key;
  r.headers = WriteHeaders(info);
  if (opts_.content_md5) r.headers.emplace_back("Content-MD5", Md5Base64(body));
  if (opts_.if_none_match) r.headers.emplace_back("If-None-Match", "*");
  r.body = body;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "put"));
  if (resp.status == 412 && opts_.if_none_match) {
    LK_RETURN_IF_ERROR(
        CheckExisting(key, static_cast<int64_t>(body.size()), Md5Hex(body)));
  } else if (resp.status != 200) {
    return ResponseError(resp, "put", key);
  }
  std::lock_guard<std::mutex> lock(mu_);
  created_[key] = info.created;
  return Status::Ok();
}

Status S3Client::PutPart(const std::string& key, const std::string& upload_id,
                         int part, const std::string& body, std::string* etag) {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.key = key;
  r.query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}};
  if (opts_.content_md5) r.headers.emplace_back("Content-MD5", Md5Base64(body));
  r.body = body;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "upload part"));
  if (resp.status != 200) return ResponseError(resp, "upload part", key);
  *etag = resp.Header("etag").value_or("");
  if (etag->empty()) {
    return base::UnavailableError("upload part " + Where(key) +
                                  ": no ETag in response");
  }
  return Status::Ok();
}

Status S3Client::PutMultipart(const std::string& key, const FileInfo& info,
                              base::Reader& data, std::string first_part) {
  // Initiate.
  Request init;
  init.method = "POST";
  init.kind = Kind::kPut;
  init.key = key;
  init.query = {{"uploads", ""}};
  init.headers = WriteHeaders(info);
  LK_ASSIGN_OR_RETURN(HttpResponse resp,
                      Execute(init, "create multipart upload"));
  if (resp.status != 200)
    return ResponseError(resp, "create multipart upload", key);
  const std::string upload_id = XmlText(resp.body, "UploadId");
  if (upload_id.empty()) {
    return base::UnavailableError("create multipart upload " + Where(key) +
                                  ": no UploadId in response");
  }

  // Parts: read sequentially, upload up to `concurrency` at once.
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  Status failure;
  std::map<int, std::string> etags;
  std::vector<std::thread> threads;
  const int concurrency = std::max(1, opts_.concurrency);
  int64_t total = 0;
  int part = 0;
  std::string next = std::move(first_part);
  Status read_status;
  while (true) {
    if (next.empty()) break;
    ++part;
    total += static_cast<int64_t>(next.size());
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < concurrency || !failure.ok(); });
      if (!failure.ok()) break;
      ++in_flight;
    }
    auto body = std::make_shared<std::string>(std::move(next));
    threads.emplace_back([&, body, part] {
      std::string etag;
      Status s = PutPart(key, upload_id, part, *body, &etag);
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok()) {
        etags[part] = etag;
      } else if (failure.ok()) {
        failure = s;
      }
      --in_flight;
      cv.notify_all();
    });
    // Read the next part.
    int64_t left = info.size - total;
    next.clear();
    if (left > 0) {
      next.resize(
          static_cast<size_t>(std::min<int64_t>(left, opts_.part_size)));
      read_status =
          data.ReadFull({reinterpret_cast<uint8_t*>(next.data()), next.size()});
      if (!read_status.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (failure.ok())
          failure =
              read_status.WithContext("put " + Where(key) + ": reading data");
        break;
      }
    }
  }
  for (auto& t : threads) t.join();

  auto abort = [&] {
    Request a;
    a.method = "DELETE";
    a.kind = Kind::kDel;
    a.key = key;
    a.query = {{"uploadId", upload_id}};
    auto r = Execute(a, "abort multipart upload");  // best effort
    (void)r;
  };
  if (!failure.ok()) {
    abort();
    return failure;
  }

  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& [n, etag] : etags) {
    xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" +
           XmlEscape(etag) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Request done;
  done.method = "POST";
  done.kind = Kind::kPut;
  done.key = key;
  done.query = {{"uploadId", upload_id}};
  done.headers = {{"Content-Type", "application/xml"}};
  if (opts_.if_none_match) done.headers.emplace_back("If-None-Match", "*");
  done.body = xml;
  auto complete = Execute(done, "complete multipart upload");
  Status st;
  if (!complete.ok()) {
    st = complete.status();
  } else if (complete->status == 412 && opts_.if_none_match) {
    st = CheckExisting(key, info.size, "");
  } else if (complete->status != 200 ||
             !XmlText(complete->body, "Code").empty()) {
    // S3 may answer 200 with an <Error> body.
    st = ResponseError(*complete, "complete multipart upload", key);
    if (XmlText(complete->body, "Code") == "NoSuchUpload") {
      // A retried Complete after a lost response: accept if the object is
      // there with the right size.
      st = CheckExisting(key, info.size, "").ok() ? Status::Ok() : st;
    }
  }
  if (!st.ok()) {
    abort();
    return st;
  }
  std::lock_guard<std::mutex> lock(mu_);
  created_[key] = info.created;
  return Status::Ok();
}

Status S3Client::WriteFile(const FileInfo& info, base::Reader& data) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  const std::string key =
      ObjectKey(opts_.path, info.level, info.min_txid, info.max_txid);
  if (info.size < 0) {
    return base::InvalidArgumentError("put " + Where(key) + ": negative size");
  }
  const int64_t part_size = std::max<int64_t>(opts_.part_size, 1 << 20);
  const int64_t first = std::min(info.size, part_size);
  std::string body(static_cast<size_t>(first), '\0');
  LK_RETURN_IF_ERROR(
      data.ReadFull({reinterpret_cast<uint8_t*>(body.data()), body.size()})
          .WithContext("put " + Where(key) + ": reading data"));
  Status st = info.size <= part_size
                  ? PutSmall(key, info, std::move(body))
                  : PutMultipart(key, info, data, std::move(body));
  LK_RETURN_IF_ERROR(st);
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t n, data.Read({&extra, 1}));
  if (n != 0) {
    return base::InvalidArgumentError("put " + Where(key) +
                                      ": data is longer than " +
                                      std::to_string(info.size) + " bytes");
  }
  return Status::Ok();
}

// ---- Deleting ----

Status S3Client::DeleteKeys(const std::vector<std::string>& keys) {
  for (size_t start = 0; start < keys.size(); start += 1000) {
    size_t end = std::min(keys.size(), start + 1000);
    std::string xml = "<Delete><Quiet>true</Quiet>";
    for (size_t i = start; i < end; ++i) {
      xml += "<Object><Key>" + XmlEscape(keys[i]) + "</Key></Object>";
    }
    xml += "</Delete>";
    Request r;
    r.method = "POST";
    r.kind = Kind::kDel;
    r.query = {{"delete", ""}};
    r.headers = {{"Content-MD5", Md5Base64(xml)},
                 {"Content-Type", "application/xml"}};
    r.body = xml;
    LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "delete"));
    if (resp.status != 200) return ResponseError(resp, "delete", keys[start]);
    for (std::string_view e : XmlBlocks(resp.body, "Error")) {
      std::string code = XmlText(e, "Code");
      if (code == "NoSuchKey") continue;
      return base::UnavailableError("delete " + Where(XmlText(e, "Key")) +
                                    ": " + code + ": " + XmlText(e, "Message"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = start; i < end; ++i) created_.erase(keys[i]);
  }
  return Status::Ok();
}

Status S3Client::DeleteFiles(const std::vector<FileInfo>& files) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  std::vector<std::string> keys;
  keys.reserve(files.size());
  for (const auto& f : files) {
    keys.push_back(ObjectKey(opts_.path, f.level, f.min_txid, f.max_txid));
  }
  return DeleteKeys(keys);
}

Status S3Client::DeleteAll() {
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListKeys(opts_.path + "/"));
  std::vector<std::string> keys;
  for (auto& l : listed) keys.push_back(std::move(l.key));
  LK_RETURN_IF_ERROR(DeleteKeys(keys));
  std::lock_guard<std::mutex> lock(mu_);
  created_.clear();
  return Status::Ok();
}

// Generic objects: keys relative to the replica path. An empty path puts
// them at the bucket root (as Litestream 0.3's path.Join does).
Result<std::vector<ObjectInfo>> S3Client::ListObjects(const std::string& prefix) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  const std::string base = opts_.path.empty() ? "" : opts_.path + "/";
  LK_ASSIGN_OR_RETURN(std::vector<Listed> listed, ListKeys(base + prefix));
  std::vector<ObjectInfo> out;
  out.reserve(listed.size());
  for (auto& l : listed) {
    if (l.key.compare(0, base.size(), base) != 0) continue;
    ObjectInfo info;
    info.key = l.key.substr(base.size());
    info.size = l.size;
    info.modified = l.last_modified;
    info.etag = l.etag;
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::unique_ptr<base::Reader>> S3Client::OpenObject(const std::string& key) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  auto reader = std::make_unique<ObjectReader>(
      this, opts_.path.empty() ? key : opts_.path + "/" + key, 0, -1);
  LK_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<base::Reader>(std::move(reader));
}

}  // namespace

Result<Credentials> ResolveCredentials(const S3Options& o) {
  Credentials c;
  if (!o.access_key_id.empty() || !o.secret_access_key.empty()) {
    if (o.access_key_id.empty() || o.secret_access_key.empty()) {
      return base::InvalidArgumentError(
          "s3 bucket " + o.bucket +
          ": access-key-id and secret-access-key must "
          "be given together");
    }
    c.access_key_id = o.access_key_id;
    c.secret_access_key = o.secret_access_key;
    c.session_token = o.session_token;
    return c;
  }
  if (!Env("AWS_ACCESS_KEY_ID").empty() &&
      !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    c.access_key_id = Env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    c.session_token = Env("AWS_SESSION_TOKEN");
    return c;
  }
  if (!Env("LITESTREAM_ACCESS_KEY_ID").empty() &&
      !Env("LITESTREAM_SECRET_ACCESS_KEY").empty()) {
    c.access_key_id = Env("LITESTREAM_ACCESS_KEY_ID");
    c.secret_access_key = Env("LITESTREAM_SECRET_ACCESS_KEY");
    return c;
  }
  std::string file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Env("HOME").empty())
    file = Env("HOME") + "/.aws/credentials";
  std::string profile = !o.profile.empty()            ? o.profile
                        : !Env("AWS_PROFILE").empty() ? Env("AWS_PROFILE")
                                                      : "default";
  if (!file.empty()) {
    auto p = ReadProfile(file, profile);
    if (!p["aws_access_key_id"].empty() &&
        !p["aws_secret_access_key"].empty()) {
      c.access_key_id = p["aws_access_key_id"];
      c.secret_access_key = p["aws_secret_access_key"];
      c.session_token = p["aws_session_token"];
      return c;
    }
  }
  return base::InvalidArgumentError(
      "s3 bucket " + o.bucket +
      ": no credentials: set access-key-id and "
      "secret-access-key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
      "LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY, or profile "
      "[" +
      profile + "] in " + (file.empty() ? "~/.aws/credentials" : file));
}

Result<std::unique_ptr<ReplicaClient>> NewS3ReplicaClient(
    const S3Options& options) {
  if (options.bucket.empty()) {
    return base::InvalidArgumentError("s3 replica: bucket is required");
  }
  if (options.part_size < (1 << 20)) {
    return base::InvalidArgumentError(
        "s3 bucket " + options.bucket +
        ": part size must be at least 1 MiB (5 MiB on AWS)");
  }
  if (!options.endpoint.empty()) {
    std::string ep = options.endpoint;
    size_t sep = ep.find("://");
    if (sep != std::string::npos) {
      std::string scheme = ep.substr(0, sep);
      if (scheme != "http" && scheme != "https") {
        return base::InvalidArgumentError(
            "s3 bucket " + options.bucket + ": endpoint " + ep +
            " must start with http:// or https://");
      }
      ep = ep.substr(sep + 3);
    }
    if (ep.empty() || ep.front() == '/') {
      return base::InvalidArgumentError("s3 bucket " + options.bucket +
                                        ": endpoint " + options.endpoint +
                                        " has no host");
    }
  }
  LK_ASSIGN_OR_RETURN(Credentials creds, ResolveCredentials(options));
  return std::unique_ptr<ReplicaClient>(
      new S3Client(options, std::move(creds)));
}

}  // namespace litekeep::storage::s3
