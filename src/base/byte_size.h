// Byte sizes ("5MiB", "10MB", "1.5 GiB"): the one parser used by the config
// file and the VFS. docs/config.md ("Value types") documents the meaning.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace litekeep::base {

// Parses a non-negative number (decimals allowed) with an optional unit,
// case-insensitive, spaces allowed around and between: none or B (bytes),
// K/KB, M/MB, G/GB, T/TB (powers of 1000, as go-humanize and Litestream read
// them) and KiB, MiB, GiB, TiB (also Ki, Mi, Gi, Ti; powers of 1024). A
// fraction of a byte is dropped. A value above INT64_MAX bytes is refused,
// never wrapped. Errors are InvalidArgument naming the text.
Result<int64_t> ParseByteSize(std::string_view text);

}  // namespace litekeep::base
