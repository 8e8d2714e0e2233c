// The 100-byte SQLite database header: page size, page count, journal mode
// bytes. See https://www.sqlite.org/fileformat2.html#database_header.
#pragma once

#include <cstdint>
#include <span>

#include "base/io.h"
#include "base/status.h"

namespace litekeep::sqlite {

inline constexpr size_t kDbHeaderSize = 100;

struct DbHeader {
  uint32_t page_size = 0;      // bytes (65536 when the field is 1)
  uint32_t page_count = 0;     // in-header size, 0 when not valid
  uint8_t write_version = 0;   // 1 legacy, 2 WAL
  uint8_t read_version = 0;
  bool wal_mode() const { return write_version == 2 && read_version == 2; }
  // Parses the header; kCorrupt when the magic is wrong.
  static Result<DbHeader> Decode(std::span<const uint8_t> in);
};

// Reads the header of a database file (kNotFound if the file is empty).
Result<DbHeader> ReadDbHeader(const base::File& db);

}  // namespace litekeep::sqlite
