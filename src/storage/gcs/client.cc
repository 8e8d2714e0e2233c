// GcsClient's request plumbing: building JSON API URLs, the bearer token
// (or none for an emulator), sending under the RetryPolicy, translating
// error answers, and creating the client. Listing, reading, uploading and
// deleting live in their own files (client_impl.h lists them).
#include "storage/gcs/client.h"

#include "base/rfc3339.h"
#include "storage/gcs/client_impl.h"
#include "storage/hash.h"
#include "storage/layout.h"
#include "storage/url.h"

namespace litekeep::storage::gcs {
namespace {

using json = nlohmann::json;

// True when an answer is worth retrying: 5xx, 429 and 408 (GCS's guidance).
bool RetryableAnswer(long status) {
  return status >= 500 || status == 429 || status == 408;
}

// The reason and message of a JSON API error answer.
void ErrorDetail(const HttpResponse& r, std::string* reason,
                 std::string* message) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return;
  const json& e = j["error"];
  if (e.contains("message") && e["message"].is_string()) {
    *message = e["message"].get<std::string>();
  }
  if (e.contains("errors") && e["errors"].is_array() && !e["errors"].empty() &&
      e["errors"][0].is_object() && e["errors"][0].contains("reason") &&
      e["errors"][0]["reason"].is_string()) {
    *reason = e["errors"][0]["reason"].get<std::string>();
  }
}

}  // namespace

GcsClient::GcsClient(GcsOptions opts)
    : opts_(std::move(opts)),
      http_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                        .stall_timeout = opts_.stall_timeout,
                        .skip_verify = opts_.skip_verify,
                        .ca_bundle = opts_.ca_bundle}),
      tokens_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                          .stall_timeout = opts_.stall_timeout,
                          .request_timeout = std::chrono::seconds(30),
                          .ca_bundle = opts_.ca_bundle},
              opts_.retry) {}

std::string GcsClient::Describe() const {
  std::string out = "gs://" + opts_.bucket;
  if (!opts_.path.empty()) out += "/" + opts_.path;
  if (opts_.endpoint != "https://storage.googleapis.com") {
    out += "?endpoint=" + RedactUrlText(opts_.endpoint);
  }
  return out;
}

std::string GcsClient::Where(const std::string& object) const {
  return "gs://" + opts_.bucket + "/" + object;
}

RequestCounts GcsClient::request_counts() const {
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

std::string GcsClient::ObjectPath(const std::string& name) const {
  return "/storage/v1/b/" + UriEncode(opts_.bucket, true) + "/o/" +
         UriEncode(name, true);
}

std::string GcsClient::UploadPath() const {
  return "/upload/storage/v1/b/" + UriEncode(opts_.bucket, true) + "/o";
}

std::string GcsClient::ObjectName(int level, TxId min_txid,
                                  TxId max_txid) const {
  return LtxFilePath(opts_.path, level, min_txid, max_txid);
}

HttpRequest GcsClient::Build(const Request& r, const std::string& token) const {
  std::string url = r.path.find("://") == std::string::npos
                        ? opts_.endpoint + r.path
                        : r.path;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : r.query) {
    url += sep;
    url += UriEncode(k, true) + "=" + UriEncode(v, true);
    sep = '&';
  }
  HttpRequest h;
  h.method = r.method;
  h.url = std::move(url);
  h.headers = r.headers;
  if (!token.empty())
    h.headers.emplace_back("Authorization", "Bearer " + token);
  h.body = r.body;
  return h;
}

Result<std::unique_ptr<HttpStream>> GcsClient::OpenOnce(const Request& r) {
  for (int attempt = 0;; ++attempt) {
    std::string token;
    if (!opts_.anonymous) {
      auto t = tokens_.Token();
      if (!t.ok()) {
        counts_[static_cast<int>(r.kind)].fetch_add(1);
        errors_[static_cast<int>(r.kind)].fetch_add(1);
        return t.status();
      }
      token = std::move(*t);
    }
    counts_[static_cast<int>(r.kind)].fetch_add(1);
    auto stream = http_.Open(Build(r, token));
    if (!stream.ok() || (*stream)->status() >= 300) {
      if (!stream.ok() || (*stream)->status() != 308) {
        errors_[static_cast<int>(r.kind)].fetch_add(1);
      }
    }
    // A token the store no longer accepts (revoked, clock skew): fetch a
    // new one and send once more.
    if (stream.ok() && (*stream)->status() == 401 && !opts_.anonymous &&
        attempt == 0) {
      tokens_.Invalidate();
      continue;
    }
    return stream;
  }
}

Result<HttpResponse> GcsClient::Execute(const Request& r, std::string_view op) {
  RetryBudget budget(opts_.retry);
  for (;;) {
    Status failure;
    auto stream = OpenOnce(r);
    if (stream.ok()) {
      auto body = (*stream)->ReadAll(64 << 20);
      if (body.ok()) {
        HttpResponse resp = (*stream)->head();
        resp.body = std::move(*body);
        if (!RetryableAnswer(resp.status)) return resp;
        failure = ResponseError(resp, op, r.object);
      } else {
        failure = body.status();
      }
    } else {
      failure = stream.status();
    }
    if (!RetryPolicy::Retryable(failure)) return failure;
    if (!budget.RetryAfterFailure(failure)) {
      return budget.GiveUp(std::string(op) + " " + Where(r.object));
    }
  }
}

Status GcsClient::ResponseError(const HttpResponse& r, std::string_view op,
                                const std::string& object) const {
  std::string reason, message;
  ErrorDetail(r, &reason, &message);
  const std::string where = std::string(op) + " " + Where(object);
  const std::string detail =
      "HTTP " + std::to_string(r.status) + (reason.empty() ? "" : " " + reason);
  if (RetryableAnswer(r.status)) {
    return base::UnavailableError(where + ": " + detail);
  }
  if (r.status == 401 || r.status == 403) {
    // The server's message can quote the principal; the token is never
    // shown.
    std::string who = opts_.anonymous ? "no credentials (STORAGE_EMULATOR_HOST)"
                                      : tokens_.Describe();
    if (who.empty()) who = "Application Default Credentials";
    return base::PermissionDeniedError(
        where + ": access refused for " + who + " (" + detail +
        "); check that it may read, write, list and delete objects in "
        "bucket " +
        opts_.bucket);
  }
  if (r.status == 404 && message.find("bucket") != std::string::npos) {
    return base::FailedPreconditionError(
        where + ": bucket " + opts_.bucket + " does not exist at " +
        RedactUrlText(opts_.endpoint) + " (" + detail + "); create it");
  }
  if (r.status == 404) return base::NotFoundError(where + ": not found");
  if (r.status == 412 || r.status == 409) {
    return base::AlreadyExistsError(where + ": condition not met (" + detail +
                                    ")");
  }
  if (size_t nl = message.find('\n'); nl != std::string::npos) {
    message.resize(nl);
  }
  return base::FailedPreconditionError(where + ": " + detail +
                                       (message.empty() ? "" : ": " + message));
}

Listed ParseObjectResource(const json& o) {
  auto str = [&](const char* name) -> std::string {
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : "";
  };
  Listed l;
  l.name = str("name");
  l.size = std::strtoll(str("size").c_str(), nullptr, 10);
  if (auto t = base::ParseRfc3339(str("updated")); t.ok()) l.modified = *t;
  l.etag = str("etag");
  l.generation = str("generation");
  l.md5_base64 = str("md5Hash");
  if (auto m = o.find("metadata"); m != o.end() && m->is_object()) {
    if (auto ts = m->find(kTimestampMetadata);
        ts != m->end() && ts->is_string()) {
      if (auto t = base::ParseRfc3339(ts->get<std::string>()); t.ok()) {
        l.created = *t;
      }
    }
  }
  return l;
}

Result<std::unique_ptr<ReplicaClient>> NewGcsReplicaClient(
    const GcsOptions& options) {
  if (options.bucket.empty()) {
    return base::InvalidArgumentError("gcs replica: bucket is required");
  }
  if (options.chunk_size < (256 << 10)) {
    return base::InvalidArgumentError(
        "gcs: the upload chunk size must be at least 256KiB");
  }
  return std::unique_ptr<ReplicaClient>(new GcsClient(options));
}

}  // namespace litekeep::storage::gcs
