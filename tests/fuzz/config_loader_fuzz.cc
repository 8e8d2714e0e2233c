// libFuzzer target: the config loader (src/config/config.h): YAML text in,
// a Config or an error out. Environment expansion is on, as for a real
// config file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"

using namespace litekeep;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  (void)config::Parse(yaml, "fuzz.yml", /*expand_env=*/true);
  (void)config::Parse(yaml, "fuzz.yml", /*expand_env=*/false);
  return 0;
}
