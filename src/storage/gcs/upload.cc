// Writing objects: one multipart objects.insert (metadata + media, with
// md5Hash so the store checks the body) for small files; for large ones a
// resumable upload session, chunk by chunk in order, each chunk retried from
// the byte the store says it has. The object becomes visible whole when the
// last chunk lands. The creation time goes in the litestream-timestamp
// metadata.
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "base/rfc3339.h"
#include "storage/gcs/client_impl.h"
#include "storage/hash.h"

namespace litekeep::storage::gcs {
namespace {

using json = nlohmann::json;

// A random multipart boundary.
std::string Boundary() {
  unsigned char r[12];
  if (RAND_bytes(r, sizeof(r)) != 1) {
    const auto t = Clock::now().time_since_epoch().count();
    std::memcpy(r, &t, std::min(sizeof(r), sizeof(t)));
  }
  return "litekeep_" + HexEncode({r, sizeof(r)});
}

// The last byte the store holds from a 308 answer's Range header
// ("bytes=0-N"); -1 when it holds none.
int64_t CommittedEnd(const HttpResponse& r) {
  std::string range = r.Header("range").value_or("");
  size_t dash = range.rfind('-');
  if (dash == std::string::npos) return -1;
  return std::strtoll(range.c_str() + dash + 1, nullptr, 10);
}

}  // namespace

std::string GcsClient::ObjectResource(const std::string& name,
                                      const FileInfo& info,
                                      const std::string& md5_base64) const {
  json o = {{"name", name},
            {"contentType", "application/octet-stream"},
            {"metadata",
             {{kTimestampMetadata, base::FormatRfc3339Nano(info.created)}}}};
  if (!md5_base64.empty()) o["md5Hash"] = md5_base64;
  return o.dump();
}

Status GcsClient::CheckExisting(const std::string& name, int64_t size,
                                const std::string& md5_base64) {
  Request r;
  r.kind = Kind::kHead;
  r.path = ObjectPath(name);
  r.object = name;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "get metadata"));
  if (resp.status != 200) return ResponseError(resp, "get metadata", name);
  Listed l = ParseObjectResource(json::parse(resp.body, nullptr, false));
  if (l.size == size && l.md5_base64 == md5_base64) return Status::Ok();
  return base::AlreadyExistsError(
      "put " + Where(name) +
      ": a different object already exists under this name (size " +
      std::to_string(l.size) + ", md5Hash " +
      (l.md5_base64.empty() ? "none" : l.md5_base64) + "); not replaced");
}

Status GcsClient::PutMultipart(const std::string& name, const FileInfo& info,
                               const std::string& body) {
  const std::string md5 = Md5Base64(body);
  const std::string boundary = Boundary();
  std::string payload = "--" + boundary +
                        "\r\nContent-Type: application/json; "
                        "charset=UTF-8\r\n\r\n" +
                        ObjectResource(name, info, md5) + "\r\n--" + boundary +
                        "\r\nContent-Type: application/octet-stream\r\n\r\n";
  payload += body;
  payload += "\r\n--" + boundary + "--\r\n";
  Request r;
  r.method = "POST";
  r.kind = Kind::kPut;
  r.path = UploadPath();
  r.object = name;
  r.query = {{"uploadType", "multipart"}};
  if (opts_.if_generation_match) r.query.emplace_back("ifGenerationMatch", "0");
  r.headers = {{"Content-Type", "multipart/related; boundary=" + boundary}};
  r.body = payload;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "put"));
  if (resp.status == 412 && opts_.if_generation_match) {
    return CheckExisting(name, static_cast<int64_t>(body.size()), md5);
  }
  if (resp.status != 200 && resp.status != 201) {
    return ResponseError(resp, "put", name);
  }
  return Status::Ok();
}

Status GcsClient::PutResumable(const std::string& name, const FileInfo& info,
                               base::Reader& data, std::string first_chunk) {
  // Start the session: the store answers with its URI in Location.
  const std::string resource = ObjectResource(name, info, "");
  Request start;
  start.method = "POST";
  start.kind = Kind::kPut;
  start.path = UploadPath();
  start.object = name;
  start.query = {{"uploadType", "resumable"}};
  if (opts_.if_generation_match) {
    start.query.emplace_back("ifGenerationMatch", "0");
  }
  start.headers = {{"Content-Type", "application/json; charset=UTF-8"},
                   {"X-Upload-Content-Type", "application/octet-stream"},
                   {"X-Upload-Content-Length", std::to_string(info.size)}};
  start.body = resource;
  LK_ASSIGN_OR_RETURN(HttpResponse started, Execute(start, "start upload"));
  if (started.status == 412 && opts_.if_generation_match) {
    // Some stores check the precondition when the session starts.
    return base::AlreadyExistsError("put " + Where(name) +
                                    ": condition not met (HTTP 412)");
  }
  if (started.status != 200 && started.status != 201) {
    return ResponseError(started, "start upload", name);
  }
  // The session URI authorizes the upload by itself: never printed.
  const std::string session = started.Header("location").value_or("");
  if (session.find("://") == std::string::npos) {
    return base::UnavailableError("start upload " + Where(name) +
                                  ": the answer has no session Location");
  }

  StreamHash hash;
  const std::string total = std::to_string(info.size);
  int64_t sent = 0;  // bytes before the current chunk
  std::string chunk = std::move(first_chunk);
  HttpResponse final_answer;
  for (;;) {
    hash.Update({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()});
    const int64_t chunk_end = sent + static_cast<int64_t>(chunk.size());
    // Send [from, chunk_end) of this chunk until the store has all of it.
    int64_t from = sent;
    RetryBudget budget(opts_.retry);
    for (;;) {
      Request put;
      put.method = "PUT";
      put.kind = Kind::kPut;
      put.path = session;
      put.object = name;
      put.headers = {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                           std::to_string(chunk_end - 1) + "/" +
                                           total}};
      put.body =
          std::string_view(chunk).substr(static_cast<size_t>(from - sent));
      Status failure;
      auto stream = OpenOnce(put);
      if (stream.ok()) {
        auto body = (*stream)->ReadAll(1 << 20);
        if (body.ok()) {
          HttpResponse resp = (*stream)->head();
          resp.body = std::move(*body);
          if (resp.status == 200 || resp.status == 201) {
            final_answer = std::move(resp);
            from = chunk_end;
            break;
          }
          if (resp.status == 308) {
            const int64_t held = CommittedEnd(resp) + 1;
            if (held >= chunk_end && chunk_end < info.size) break;
            if (held < sent) {
              return base::UnavailableError(
                  "put " + Where(name) +
                  ": the upload session lost bytes it had acknowledged");
            }
            // The store kept part of the chunk: send the rest (progress
            // does not spend the budget; no progress does).
            const bool progress = held > from && held < chunk_end;
            from = std::min(held, chunk_end);
            if (progress) continue;
          }
          if (resp.status == 412 && opts_.if_generation_match) {
            std::string sha_unused, md5;
            hash.Finish(&sha_unused, &md5);
            // Only when this was the last chunk is the whole MD5 known.
            if (chunk_end == info.size) {
              return CheckExisting(name, info.size, md5);
            }
            return base::AlreadyExistsError("put " + Where(name) +
                                            ": condition not met (HTTP 412)");
          }
          failure = resp.status == 308
                        ? base::UnavailableError(
                              "put " + Where(name) +
                              ": the upload session did not take the chunk")
                        : ResponseError(resp, "put", name);
        } else {
          failure = body.status();
        }
      } else {
        failure = stream.status();
      }
      if (!RetryPolicy::Retryable(failure)) return failure;
      if (!budget.RetryAfterFailure(failure)) {
        return budget.GiveUp("put " + Where(name));
      }
      // Ask the session how much it holds, then resume from there.
      Request query;
      query.method = "PUT";
      query.kind = Kind::kPut;
      query.path = session;
      query.object = name;
      query.headers = {{"Content-Range", "bytes */" + total}};
      auto status = Execute(query, "put");
      if (!status.ok()) return status.status();
      if (status->status == 200 || status->status == 201) {
        final_answer = std::move(*status);
        from = chunk_end;
        break;
      }
      if (status->status != 308) return ResponseError(*status, "put", name);
      from = CommittedEnd(*status) + 1;
      if (from < sent || from > chunk_end) {
        return base::UnavailableError(
            "put " + Where(name) + ": the upload session holds " +
            std::to_string(from) + " bytes, expected between " +
            std::to_string(sent) + " and " + std::to_string(chunk_end));
      }
      if (from == chunk_end && chunk_end < info.size) break;
      if (from == chunk_end) {
        return base::UnavailableError(
            "put " + Where(name) +
            ": the upload session holds every byte but did not finish");
      }
    }
    sent = chunk_end;
    if (sent >= info.size) break;
    chunk.assign(static_cast<size_t>(
                     std::min<int64_t>(info.size - sent, opts_.chunk_size)),
                 '\0');
    LK_RETURN_IF_ERROR(
        data.ReadFull({reinterpret_cast<uint8_t*>(chunk.data()), chunk.size()})
            .WithContext("put " + Where(name) + ": reading data"));
  }
  std::string sha_unused, md5;
  hash.Finish(&sha_unused, &md5);
  Listed stored =
      ParseObjectResource(json::parse(final_answer.body, nullptr, false));
  if (stored.size != info.size ||
      (!stored.md5_base64.empty() && stored.md5_base64 != md5)) {
    return base::CorruptError("put " + Where(name) + ": the store holds " +
                              std::to_string(stored.size) +
                              " bytes with md5Hash " + stored.md5_base64 +
                              ", sent " + std::to_string(info.size) +
                              " bytes with md5Hash " + md5);
  }
  return Status::Ok();
}

Status GcsClient::WriteFile(const FileInfo& info, base::Reader& data) {
  const std::string name = ObjectName(info.level, info.min_txid, info.max_txid);
  if (info.size < 0) {
    return base::InvalidArgumentError("put " + Where(name) + ": negative size");
  }
  const int64_t first = std::min(info.size, opts_.chunk_size);
  std::string body(static_cast<size_t>(first), '\0');
  LK_RETURN_IF_ERROR(
      data.ReadFull({reinterpret_cast<uint8_t*>(body.data()), body.size()})
          .WithContext("put " + Where(name) + ": reading data"));
  LK_RETURN_IF_ERROR(info.size <= opts_.chunk_size
                         ? PutMultipart(name, info, body)
                         : PutResumable(name, info, data, std::move(body)));
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t n, data.Read({&extra, 1}));
  if (n != 0) {
    return base::InvalidArgumentError("put " + Where(name) +
                                      ": data is longer than " +
                                      std::to_string(info.size) + " bytes");
  }
  return Status::Ok();
}

}  // namespace litekeep::storage::gcs
