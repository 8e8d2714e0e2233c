// Writing S3 objects: one PUT for small files, multipart upload (parts in
// parallel, concurrency × part size of memory) for large ones; storage class
// and server-side encryption headers on every write (options.h).
#include <cstdlib>
#include <map>
#include <mutex>

#include "storage/hash.h"
#include "storage/s3/client_impl.h"
#include "storage/s3/keys.h"
#include "storage/upload_parts.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {
namespace {

// The no-progress limit of CompleteMultipartUpload: the store joins the
// parts before it answers, which for gigabytes takes minutes (AWS sends
// whitespace meanwhile, s3rver nothing), docs/s3.md "Timeouts".
constexpr std::chrono::minutes kCompleteStallTimeout{15};

// The ETag S3 gives an object made of these parts: the MD5 of their MD5s,
// "-", the part count. "" when a part's ETag is not an MD5 (SSE-KMS, SSE-C).
std::string MultipartEtag(const std::map<int, std::string>& etags) {
  std::string digests;
  for (const auto& [n, quoted] : etags) {
    std::string hex = quoted;
    hex.erase(std::remove(hex.begin(), hex.end(), '"'), hex.end());
    if (hex.size() != 32) return "";
    for (size_t i = 0; i < 32; i += 2) {
      const std::string byte = hex.substr(i, 2);
      char* end = nullptr;
      const long v = std::strtol(byte.c_str(), &end, 16);
      if (end != byte.c_str() + 2) return "";
      digests.push_back(static_cast<char>(v));
    }
  }
  return Md5Hex(digests) + "-" + std::to_string(etags.size());
}

}  // namespace

KeyValues S3Client::WriteHeaders(const FileInfo& info) const {
  KeyValues h;
  h.emplace_back("x-amz-meta-" + std::string(kTimestampMetadata),
                 FormatTimestamp(info.created));
  for (auto& kv : CreateHeaders(opts_)) h.push_back(std::move(kv));
  return h;
}

Status S3Client::CheckExisting(const std::string& key, int64_t size,
                               const std::string& md5_hex) {
  LK_ASSIGN_OR_RETURN(HttpResponse resp, HeadKey(key));
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

Status S3Client::CheckCompleted(const std::string& key, const FileInfo& info,
                                const std::map<int, std::string>& etags,
                                const Status& failure) {
  auto resp = HeadKey(key);
  if (!resp.ok() || resp->status != 200) return failure;
  std::string etag = resp->Header("etag").value_or("");
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  const int64_t len = std::strtoll(
      resp->Header("content-length").value_or("-1").c_str(), nullptr, 10);
  const std::string composite = MultipartEtag(etags);
  const bool ours =
      (!composite.empty() && etag == composite) ||
      resp->Header("x-amz-meta-" + std::string(kTimestampMetadata)) ==
          FormatTimestamp(info.created);
  if (len == info.size && ours) return Status::Ok();
  return failure;
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
  r.headers = CustomerKeyHeaders(opts_);
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

  // Parts: at most `concurrency` buffers and threads (storage/upload_parts.h).
  std::mutex mu;
  std::map<int, std::string> etags;
  PartUpload parts;
  parts.size = info.size;
  parts.part_size = static_cast<int64_t>(first_part.size());
  parts.concurrency = opts_.concurrency;
  parts.what = "put " + Where(key);
  parts.send = [&](int n, const std::string& body) {
    std::string etag;
    LK_RETURN_IF_ERROR(PutPart(key, upload_id, n, body, &etag));
    std::lock_guard<std::mutex> lock(mu);
    etags[n] = etag;
    return Status::Ok();
  };
  Result<int> sent = UploadParts(parts, data, std::move(first_part));
  Status failure = sent.status();

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
  done.stall_timeout = std::max<std::chrono::milliseconds>(
      opts_.stall_timeout, kCompleteStallTimeout);
  auto complete = Execute(done, "complete multipart upload");
  Status st;
  if (!complete.ok()) {
    // No answer within the retries: an attempt may still have completed
    // the upload (its answer lost, or the store slower than the limit).
    st = CheckCompleted(key, info, etags, complete.status());
  } else if (complete->status == 412 && opts_.if_none_match) {
    st = CheckExisting(key, info.size, "");
  } else if (complete->status != 200 ||
             !XmlText(complete->body, "Code").empty()) {
    // S3 may answer 200 with an <Error> body.
    st = ResponseError(*complete, "complete multipart upload", key);
    if (XmlText(complete->body, "Code") == "NoSuchUpload") {
      // A retried Complete after an attempt whose answer was lost.
      st = CheckCompleted(key, info, etags, st);
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

}  // namespace litekeep::storage::s3
