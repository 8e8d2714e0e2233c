// S3ReplicaClient's request plumbing: building and signing requests,
// sending them under the RetryPolicy, finding the bucket's region, and
// creating the client. Listing, reading, uploading, deleting and error
// translation live in their own files (client_impl.h lists them).
#include "storage/s3/client.h"

#include <cstdlib>

#include "storage/s3/client_impl.h"
#include "storage/s3/credentials.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {
namespace {

std::string DefaultPortStripped(const std::string& scheme, std::string host) {
  if (scheme == "https" && host.size() > 4 && host.ends_with(":443")) {
    host.resize(host.size() - 4);
  } else if (scheme == "http" && host.size() > 3 && host.ends_with(":80")) {
    host.resize(host.size() - 3);
  }
  return host;
}

}  // namespace

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
  h.stall_timeout = r.stall_timeout;
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

Result<HttpResponse> S3Client::Execute(const Request& r, std::string_view op) {
  LK_RETURN_IF_ERROR(EnsureRegion());
  RetryBudget budget(opts_.retry);
  for (;;) {
    Status failure;
    auto stream = OpenOnce(r);
    if (stream.ok()) {
      auto body = (*stream)->ReadAll(64 << 20);
      if (body.ok()) {
        HttpResponse resp = (*stream)->head();
        resp.body = std::move(*body);
        std::string code = resp.status >= 300 ? XmlText(resp.body, "Code") : "";
        if (!RetryPolicy::RetryableStatus(resp.status, code)) return resp;
        failure = ResponseError(resp, op, r.key);
      } else {
        failure = body.status();
      }
    } else {
      failure = stream.status();
    }
    if (!RetryPolicy::Retryable(failure)) return failure;
    if (!budget.RetryAfterFailure(failure)) {
      return budget.GiveUp(std::string(op) + " " + Where(r.key));
    }
  }
}

Status S3Client::EnsureRegion() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!region_.empty() || region_checked_) return Status::Ok();
  }
  // AWS without a region: ask where the bucket lives (any response to a
  // HEAD on the bucket carries x-amz-bucket-region).
  std::string found;
  RetryBudget budget(opts_.retry);
  for (;;) {
    Request r;
    r.method = "HEAD";
    r.kind = Kind::kHead;
    counts_[static_cast<int>(Kind::kHead)].fetch_add(1);
    auto resp = http_.Do(Build(r, "us-east-1"));
    if (!resp.ok() || resp->status >= 400) {
      errors_[static_cast<int>(Kind::kHead)].fetch_add(1);
    }
    if (!resp.ok()) {
      if (!RetryPolicy::Retryable(resp.status())) return resp.status();
      if (!budget.RetryAfterFailure(resp.status())) break;
      continue;
    }
    found = resp->Header("x-amz-bucket-region").value_or("");
    if (!found.empty() || resp->status < 500) break;
    if (!budget.RetryAfterFailure(
            base::UnavailableError("HTTP " + std::to_string(resp->status)))) {
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  region_ = found.empty() ? "us-east-1" : found;
  region_checked_ = true;
  return Status::Ok();
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
  S3Options o = options;
  if (o.ca_bundle.empty()) {
    const char* env = std::getenv("AWS_CA_BUNDLE");
    if (env != nullptr) o.ca_bundle = env;
  }
  return std::unique_ptr<ReplicaClient>(new S3Client(o, std::move(creds)));
}

}  // namespace litekeep::storage::s3
