// Writing blobs: one Put Blob for small files; for large ones Put Block
// (blocks in parallel, concurrency × block size of memory) then Put Block
// List, which makes the blob visible whole. Every body carries Content-MD5 (the
// store checks it); the creation time goes in the litestreamtimestamp metadata.
#include <openssl/rand.h>

#include <cstdio>

#include "base/rfc3339.h"
#include "storage/abs/client_impl.h"
#include "storage/hash.h"
#include "storage/upload_parts.h"
#include "storage/xml.h"

namespace litekeep::storage::abs {
namespace {

// Block ids of one upload: Base64 of "lk-<16 hex>-<6 digits>", all of one
// length as Azure requires, unique per upload so two uploads of one name
// never mix their uncommitted blocks.
class BlockIds {
 public:
  BlockIds() {
    uint64_t r = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof(r)) != 1) {
      r = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    }
    std::snprintf(tag_, sizeof(tag_), "%016llx",
                  static_cast<unsigned long long>(r));
  }
  std::string Id(int n) const {
    char raw[40];
    std::snprintf(raw, sizeof(raw), "lk-%s-%06d", tag_, n);
    std::string_view v(raw);
    return Base64Encode({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
  }

 private:
  char tag_[17] = {};
};

}  // namespace

KeyValues AbsClient::WriteHeaders(const FileInfo& info) const {
  return {{"x-ms-meta-" + std::string(kTimestampMetadata),
           base::FormatRfc3339Nano(info.created)}};
}

Status AbsClient::CheckExisting(const std::string& blob, int64_t size,
                                const std::string& md5_base64) {
  Request r;
  r.method = "HEAD";
  r.kind = Kind::kHead;
  r.blob = blob;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "head"));
  if (resp.status != 200) return ResponseError(resp, "head", blob);
  const int64_t len = std::strtoll(
      resp.Header("content-length").value_or("-1").c_str(), nullptr, 10);
  const std::string md5 = resp.Header("content-md5").value_or("");
  if (len == size && (md5_base64.empty() || md5 == md5_base64)) {
    return Status::Ok();
  }
  return base::AlreadyExistsError(
      "put " + Where(blob) +
      ": a different blob already exists under this name (size " +
      std::to_string(len) + ", Content-MD5 " + (md5.empty() ? "none" : md5) +
      "); not replaced");
}

Status AbsClient::PutSingle(const std::string& blob, const FileInfo& info,
                            const std::string& body) {
  const std::string md5 = Md5Base64(body);
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.blob = blob;
  r.headers = WriteHeaders(info);
  r.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  r.headers.emplace_back("Content-MD5", md5);
  if (opts_.if_none_match) r.headers.emplace_back("If-None-Match", "*");
  r.body = body;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "put"));
  if ((resp.status == 409 || resp.status == 412) && opts_.if_none_match) {
    return CheckExisting(blob, static_cast<int64_t>(body.size()), md5);
  }
  if (resp.status != 201) return ResponseError(resp, "put", blob);
  return Status::Ok();
}

Status AbsClient::PutBlock(const std::string& blob, const std::string& id,
                           const std::string& body) {
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.blob = blob;
  r.query = {{"comp", "block"}, {"blockid", id}};
  r.headers = {{"Content-MD5", Md5Base64(body)}};
  r.body = body;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "put block"));
  if (resp.status != 201) return ResponseError(resp, "put block", blob);
  return Status::Ok();
}

Status AbsClient::PutBlocks(const std::string& blob, const FileInfo& info,
                            base::Reader& data, std::string first_block) {
  const BlockIds ids;
  StreamHash hash;  // MD5 of the whole blob, stored with the block list
  // At most `concurrency` block buffers and threads
  // (storage/upload_parts.h).
  PartUpload parts;
  parts.size = info.size;
  parts.part_size = static_cast<int64_t>(first_block.size());
  parts.concurrency = opts_.concurrency;
  parts.what = "put " + Where(blob);
  parts.on_read = [&](const std::string& body) {
    hash.Update({reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  };
  parts.send = [&](int n, const std::string& body) {
    return PutBlock(blob, ids.Id(n - 1), body);
  };
  Result<int> sent = UploadParts(parts, data, std::move(first_block));
  std::string sha_unused, md5;
  hash.Finish(&sha_unused, &md5);
  // Uncommitted blocks are never listed and expire on their own.
  LK_RETURN_IF_ERROR(sent.status());
  const int blocks = *sent;

  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (int i = 0; i < blocks; ++i) {
    xml += "<Latest>" + XmlEscape(ids.Id(i)) + "</Latest>";
  }
  xml += "</BlockList>";
  Request r;
  r.method = "PUT";
  r.kind = Kind::kPut;
  r.blob = blob;
  r.query = {{"comp", "blocklist"}};
  r.headers = WriteHeaders(info);
  r.headers.emplace_back("x-ms-blob-content-type", "application/octet-stream");
  r.headers.emplace_back("x-ms-blob-content-md5", md5);
  r.headers.emplace_back("Content-Type", "application/xml");
  r.headers.emplace_back("Content-MD5", Md5Base64(xml));
  if (opts_.if_none_match) r.headers.emplace_back("If-None-Match", "*");
  r.body = xml;
  LK_ASSIGN_OR_RETURN(HttpResponse resp, Execute(r, "put block list"));
  if ((resp.status == 409 || resp.status == 412) && opts_.if_none_match) {
    return CheckExisting(blob, info.size, md5);
  }
  if (resp.status != 201) return ResponseError(resp, "put block list", blob);
  return Status::Ok();
}

Status AbsClient::WriteFile(const FileInfo& info, base::Reader& data) {
  const std::string blob = BlobName(info.level, info.min_txid, info.max_txid);
  if (info.size < 0) {
    return base::InvalidArgumentError("put " + Where(blob) + ": negative size");
  }
  const int64_t first = std::min(info.size, opts_.block_size);
  std::string body(static_cast<size_t>(first), '\0');
  LK_RETURN_IF_ERROR(
      data.ReadFull({reinterpret_cast<uint8_t*>(body.data()), body.size()})
          .WithContext("put " + Where(blob) + ": reading data"));
  LK_RETURN_IF_ERROR(info.size <= opts_.block_size
                         ? PutSingle(blob, info, body)
                         : PutBlocks(blob, info, data, std::move(body)));
  uint8_t extra;
  LK_ASSIGN_OR_RETURN(size_t n, data.Read({&extra, 1}));
  if (n != 0) {
    return base::InvalidArgumentError("put " + Where(blob) +
                                      ": data is longer than " +
                                      std::to_string(info.size) + " bytes");
  }
  return Status::Ok();
}

}  // namespace litekeep::storage::abs
