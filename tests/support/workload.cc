// Test workload and content fingerprint.
#include "tests/support/workload.h"

#include <sqlite3.h>

#include <random>
#include <vector>

#include "tests/support/test_util.h"

namespace litekeep::testing {
namespace {

bool Exec(sqlite3* db, const std::string& sql, std::string* err) {
  char* e = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e) != SQLITE_OK) {
    *err = sql.substr(0, 80) + ": " + (e ? e : "error");
    sqlite3_free(e);
    return false;
  }
  return true;
}

}  // namespace

std::string RunWorkload(const std::string& db_path, const WorkloadOptions& opts) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::string e = sqlite3_errmsg(db);
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 10000);
  std::string err;
  std::mt19937_64 rng(opts.seed);
  auto ok = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", &err) &&
            Exec(db,
                 "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, "
                 "name TEXT, qty INTEGER, data BLOB);"
                 "CREATE INDEX IF NOT EXISTS items_name ON items(name);"
                 "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, "
                 "kind TEXT, payload TEXT);",
                 &err);
  for (int i = 0; ok && i < opts.transactions; ++i) {
    std::string sql;
    if (i == opts.drop_recreate_at) {
      sql = "DROP TABLE events; CREATE TABLE events(id INTEGER PRIMARY KEY, "
            "kind TEXT, payload TEXT);";
    } else if (i == opts.vacuum_at) {
      ok = Exec(db, "VACUUM", &err);
      if (ok && opts.after_commit) opts.after_commit(i);
      continue;
    } else {
      int kind = static_cast<int>(rng() % 10);
      int64_t id = static_cast<int64_t>(rng() % (i + 10)) + 1;
      if (kind < 5) {
        sql = "INSERT INTO items(name, qty, data) VALUES('item-" +
              std::to_string(rng() % 100000) + "', " + std::to_string(i) +
              ", randomblob(" + std::to_string(rng() % 600) + "));";
      } else if (kind < 7) {
        sql = "UPDATE items SET qty = qty + 1, name = 'upd-" + std::to_string(i) +
              "' WHERE id = " + std::to_string(id) + ";";
      } else if (kind < 8) {
        sql = "DELETE FROM items WHERE id = " + std::to_string(id) + ";";
      } else {
        sql = "INSERT INTO events(kind, payload) VALUES('k" +
              std::to_string(kind) + "', printf('%.*c', " +
              std::to_string(rng() % 2000) + ", 'x'));";
      }
    }
    ok = Exec(db, "BEGIN;" + sql + "COMMIT;", &err);
    if (ok && opts.after_commit) opts.after_commit(i);
  }
  sqlite3_close(db);
  return ok ? "" : err;
}

std::string ContentHash(const std::string& db_path) {
  sqlite3* db = nullptr;
  std::string acc;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return "open failed";
  }
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name, sql FROM sqlite_master ORDER BY type, name",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const unsigned char* sql = sqlite3_column_text(st, 1);
    acc += name + "|" + (sql ? reinterpret_cast<const char*>(sql) : "") + "\n";
    if (sql && std::string(reinterpret_cast<const char*>(sql)).rfind("CREATE TABLE", 0) == 0) {
      tables.push_back(name);
    }
  }
  sqlite3_finalize(st);
  for (const auto& t : tables) {
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\" ORDER BY rowid").c_str(),
                       -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const void* b = sqlite3_column_blob(st, c);
        int n = sqlite3_column_bytes(st, c);
        acc += std::to_string(sqlite3_column_type(st, c)) + ":";
        if (b) acc.append(static_cast<const char*>(b), static_cast<size_t>(n));
        acc += "|";
      }
      acc += "\n";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return Sha256Hex(acc);
}

}  // namespace litekeep::testing
