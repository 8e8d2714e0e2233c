// VFS test helpers.
#include "tests/support/vfs_util.h"

#include <cstdio>
#include <mutex>

#include "tests/support/test_util.h"

namespace litekeep::testing {

std::string VfsLibPath() { return BuildDir() + "/litekeep.so"; }

const std::vector<std::string>& VfsQueries() {
  static const std::vector<std::string> q = {
      "SELECT count(*), sum(qty), sum(length(data)) FROM items",
      "SELECT id, name, qty, hex(data) FROM items ORDER BY id",
      "SELECT name, count(*) FROM items INDEXED BY items_name "
      "WHERE name >= 'item-5' GROUP BY name ORDER BY name",
      "SELECT id, kind, length(payload), substr(payload, 1, 8) FROM events "
      "ORDER BY id",
      "SELECT kind, count(*), sum(length(payload)) FROM events GROUP BY kind "
      "ORDER BY kind",
      "SELECT owner, balance FROM accounts INDEXED BY accounts_owner "
      "ORDER BY owner, id",
      "SELECT id, qty FROM items WHERE id IN (1, 7, 100, 1234, 2500)",
      "SELECT name, type FROM sqlite_master ORDER BY name",
      "PRAGMA integrity_check",
  };
  return q;
}

std::string UriEscape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string VfsUri(const std::string& replica_url, const std::string& extra) {
  return "file:replica.db?vfs=litekeep&replica=" + UriEscape(replica_url) +
         extra;
}

namespace {

std::string LoadExtensionOnce() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    sqlite3* mem = nullptr;
    sqlite3_open(":memory:", &mem);
    sqlite3_enable_load_extension(mem, 1);
    char* e = nullptr;
    if (sqlite3_load_extension(mem, VfsLibPath().c_str(),
                               "sqlite3_litekeep_init", &e) != SQLITE_OK) {
      error = "load " + VfsLibPath() + ": " + (e ? e : "?");
      sqlite3_free(e);
    }
    sqlite3_close(mem);
  });
  return error;
}

}  // namespace

Db::Db(const std::string& uri, int flags) {
  if (uri.find("vfs=litekeep") != std::string::npos) {
    error_ = LoadExtensionOnce();
    if (!error_.empty()) return;
  }
  int rc = sqlite3_open_v2(uri.c_str(), &db_, flags | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    error_ = "open " + uri + ": " + (db_ ? sqlite3_errmsg(db_) : "?");
    sqlite3_close(db_);
    db_ = nullptr;
  }
}

Db::~Db() { sqlite3_close(db_); }

std::string Db::Query(const std::string& sql) {
  last_code_ = 0;
  std::string out;
  const char* next = sql.c_str();
  while (next != nullptr && *next != 0) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, next, -1, &st, &next);
    if (rc == SQLITE_OK && st == nullptr) break;  // only whitespace left
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        if (c > 0) out += "|";
        out += t ? reinterpret_cast<const char*>(t) : "";
      }
      out += "\n";
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
      last_code_ = sqlite3_extended_errcode(db_);
      out = "ERROR " + std::to_string(last_code_) + ": " + sqlite3_errmsg(db_);
      sqlite3_finalize(st);
      return out;
    }
    sqlite3_finalize(st);
  }
  return out;
}

std::string Db::Dump() {
  std::string out;
  for (const auto& q : VfsQueries()) out += Query(q) + "--\n";
  return out;
}

int64_t StatField(const std::string& stats, const std::string& field) {
  std::string key = " " + field + "=";
  std::string padded = " " + stats;
  size_t at = padded.find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(padded.substr(at + key.size()));
}

}  // namespace litekeep::testing
