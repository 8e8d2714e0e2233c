// SQLite database header parsing.
#include "sqlite/db_header.h"

#include <cstring>
#include <string>

#include "base/coding.h"

namespace litekeep::sqlite {

Result<DbHeader> DbHeader::Decode(std::span<const uint8_t> in) {
  static const char kMagic[] = "SQLite format 3";  // 16 bytes with NUL
  if (in.size() < kDbHeaderSize || std::memcmp(in.data(), kMagic, 16) != 0) {
    return base::CorruptError("not a SQLite database (bad header)");
  }
  DbHeader h;
  uint16_t ps = base::GetBE16(in.data() + 16);
  h.page_size = ps == 1 ? 65536u : ps;
  h.write_version = in[18];
  h.read_version = in[19];
  uint32_t change_counter = base::GetBE32(in.data() + 24);
  uint32_t valid_for = base::GetBE32(in.data() + 92);
  if (change_counter == valid_for) h.page_count = base::GetBE32(in.data() + 28);
  if (h.page_size < 512 || h.page_size > 65536 ||
      (h.page_size & (h.page_size - 1)) != 0) {
    return base::CorruptError("database header has invalid page size " +
                              std::to_string(h.page_size));
  }
  return h;
}

Result<DbHeader> ReadDbHeader(const base::File& db) {
  uint8_t buf[kDbHeaderSize];
  LK_ASSIGN_OR_RETURN(size_t n, db.ReadAt(buf, sizeof(buf), 0));
  if (n == 0) return base::NotFoundError(db.path() + ": database is empty");
  auto h = DbHeader::Decode({buf, n});
  if (!h.ok()) return h.status().WithContext(db.path());
  return h;
}

}  // namespace litekeep::sqlite
