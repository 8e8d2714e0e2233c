// libFuzzer target: the replica URL parser and redaction
// (src/storage/url.h). Also checks a promise: Describe never prints a
// secret that the URL put into the settings.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "config/config.h"
#include "storage/url.h"

using namespace litekeep;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view url(reinterpret_cast<const char*>(data), size);
  (void)storage::IsUrl(url);
  std::set<std::string> keys;
  auto settings = storage::ParseReplicaUrl(url, &keys);
  if (settings.ok()) {
    std::string text = storage::Describe(*settings);
    const storage::ReplicaSettings& r = *settings;
    std::string open = r.path + " " + r.bucket + " " + r.region + " " +
                       r.endpoint + " " + r.access_key_id + " " + r.profile;
    for (const std::string* secret :
         {&r.secret_access_key, &r.session_token, &r.sse_customer_key}) {
      // Short secrets, or ones also written in a non-secret part, may show
      // up legitimately.
      if (secret->size() < 6 || open.find(*secret) != std::string::npos)
        continue;
      if (text.find(*secret) != std::string::npos) __builtin_trap();
    }
  }
  (void)storage::RedactUrlText(url);
  (void)storage::EnsureEndpointScheme(url);
  (void)config::ParseReplicaUrl(url);
  return 0;
}
