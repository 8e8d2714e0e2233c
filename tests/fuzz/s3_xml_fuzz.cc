// libFuzzer target: the S3 XML helpers (src/storage/xml.h) over arbitrary
// response bodies, with the tags the S3 client looks for. Also checks that
// escaping round-trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/xml.h"

using namespace litekeep::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (std::string_view tag :
       {"Contents", "Key", "ETag", "Size", "LastModified", "IsTruncated",
        "NextContinuationToken", "CommonPrefixes", "Prefix", "Code", "Message",
        "UploadId", "Error", "Deleted"}) {
    for (std::string_view block : XmlBlocks(xml, tag)) {
      (void)XmlText(block, "Key");
      (void)XmlUnescape(block);
    }
    (void)XmlText(xml, tag);
  }
  (void)XmlUnescape(xml);
  if (XmlUnescape(XmlEscape(xml)) != xml) __builtin_trap();
  return 0;
}
