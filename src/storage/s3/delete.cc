// Deleting S3 objects: DeleteObjects in batches of 1000, and DeleteAll.
#include "storage/s3/client_impl.h"
#include "storage/s3/keys.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {

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

}  // namespace litekeep::storage::s3
