// S3 timestamp text forms (object keys are built and parsed by
// storage/layout.*; the RFC 3339 parser and formatter live in base/).
#include "storage/s3/keys.h"

#include "base/rfc3339.h"

namespace litekeep::storage::s3 {

std::string FormatTimestamp(TimePoint t) { return base::FormatRfc3339Nano(t); }

std::optional<TimePoint> ParseTimestamp(std::string_view text) {
  auto t = base::ParseRfc3339(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

}  // namespace litekeep::storage::s3
