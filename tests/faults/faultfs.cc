// faultfs: an LD_PRELOAD library for the fault-injection suite (tests/faults/test_faults.py).
// It watches writes to files under one directory and can do two things to them:
//
// - Power loss. Before every write or truncation of a watched file it appends an undo record
//   (the bytes and size it replaces) to an undo log; after every fsync/fdatasync of the file it
//   appends a "synced" record. After the process is killed (SIGKILL), `faultfs_rollback` (the
//   suite's replay, tests/faults/faultfs.py) undoes, newest first, every write not followed by
//   a sync of its file: the files are left as a machine that lost power would have left them
//   (the page cache gone, only what reached the disk kept). Directory entries are not modelled:
//   a file created and never synced keeps existing (with its unsynced bytes undone).
// - A full disk. While the file named by FAULTFS_ENOSPC exists, a write that would grow a
//   watched file fails with ENOSPC (writes inside its current size still succeed, as they would
//   on a real file system whose blocks are already allocated).
//
// Environment: FAULTFS_DIR (the watched directory, an absolute path), FAULTFS_UNDO (the undo log;
// unset: no undo records), FAULTFS_ENOSPC (the switch file; unset: never full), FAULTFS_NO_SYNC
// (set: syncs are not recorded, as from a disk that acknowledges flushes it never did: the
// suite's control, which must lose acknowledged data).
//
// Undo record, little-endian: u32 kind (1 write, 2 sync), u32 path length, u64 offset,
// u64 old size, u64 saved length, then the path and the saved bytes (the old content of
// [offset, offset + saved length)). A truncation is a write record at the new size.

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using WritevFn = ssize_t (*)(int, const struct iovec*, int);
using SyncFn = int (*)(int);
using TruncateFn = int (*)(int, off_t);

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The watched file's path, or empty when `fd` is not a regular file under FAULTFS_DIR.
std::string watched_path(int fd) {
  const char* dir = env("FAULTFS_DIR");
  if (dir == nullptr) return {};
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[4096];
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return {};
  target[n] = '\0';
  const size_t len = std::strlen(dir);
  if (std::strncmp(target, dir, len) != 0 || (target[len] != '/' && target[len] != '\0')) return {};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return target;
}

off_t size_of(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_size : 0;
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// Appends one record to the undo log (one write(2) under the mutex: records never interleave).
void append_undo(uint32_t kind, const std::string& path, uint64_t offset, uint64_t old_size, const std::string& saved) {
  const char* undo = env("FAULTFS_UNDO");
  if (undo == nullptr) return;
  std::string record;
  put_u32(record, kind);
  put_u32(record, static_cast<uint32_t>(path.size()));
  put_u64(record, offset);
  put_u64(record, old_size);
  put_u64(record, saved.size());
  record += path;
  record += saved;
  static const WriteFn real_write = next<WriteFn>("write");
  const int fd = open(undo, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();  // the test cannot prove anything without its log
  if (real_write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size())) std::abort();
  close(fd);
}

// Saves what [offset, offset + len) of the file holds now, before it is overwritten.
void note_write(int fd, const std::string& path, off_t offset, size_t len) {
  const off_t old_size = size_of(fd);
  std::string saved;
  if (offset < old_size) {
    saved.resize(static_cast<size_t>(std::min<off_t>(old_size - offset, static_cast<off_t>(len))));
    ssize_t got = pread(fd, saved.data(), saved.size(), offset);
    saved.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  append_undo(1, path, static_cast<uint64_t>(offset), static_cast<uint64_t>(old_size), saved);
}

bool disk_full() {
  const char* flag = env("FAULTFS_ENOSPC");
  return flag != nullptr && access(flag, F_OK) == 0;
}

// Runs `write` for a watched file with its undo record and the full-disk check; `offset` < 0:
// the file position (or the end, for O_APPEND).
template <typename Write>
ssize_t guarded(int fd, off_t offset, size_t len, Write write) {
  const std::string path = watched_path(fd);
  if (path.empty()) return write();
  pthread_mutex_lock(&g_mutex);
  if (offset < 0) {
    const int flags = fcntl(fd, F_GETFL);
    offset = (flags & O_APPEND) != 0 ? size_of(fd) : lseek(fd, 0, SEEK_CUR);
  }
  if (disk_full() && offset + static_cast<off_t>(len) > size_of(fd)) {
    pthread_mutex_unlock(&g_mutex);
    errno = ENOSPC;
    return -1;
  }
  note_write(fd, path, offset, len);
  const ssize_t done = write();
  pthread_mutex_unlock(&g_mutex);
  return done;
}

int synced(int fd, int result) {
  if (result == 0 && env("FAULTFS_NO_SYNC") == nullptr) {
    const std::string path = watched_path(fd);
    if (!path.empty()) {
      pthread_mutex_lock(&g_mutex);
      append_undo(2, path, 0, 0, {});
      pthread_mutex_unlock(&g_mutex);
    }
  }
  return result;
}

int truncated(int fd, off_t length, TruncateFn real) {
  const std::string path = watched_path(fd);
  if (path.empty()) return real(fd, length);
  pthread_mutex_lock(&g_mutex);
  const off_t old_size = size_of(fd);
  note_write(fd, path, std::min(length, old_size), static_cast<size_t>(std::max<off_t>(old_size - length, 0)));
  const int done = real(fd, length);
  pthread_mutex_unlock(&g_mutex);
  return done;
}

size_t total(const struct iovec* iov, int count) {
  size_t n = 0;
  for (int i = 0; i < count; ++i) n += iov[i].iov_len;
  return n;
}

}  // namespace

extern "C" {

ssize_t pwrite64(int fd, const void* buf, size_t len, off_t offset) {
  static const PwriteFn real = next<PwriteFn>("pwrite64");
  return guarded(fd, offset, len, [&] { return real(fd, buf, len, offset); });
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t offset) {
  static const PwriteFn real = next<PwriteFn>("pwrite");
  return guarded(fd, offset, len, [&] { return real(fd, buf, len, offset); });
}

ssize_t write(int fd, const void* buf, size_t len) {
  static const WriteFn real = next<WriteFn>("write");
  if (fd <= 2) return real(fd, buf, len);  // standard streams: never watched, and hot (logs)
  return guarded(fd, -1, len, [&] { return real(fd, buf, len); });
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static const WritevFn real = next<WritevFn>("writev");
  if (fd <= 2) return real(fd, iov, count);
  return guarded(fd, -1, total(iov, count), [&] { return real(fd, iov, count); });
}

int fsync(int fd) {
  static const SyncFn real = next<SyncFn>("fsync");
  return synced(fd, real(fd));
}

int fdatasync(int fd) {
  static const SyncFn real = next<SyncFn>("fdatasync");
  return synced(fd, real(fd));
}

int ftruncate(int fd, off_t length) {
  static const TruncateFn real = next<TruncateFn>("ftruncate");
  return truncated(fd, length, real);
}

int ftruncate64(int fd, off_t length) {
  static const TruncateFn real = next<TruncateFn>("ftruncate64");
  return truncated(fd, length, real);
}

}  // extern "C"
