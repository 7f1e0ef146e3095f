#pragma once
// A SQLite VFS that wraps the platform's default one and gathers a transaction's writes to a
// WAL file into one write. SQLite writes each WAL frame as two pwrite calls (its 24-byte header,
// then the page), so a commit of 15 pages costs 30 system calls before its fsync; in a VM each
// costs several microseconds of CPU (the accept path's writer spent ~5% of the notification's
// CPU there). This VFS keeps contiguous appends to a WAL file in memory and writes them with one
// call before anything that could observe the file: sync, read, size, truncate, file control,
// memory map, close, or a write that is not an append (SQLite rewriting a frame in place).
//
// Safety rests on one property of SQLite's WAL with synchronous=FULL: a commit's frames are
// synced before the WAL index publishes them to other connections, and the sync is where this VFS
// writes them. Under synchronous=NORMAL there is no sync per commit, so connections opened with
// that durability must not use it (Connection::open picks the VFS by durability). Anything a
// crash could lose here was equally lost without the VFS: nothing is acknowledged before the sync.
// Other files (the database, its shared memory) pass straight through.

#include <cstdint>

namespace herald::store::sqlite {

// The VFS's registered name, for sqlite3_open_v2; registers it on first use (thread-safe).
const char* wal_gathering_vfs();

// How many writes this VFS has issued to WAL files in this process (for tests: a commit of many
// pages should be one).
std::uint64_t wal_writes_issued();

}  // namespace herald::store::sqlite
