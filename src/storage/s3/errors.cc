// Translation of S3 error answers into Status values that say what to check
// (clock skew, wrong region, unknown key id, missing bucket, ...).
#include "storage/s3/client_impl.h"
#include "storage/xml.h"

namespace litekeep::storage::s3 {

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
        (opts_.endpoint.empty() ? "AWS S3" : RedactUrlText(opts_.endpoint)) +
        " (" + detail + "); check bucket, endpoint and region");
  }
  if (r.status == 404) return base::NotFoundError(where + ": not found");
  if (RetryPolicy::RetryableStatus(r.status, code)) {
    return base::UnavailableError(where + ": " + detail);
  }
  if (r.status == 412) {
    return base::AlreadyExistsError(where + ": precondition failed (" + detail +
                                    ")");
  }
  return base::FailedPreconditionError(where + ": " + detail);
}

}  // namespace litekeep::storage::s3
