// The sqlite3_vfs shim of litekeep.so: registers the "litekeep" VFS whose
// main database files are served by vfs::Database (from the replica) and
// whose journals and temporary files go to the default VFS. Every callback
// is noexcept and maps a Status to a precise SQLITE_IOERR_* code. The only
// exported symbol is sqlite3_litekeep_init.
#include <sqlite3ext.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "vfs/database.h"

SQLITE_EXTENSION_INIT1

namespace litekeep::vfs {
namespace {

struct LkFile {
  sqlite3_file base;  // must be first
  Database* db;
};

sqlite3_vfs* g_default = nullptr;

int ToSqlite(const Status& s, int io_code) {
  switch (s.code()) {
    case base::Code::kOk:
      return SQLITE_OK;
    case base::Code::kCorrupt:
      return SQLITE_IOERR_CORRUPTFS;
    case base::Code::kPermissionDenied:
      return SQLITE_READONLY;
    default:
      return io_code;
  }
}

// Runs f, turning any escaping exception into an I/O error.
template <typename F>
int Guard(int io_code, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return SQLITE_IOERR_NOMEM;
  } catch (...) {
    Log(LogLevel::kError, "unexpected exception in a VFS callback");
    return io_code;
  }
}

Database* Db(sqlite3_file* f) { return reinterpret_cast<LkFile*>(f)->db; }

int Report(const Status& s, int io_code) {
  if (!s.ok()) Log(LogLevel::kWarn, s.ToString());
  return ToSqlite(s, io_code);
}

int XClose(sqlite3_file* f) noexcept {
  return Guard(SQLITE_IOERR_CLOSE, [&] {
    Database* db = Db(f);
    Status s = db->Close();
    delete db;
    reinterpret_cast<LkFile*>(f)->db = nullptr;
    return Report(s, SQLITE_IOERR_CLOSE);
  });
}

int XRead(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) noexcept {
  return Guard(SQLITE_IOERR_READ, [&] {
    bool short_read = false;
    Status s = Db(f)->Read(buf, amt, off, &short_read);
    if (!s.ok()) return Report(s, SQLITE_IOERR_READ);
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
  });
}

int XWrite(sqlite3_file* f, const void* buf, int amt,
           sqlite3_int64 off) noexcept {
  return Guard(SQLITE_IOERR_WRITE, [&] {
    return Report(Db(f)->Write(buf, amt, off), SQLITE_IOERR_WRITE);
  });
}

int XTruncate(sqlite3_file* f, sqlite3_int64 size) noexcept {
  return Guard(SQLITE_IOERR_TRUNCATE, [&] {
    return Report(Db(f)->Truncate(size), SQLITE_IOERR_TRUNCATE);
  });
}

int XSync(sqlite3_file*, int) noexcept { return SQLITE_OK; }

int XFileSize(sqlite3_file* f, sqlite3_int64* size) noexcept {
  return Guard(SQLITE_IOERR_FSTAT, [&] {
    *size = Db(f)->FileSize();
    return SQLITE_OK;
  });
}

int XLock(sqlite3_file* f, int level) noexcept {
  return Guard(SQLITE_IOERR_LOCK, [&] {
    return Report(Db(f)->Lock(static_cast<LockLevel>(level)),
                  SQLITE_IOERR_LOCK);
  });
}

int XUnlock(sqlite3_file* f, int level) noexcept {
  return Guard(SQLITE_IOERR_UNLOCK, [&] {
    Db(f)->Unlock(static_cast<LockLevel>(level));
    return SQLITE_OK;
  });
}

int XCheckReservedLock(sqlite3_file* f, int* out) noexcept {
  *out = Db(f)->lock_level() >= LockLevel::kReserved ? 1 : 0;
  return SQLITE_OK;
}

int XFileControl(sqlite3_file* f, int op, void* arg) noexcept {
  return Guard(SQLITE_IOERR, [&] {
    if (op == SQLITE_FCNTL_VFSNAME) {
      *static_cast<char**>(arg) = sqlite3_mprintf("litekeep");
      return SQLITE_OK;
    }
    if (op != SQLITE_FCNTL_PRAGMA) return SQLITE_NOTFOUND;
    char** args = static_cast<char**>(arg);
    auto r = Db(f)->Pragma(args[1], args[2]);
    if (!r) return SQLITE_NOTFOUND;
    if (!r->ok()) {
      args[0] = sqlite3_mprintf("%s", r->status().message().c_str());
      return SQLITE_ERROR;
    }
    args[0] = sqlite3_mprintf("%s", r->value().c_str());
    return SQLITE_OK;
  });
}

int XSectorSize(sqlite3_file*) noexcept { return 4096; }

int XDeviceCharacteristics(sqlite3_file*) noexcept {
  return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

const sqlite3_io_methods kIoMethods = {
    1,         XClose,         XRead,       XWrite,
    XTruncate, XSync,          XFileSize,   XLock,
    XUnlock,   XCheckReservedLock, XFileControl, XSectorSize,
    XDeviceCharacteristics,
    nullptr,   nullptr,        nullptr,     nullptr,
    nullptr,   nullptr};

int XOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
          int* out_flags) noexcept {
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0) {
    // Journals, temp databases, statement journals: plain local files.
    // The main database has no local file for the default VFS to copy
    // permissions from, so journals are opened as plain named files.
    if (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) {
      flags = (flags & ~(SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL)) |
              SQLITE_OPEN_TEMP_JOURNAL;
    }
    return g_default->xOpen(g_default, name, file, flags, out_flags);
  }
  return Guard(SQLITE_CANTOPEN, [&] {
    file->pMethods = nullptr;
    auto options = LoadOptions([&](const char* key) -> std::optional<std::string> {
      const char* v = name ? sqlite3_uri_parameter(name, key) : nullptr;
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    });
    if (!options.ok()) {
      Log(LogLevel::kError, options.status().ToString());
      return SQLITE_CANTOPEN;
    }
    auto db = Database::Open(*options);
    if (!db.ok()) {
      Log(LogLevel::kError, db.status().ToString());
      return SQLITE_CANTOPEN;
    }
    bool writable = (*db)->writable();
    auto* lk = reinterpret_cast<LkFile*>(file);
    lk->db = db->release();
    file->pMethods = &kIoMethods;
    if (out_flags != nullptr) {
      *out_flags = writable ? (flags & ~SQLITE_OPEN_READONLY)
                            : ((flags & ~(SQLITE_OPEN_READWRITE |
                                          SQLITE_OPEN_CREATE)) |
                               SQLITE_OPEN_READONLY);
    }
    return SQLITE_OK;
  });
}

bool IsSidecar(const char* name) {
  std::string_view n(name);
  for (std::string_view suffix : {"-journal", "-wal", "-shm"}) {
    if (n.size() > suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

int XDelete(sqlite3_vfs*, const char* name, int sync_dir) noexcept {
  return g_default->xDelete(g_default, name, sync_dir);
}

int XAccess(sqlite3_vfs*, const char* name, int flags, int* out) noexcept {
  // The main database "exists" (it is the replica); sidecar files are local.
  if (!IsSidecar(name)) {
    *out = flags == SQLITE_ACCESS_EXISTS || flags == SQLITE_ACCESS_READ ? 1 : 0;
    return SQLITE_OK;
  }
  return g_default->xAccess(g_default, name, flags, out);
}

int XFullPathname(sqlite3_vfs*, const char* name, int n, char* out) noexcept {
  return g_default->xFullPathname(g_default, name, n, out);
}

void* XDlOpen(sqlite3_vfs*, const char* name) noexcept {
  return g_default->xDlOpen(g_default, name);
}
void XDlError(sqlite3_vfs*, int n, char* msg) noexcept {
  g_default->xDlError(g_default, n, msg);
}
void (*XDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return g_default->xDlSym(g_default, h, sym);
}
void XDlClose(sqlite3_vfs*, void* h) noexcept {
  g_default->xDlClose(g_default, h);
}
int XRandomness(sqlite3_vfs*, int n, char* out) noexcept {
  return g_default->xRandomness(g_default, n, out);
}
int XSleep(sqlite3_vfs*, int us) noexcept {
  return g_default->xSleep(g_default, us);
}
int XCurrentTime(sqlite3_vfs*, double* t) noexcept {
  return g_default->xCurrentTime(g_default, t);
}
int XGetLastError(sqlite3_vfs*, int n, char* out) noexcept {
  return g_default->xGetLastError ? g_default->xGetLastError(g_default, n, out)
                                  : 0;
}
int XCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) noexcept {
  return g_default->xCurrentTimeInt64(g_default, t);
}

sqlite3_vfs g_vfs;

}  // namespace
}  // namespace litekeep::vfs

extern "C" __attribute__((visibility("default"))) int sqlite3_litekeep_init(
    sqlite3* db, char** error, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  using namespace litekeep::vfs;  // NOLINT(build/namespaces)
  if (sqlite3_vfs_find("litekeep") == nullptr) {
    g_default = sqlite3_vfs_find(nullptr);
    if (g_default == nullptr) {
      *error = sqlite3_mprintf("litekeep: no default VFS");
      return SQLITE_ERROR;
    }
    g_vfs = {};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = std::max<int>(sizeof(LkFile), g_default->szOsFile);
    g_vfs.mxPathname = g_default->mxPathname;
    g_vfs.zName = "litekeep";
    g_vfs.xOpen = XOpen;
    g_vfs.xDelete = XDelete;
    g_vfs.xAccess = XAccess;
    g_vfs.xFullPathname = XFullPathname;
    g_vfs.xDlOpen = XDlOpen;
    g_vfs.xDlError = XDlError;
    g_vfs.xDlSym = XDlSym;
    g_vfs.xDlClose = XDlClose;
    g_vfs.xRandomness = XRandomness;
    g_vfs.xSleep = XSleep;
    g_vfs.xCurrentTime = XCurrentTime;
    g_vfs.xGetLastError = XGetLastError;
    g_vfs.xCurrentTimeInt64 = XCurrentTimeInt64;
    int rc = sqlite3_vfs_register(&g_vfs, 0);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK_LOAD_PERMANENTLY;
}
