// WebdavClient's request plumbing: URLs, basic authorization, sending under
// the RetryPolicy, translating error answers, and creating the client.
// Collections, listing, reading, uploading, deleting and conditional writes
// live in their own files (client_impl.h lists them).
#include "storage/webdav/client.h"

#include "storage/hash.h"
#include "storage/url.h"
#include "storage/webdav/client_impl.h"

namespace litekeep::storage::webdav {
namespace {

// True when an answer is worth retrying: 5xx (except 501 and 505, which
// say the server will never do it), 429 and 408.
bool RetryableAnswer(long status) {
  return (status >= 500 && status != 501 && status != 505) || status == 429 ||
         status == 408;
}

}  // namespace

WebdavClient::WebdavClient(WebdavOptions opts)
    : opts_(std::move(opts)),
      http_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                        .stall_timeout = opts_.stall_timeout,
                        .skip_verify = opts_.skip_verify,
                        .ca_bundle = opts_.ca_bundle}) {
  if (!opts_.username.empty() || !opts_.password.empty()) {
    authorization_ =
        "Basic " + Base64Encode(opts_.username + ":" + opts_.password);
  }
  const size_t sep = opts_.base_url.find("://");
  const size_t slash = opts_.base_url.find('/', sep + 3);
  scheme_authority_ = opts_.base_url.substr(0, slash);
  std::string root =
      slash == std::string::npos ? "" : opts_.base_url.substr(slash);
  root_path_ = UriDecode(root);
  while (!root_path_.empty() && root_path_.back() == '/') root_path_.pop_back();
}

std::string WebdavClient::Join(const std::string& key) const {
  if (opts_.path.empty()) return key;
  if (key.empty()) return opts_.path;
  return opts_.path + "/" + key;
}

std::string WebdavClient::Url(const std::string& path, bool collection) const {
  std::string p = root_path_;
  if (!path.empty()) p += "/" + path;
  if (collection || p.empty()) p += "/";
  return scheme_authority_ + UriEncode(p, false);
}

std::string WebdavClient::Describe() const {
  const size_t sep = opts_.base_url.find("://");
  const bool tls = opts_.base_url.compare(0, sep, "https") == 0;
  std::string out = tls ? "webdavs://" : "webdav://";
  if (!opts_.username.empty()) out += UriEncode(opts_.username, true) + "@";
  out += opts_.base_url.substr(sep + 3);
  if (!opts_.path.empty()) out += "/" + opts_.path;
  return out;
}

std::string WebdavClient::Where(const std::string& path) const {
  std::string out = Describe();
  const std::string own = opts_.path.empty() ? "" : "/" + opts_.path;
  // Describe ends with the replica path; name the object below the server.
  out.resize(out.size() - own.size());
  return out + (path.empty() ? "/" : "/" + path);
}

RequestCounts WebdavClient::request_counts() const {
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

Result<std::unique_ptr<HttpStream>> WebdavClient::OpenOnce(
    const Request& r, base::Reader* body_reader) {
  HttpRequest h;
  h.method = r.method;
  h.url = Url(r.path, r.collection);
  h.headers = r.headers;
  if (!authorization_.empty()) {
    h.headers.emplace_back("Authorization", authorization_);
  }
  if (body_reader != nullptr) {
    h.body_reader = body_reader;
    h.body_size = r.body_size;
  } else {
    h.body = r.body;
  }
  counts_[static_cast<int>(r.kind)].fetch_add(1);
  auto stream = http_.Open(h);
  if (!stream.ok() || (*stream)->status() >= 300) {
    errors_[static_cast<int>(r.kind)].fetch_add(1);
  }
  return stream;
}

Result<HttpResponse> WebdavClient::Execute(const Request& r,
                                           std::string_view op) {
  RetryBudget budget(opts_.retry);
  for (;;) {
    Status failure;
    std::unique_ptr<base::Reader> body;
    if (r.body_source) {
      LK_ASSIGN_OR_RETURN(body, r.body_source());
    }
    auto stream = OpenOnce(r, body.get());
    if (stream.ok()) {
      auto text = (*stream)->ReadAll(64 << 20);
      if (text.ok()) {
        HttpResponse resp = (*stream)->head();
        resp.body = std::move(*text);
        // 423 from anything but LOCK: the server holds a short lock of
        // another request on the resource (x/net/webdav locks each
        // MKCOL, PUT and MOVE target while it runs): try again.
        const bool busy = resp.status == 423 && r.method != "LOCK";
        if (!RetryableAnswer(resp.status) && !busy) return resp;
        failure = ResponseError(resp, op, r.path);
      } else {
        failure = text.status();
      }
    } else {
      failure = stream.status();
    }
    if (!RetryPolicy::Retryable(failure)) return failure;
    if (!budget.RetryAfterFailure(failure)) {
      return budget.GiveUp(std::string(op) + " " + Where(r.path));
    }
  }
}

Status WebdavClient::ResponseError(const HttpResponse& r, std::string_view op,
                                   const std::string& path) const {
  const std::string where = std::string(op) + " " + Where(path);
  const std::string detail = "HTTP " + std::to_string(r.status);
  if (RetryableAnswer(r.status)) {
    return base::UnavailableError(where + ": " + detail);
  }
  if (r.status == 423) {
    return base::UnavailableError(where + ": locked by another request (" +
                                  detail + ")");
  }
  if (r.status == 401) {
    return base::PermissionDeniedError(
        where + ": the server refused the login (" + detail + "); check " +
        (opts_.username.empty()
             ? std::string("that it needs none (no webdav-username is set)")
             : "webdav-username " + opts_.username +
                   " and webdav-password (not shown)"));
  }
  if (r.status == 403) {
    return base::PermissionDeniedError(
        where + ": forbidden (" + detail +
        "); check that the user may write below " + Where(""));
  }
  if (r.status == 404) return base::NotFoundError(where + ": not found");
  if (r.status == 405 || r.status == 501) {
    return base::FailedPreconditionError(
        where + ": the server does not allow it (" + detail + "); is " +
        Where("") + " a WebDAV share?");
  }
  if (r.status == 507) {
    return base::FailedPreconditionError(
        where + ": the server is out of space (" + detail + ")");
  }
  // The server's text can quote the request; only its first line is shown,
  // and never when it could carry the login.
  std::string msg = r.body.substr(0, std::min<size_t>(r.body.size(), 200));
  if (size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  if (!authorization_.empty() &&
      ((!opts_.password.empty() &&
        msg.find(opts_.password) != std::string::npos) ||
       msg.find(authorization_) != std::string::npos)) {
    msg.clear();
  }
  return base::FailedPreconditionError(where + ": " + detail +
                                       (msg.empty() ? "" : ": " + msg));
}

Result<std::unique_ptr<ReplicaClient>> NewWebdavReplicaClient(
    const WebdavOptions& options) {
  const std::string& u = options.base_url;
  const size_t sep = u.find("://");
  const std::string scheme = sep == std::string::npos ? "" : u.substr(0, sep);
  if ((scheme != "http" && scheme != "https") || u.size() <= sep + 3 ||
      u[sep + 3] == '/') {
    return base::InvalidArgumentError("webdav-url " + RedactUrlText(u) +
                                      " must be http(s)://host[:port][/path]");
  }
  if (options.memory_buffer < 0 || options.concurrency < 1) {
    return base::InvalidArgumentError(
        "webdav: memory buffer and concurrency must be positive");
  }
  return std::unique_ptr<ReplicaClient>(new WebdavClient(options));
}

}  // namespace litekeep::storage::webdav
