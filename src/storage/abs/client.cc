// AbsClient's request plumbing: building URLs, signing (Shared Key) or
// appending the SAS token, sending under the RetryPolicy, translating error
// answers, and creating the client. Listing, reading, uploading and
// deleting live in their own files (client_impl.h lists them).
#include "storage/abs/client.h"

#include "storage/abs/client_impl.h"
#include "storage/hash.h"
#include "storage/url.h"
#include "storage/xml.h"

namespace litekeep::storage::abs {
namespace {

// The REST API version every request asks for.
constexpr char kApiVersion[] = "2021-08-06";

// True when an answer is worth retrying: 5xx, 429, 408, and a Content-MD5
// mismatch (the body was damaged on the way).
bool RetryableAnswer(long status, std::string_view code) {
  return status >= 500 || status == 429 || status == 408 ||
         code == "Md5Mismatch" || code == "ServerBusy" ||
         code == "OperationTimedOut" || code == "InternalError";
}

std::string ErrorCode(const HttpResponse& r) {
  std::string code = XmlText(r.body, "Code");
  if (code.empty()) code = r.Header("x-ms-error-code").value_or("");
  return code;
}

}  // namespace

AbsClient::AbsClient(AbsOptions opts)
    : opts_(std::move(opts)),
      http_(HttpOptions{.connect_timeout = opts_.connect_timeout,
                        .stall_timeout = opts_.stall_timeout,
                        .skip_verify = opts_.skip_verify,
                        .ca_bundle = opts_.ca_bundle}) {
  std::string ep = opts_.endpoint.empty()
                       ? "https://" + opts_.account + ".blob.core.windows.net"
                       : opts_.endpoint;
  size_t sep = ep.find("://");
  scheme_ = sep == std::string::npos ? "https" : ep.substr(0, sep);
  std::string rest = sep == std::string::npos ? ep : ep.substr(sep + 3);
  size_t slash = rest.find('/');
  authority_ = rest.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
}

std::string AbsClient::Describe() const {
  std::string out = "abs://" + opts_.account + "@" + opts_.container;
  if (!opts_.path.empty()) out += "/" + opts_.path;
  if (!opts_.endpoint.empty()) {
    out += "?endpoint=" + RedactUrlText(opts_.endpoint);
  }
  return out;
}

std::string AbsClient::Where(const std::string& blob) const {
  return "abs://" + opts_.account + "@" + opts_.container + "/" + blob;
}

RequestCounts AbsClient::request_counts() const {
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

HttpRequest AbsClient::Build(const Request& r) const {
  std::string path = base_path_ + "/" + opts_.container;
  if (!r.blob.empty()) path += "/" + r.blob;
  const std::string encoded_path = UriEncode(path, false);

  KeyValues headers = {{"x-ms-date", Rfc1123Date(Clock::now())},
                       {"x-ms-version", kApiVersion}};
  for (const auto& h : r.headers) headers.push_back(h);

  std::string q;
  for (const auto& [k, v] : r.query) {
    q += q.empty() ? "?" : "&";
    q += UriEncode(k, true) + "=" + UriEncode(v, true);
  }
  if (opts_.auth == Auth::kSas) {
    q += (q.empty() ? "?" : "&") + opts_.sas_token;
  } else {
    SharedKeyRequest sk;
    sk.method = r.method;
    sk.account = opts_.account;
    sk.path = encoded_path;
    sk.query = r.query;
    sk.headers = headers;
    sk.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
    headers.emplace_back("Authorization", SharedKeyAuthorization(
                                              opts_.account, opts_.account_key,
                                              StringToSign(sk)));
  }
  HttpRequest h;
  h.method = r.method;
  h.url = scheme_ + "://" + authority_ + encoded_path + q;
  h.headers = std::move(headers);
  h.body = r.body;
  return h;
}

Result<std::unique_ptr<HttpStream>> AbsClient::OpenOnce(const Request& r) {
  counts_[static_cast<int>(r.kind)].fetch_add(1);
  auto stream = http_.Open(Build(r));
  if (!stream.ok() || (*stream)->status() >= 300) {
    errors_[static_cast<int>(r.kind)].fetch_add(1);
  }
  return stream;
}

Result<HttpResponse> AbsClient::Execute(const Request& r, std::string_view op) {
  RetryBudget budget(opts_.retry);
  for (;;) {
    Status failure;
    auto stream = OpenOnce(r);
    if (stream.ok()) {
      auto body = (*stream)->ReadAll(64 << 20);
      if (body.ok()) {
        HttpResponse resp = (*stream)->head();
        resp.body = std::move(*body);
        if (resp.status < 300 ||
            !RetryableAnswer(resp.status, ErrorCode(resp))) {
          return resp;
        }
        failure = ResponseError(resp, op, r.blob.empty() ? r.prefix : r.blob);
      } else {
        failure = body.status();
      }
    } else {
      failure = stream.status();
    }
    if (!RetryPolicy::Retryable(failure)) return failure;
    if (!budget.RetryAfterFailure(failure)) {
      return budget.GiveUp(std::string(op) + " " +
                           Where(r.blob.empty() ? r.prefix : r.blob));
    }
  }
}

Status AbsClient::ResponseError(const HttpResponse& r, std::string_view op,
                                const std::string& blob) const {
  const std::string code = ErrorCode(r);
  const std::string where = std::string(op) + " " + Where(blob);
  const std::string detail =
      "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  const std::string endpoint =
      opts_.endpoint.empty()
          ? "https://" + opts_.account + ".blob.core.windows.net"
          : RedactUrlText(opts_.endpoint);
  if (RetryableAnswer(r.status, code)) {
    return base::UnavailableError(where + ": " + detail);
  }
  if (r.status == 401 || r.status == 403) {
    // The server's message can quote the request; it is not shown.
    if (opts_.auth == Auth::kSas) {
      return base::PermissionDeniedError(
          where + ": the SAS token was refused for account " + opts_.account +
          " (" + detail +
          "); check its permissions (read, write, list, delete), expiry, "
          "and that it is for this account and container");
    }
    return base::PermissionDeniedError(
        where + ": the Shared Key signature was refused for account " +
        opts_.account + " (" + detail +
        "); check account-key / LITESTREAM_AZURE_ACCOUNT_KEY and the local "
        "clock");
  }
  if (code == "ContainerNotFound") {
    return base::FailedPreconditionError(
        where + ": container " + opts_.container +
        " does not exist in account " + opts_.account + " at " + endpoint +
        " (" + detail + "); create it or check bucket and endpoint");
  }
  if (code == "ResourceNotFound" && blob.empty()) {
    return base::FailedPreconditionError(
        where + ": account " + opts_.account + " or container " +
        opts_.container + " not found at " + endpoint + " (" + detail + ")");
  }
  if (r.status == 404) return base::NotFoundError(where + ": not found");
  if (r.status == 409 || r.status == 412) {
    return base::AlreadyExistsError(where + ": condition not met (" + detail +
                                    ")");
  }
  std::string msg = XmlText(r.body, "Message");
  if (size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  return base::FailedPreconditionError(where + ": " + detail +
                                       (msg.empty() ? "" : ": " + msg));
}

Status AbsClient::CreateContainer() {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.query = {{"restype", "container"}};
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "create container"));
  if (resp.status == 201 || ErrorCode(resp) == "ContainerAlreadyExists") {
    return Status::Ok();
  }
  return ResponseError(resp, "create container", "");
}

Result<std::unique_ptr<ReplicaClient>> NewAbsReplicaClient(
    const AbsOptions& options) {
  if (options.account.empty() || options.container.empty()) {
    return base::InvalidArgumentError(
        "abs replica: account name and container are required");
  }
  if (options.auth == Auth::kSharedKey && options.account_key.empty()) {
    return base::InvalidArgumentError("abs account " + options.account +
                                      ": no account key");
  }
  if (!options.endpoint.empty()) {
    const std::string& ep = options.endpoint;
    size_t sep = ep.find("://");
    std::string scheme = sep == std::string::npos ? "" : ep.substr(0, sep);
    if ((scheme != "http" && scheme != "https") || ep.size() <= sep + 3 ||
        ep[sep + 3] == '/') {
      return base::InvalidArgumentError(
          "abs account " + options.account + ": endpoint " + RedactUrlText(ep) +
          " must be http(s)://host[:port][/path]");
    }
  }
  if (options.block_size < 1) {
    return base::InvalidArgumentError("abs: block size must be positive");
  }
  return std::unique_ptr<ReplicaClient>(new AbsClient(options));
}

Status CreateContainer(const AbsOptions& options) {
  LK_ASSIGN_OR_RETURN(auto client, NewAbsReplicaClient(options));
  return static_cast<AbsClient*>(client.get())->CreateContainer();
}

}  // namespace litekeep::storage::abs
