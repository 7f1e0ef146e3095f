#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstddef>
#include <new>
#include <vector>

namespace herald::store::sqlite {
namespace {

// Pending appends beyond this are written out first. The unix VFS writes at most 128 KiB - 1
// bytes per call (it masks the length with 0x1ffff and reports the rest as a full disk), so a
// write never exceeds that: 31 frames of 4 KiB pages, more than a typical group commit.
constexpr std::size_t kMaxPending = 0x1ffff;

std::atomic<std::uint64_t> g_wal_writes{0};

// SQLite allocates szOsFile bytes per open file; this VFS's part comes first, the wrapped
// VFS's file right after it.
struct File {
  sqlite3_file base;  // first: what SQLite sees
  sqlite3_file* real = nullptr;
  bool gather = false;  // a WAL file
  sqlite3_int64 pending_at = 0;
  std::vector<char> pending;
};
constexpr std::size_t kFileSpace =
    (sizeof(File) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);

File& self(sqlite3_file* file) { return *reinterpret_cast<File*>(file); }
sqlite3_file* real(sqlite3_file* file) { return self(file).real; }
sqlite3_vfs* wrapped(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// Writes what is pending. On failure the pending bytes are dropped: they belong to a transaction
// that has not been synced, which SQLite rolls back on the error this returns.
int flush(File& f) {
  if (f.pending.empty()) return SQLITE_OK;
  g_wal_writes.fetch_add(1, std::memory_order_relaxed);
  const int rc = f.real->pMethods->xWrite(f.real, f.pending.data(), static_cast<int>(f.pending.size()), f.pending_at);
  f.pending.clear();
  return rc;
}

int x_close(sqlite3_file* file) {
  File& f = self(file);
  const int flushed = flush(f);
  const int closed = f.real->pMethods->xClose(f.real);
  f.~File();
  return flushed != SQLITE_OK ? flushed : closed;
}

int x_read(sqlite3_file* file, void* out, int n, sqlite3_int64 offset) {
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xRead(real(file), out, n, offset);
}

int x_write(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
  File& f = self(file);
  if (!f.gather) return f.real->pMethods->xWrite(f.real, data, n, offset);
  const auto size = static_cast<std::size_t>(n);
  const bool appends = f.pending.empty() || offset == f.pending_at + static_cast<sqlite3_int64>(f.pending.size());
  if (!appends || f.pending.size() + size > kMaxPending) {
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (size > kMaxPending) {
    g_wal_writes.fetch_add(1, std::memory_order_relaxed);
    return f.real->pMethods->xWrite(f.real, data, n, offset);
  }
  try {
    if (f.pending.empty()) f.pending_at = offset;
    const auto* bytes = static_cast<const char*>(data);
    f.pending.insert(f.pending.end(), bytes, bytes + size);
  } catch (const std::bad_alloc&) {
    f.pending.clear();
    return SQLITE_IOERR_NOMEM;
  }
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xTruncate(real(file), size);
}

int x_sync(sqlite3_file* file, int flags) {
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xSync(real(file), flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xFileSize(real(file), size);
}

int x_lock(sqlite3_file* file, int level) { return real(file)->pMethods->xLock(real(file), level); }
int x_unlock(sqlite3_file* file, int level) { return real(file)->pMethods->xUnlock(real(file), level); }
int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return real(file)->pMethods->xCheckReservedLock(real(file), out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  return real(file)->pMethods->xFileControl(real(file), op, arg);
}

int x_sector_size(sqlite3_file* file) { return real(file)->pMethods->xSectorSize(real(file)); }
int x_device_characteristics(sqlite3_file* file) { return real(file)->pMethods->xDeviceCharacteristics(real(file)); }

// Shared memory and memory-mapped reads exist from io_methods version 2 and 3.
int x_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  auto* r = real(file);
  if (r->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return r->pMethods->xShmMap(r, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  auto* r = real(file);
  if (r->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return r->pMethods->xShmLock(r, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* file) {
  auto* r = real(file);
  if (r->pMethods->iVersion >= 2) r->pMethods->xShmBarrier(r);
}
int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  auto* r = real(file);
  if (r->pMethods->iVersion < 2) return SQLITE_OK;
  return r->pMethods->xShmUnmap(r, delete_flag);
}
int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int n, void** out) {
  *out = nullptr;
  if (const int rc = flush(self(file)); rc != SQLITE_OK) return rc;
  auto* r = real(file);
  if (r->pMethods->iVersion < 3) return SQLITE_OK;  // no mapping: SQLite reads instead
  return r->pMethods->xFetch(r, offset, n, out);
}
int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  auto* r = real(file);
  if (r->pMethods->iVersion < 3) return SQLITE_OK;
  return r->pMethods->xUnfetch(r, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* f = new (file) File{};
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kFileSpace);
  f->gather = (flags & SQLITE_OPEN_WAL) != 0;
  const int rc = wrapped(vfs)->xOpen(wrapped(vfs), name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set after xOpen, even after a failed open; the
  // wrapped file decides.
  if (f->real->pMethods == nullptr) {
    f->~File();
    return rc;
  }
  f->base.pMethods = &kMethods;
  return rc;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return wrapped(vfs)->xDelete(wrapped(vfs), name, sync_dir);
}
int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return wrapped(vfs)->xAccess(wrapped(vfs), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return wrapped(vfs)->xFullPathname(wrapped(vfs), name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) { return wrapped(vfs)->xDlOpen(wrapped(vfs), name); }
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) { wrapped(vfs)->xDlError(wrapped(vfs), n, out); }
void (*x_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))() {
  return wrapped(vfs)->xDlSym(wrapped(vfs), handle, symbol);
}
void x_dl_close(sqlite3_vfs* vfs, void* handle) { wrapped(vfs)->xDlClose(wrapped(vfs), handle); }
int x_randomness(sqlite3_vfs* vfs, int n, char* out) { return wrapped(vfs)->xRandomness(wrapped(vfs), n, out); }
int x_sleep(sqlite3_vfs* vfs, int micros) { return wrapped(vfs)->xSleep(wrapped(vfs), micros); }
int x_current_time(sqlite3_vfs* vfs, double* out) { return wrapped(vfs)->xCurrentTime(wrapped(vfs), out); }
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) { return wrapped(vfs)->xGetLastError(wrapped(vfs), n, out); }
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  auto* w = wrapped(vfs);
  if (w->iVersion >= 2 && w->xCurrentTimeInt64 != nullptr) return w->xCurrentTimeInt64(w, out);
  double days = 0;
  const int rc = w->xCurrentTime(w, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

constexpr const char* kName = "herald-wal-gather";

sqlite3_vfs* registered() {
  static sqlite3_vfs* vfs = [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    auto* v = new sqlite3_vfs{};  // lives as long as the process, as SQLite requires
    v->iVersion = 2;
    v->szOsFile = static_cast<int>(kFileSpace) + base->szOsFile;
    v->mxPathname = base->mxPathname;
    v->zName = kName;
    v->pAppData = base;
    v->xOpen = x_open;
    v->xDelete = x_delete;
    v->xAccess = x_access;
    v->xFullPathname = x_full_pathname;
    v->xDlOpen = x_dl_open;
    v->xDlError = x_dl_error;
    v->xDlSym = x_dl_sym;
    v->xDlClose = x_dl_close;
    v->xRandomness = x_randomness;
    v->xSleep = x_sleep;
    v->xCurrentTime = x_current_time;
    v->xGetLastError = x_get_last_error;
    v->xCurrentTimeInt64 = x_current_time_int64;
    sqlite3_vfs_register(v, 0);
    return v;
  }();
  return vfs;
}

}  // namespace

const char* wal_gathering_vfs() { return registered()->zName; }

std::uint64_t wal_writes_issued() { return g_wal_writes.load(std::memory_order_relaxed); }

}  // namespace herald::store::sqlite
