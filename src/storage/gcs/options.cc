// ReplicaSettings -> GcsOptions, and the emulator switch.
#include "storage/gcs/options.h"

#include <cstdlib>

#include "storage/url.h"

namespace litekeep::storage::gcs {
namespace {

// The smallest resumable upload chunk GCS accepts (all but the last chunk
// must be a multiple of it).
constexpr int64_t kChunkQuantum = 256 << 10;

}  // namespace

base::Status CheckSettings(ReplicaSettings* s) {
  if (s->bucket.empty()) {
    return base::InvalidArgumentError(
        "gcs replica has no bucket (set `bucket:` or use gs://BUCKET/path)");
  }
  if (!s->endpoint.empty()) {
    s->endpoint = EnsureEndpointScheme(s->endpoint);
    if (RedactUrlText(s->endpoint) != s->endpoint) {
      return base::InvalidArgumentError(
          "gcs endpoint " + RedactUrlText(s->endpoint) +
          " carries credentials; use GOOGLE_APPLICATION_CREDENTIALS");
    }
  }
  if (s->part_size &&
      (*s->part_size < kChunkQuantum || *s->part_size % kChunkQuantum != 0)) {
    return base::InvalidArgumentError(
        "part-size: GCS resumable upload chunks are a multiple of 256KiB, "
        "got " +
        std::to_string(*s->part_size) + " bytes");
  }
  return base::Status::Ok();
}

Result<GcsOptions> OptionsFromSettings(const ReplicaSettings& s) {
  GcsOptions o;
  o.bucket = s.bucket;
  o.path = s.path;
  if (!s.endpoint.empty()) o.endpoint = s.endpoint;
  o.skip_verify = s.skip_verify;
  o.ca_bundle = s.ca_bundle;
  if (s.part_size) o.chunk_size = *s.part_size;
  // As Google's client libraries: the emulator host wins over any endpoint,
  // "host:port" means http, and requests go unauthenticated.
  if (const char* emu = std::getenv("STORAGE_EMULATOR_HOST");
      emu != nullptr && *emu != '\0') {
    std::string host = emu;
    if (host.find("://") == std::string::npos) host = "http://" + host;
    o.endpoint = host;
    o.anonymous = true;
  }
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  const size_t sep = o.endpoint.find("://");
  const std::string scheme =
      sep == std::string::npos ? "" : o.endpoint.substr(0, sep);
  if ((scheme != "http" && scheme != "https") || o.endpoint.size() <= sep + 3) {
    return base::InvalidArgumentError("gcs endpoint " +
                                      RedactUrlText(o.endpoint) +
                                      " must be http(s)://host[:port]");
  }
  return o;
}

}  // namespace litekeep::storage::gcs
