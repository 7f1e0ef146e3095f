"""The other half of tests/faults/faultfs.cc: after the process that wrote under the shim was
killed, undo every write no fsync/fdatasync of its file followed, newest first, as a power cut
would have lost them."""
import os
import struct

HEADER = struct.Struct("<IIQQQ")  # kind, path length, offset, old size, saved length
WRITE, SYNC = 1, 2


def read_records(undo_path):
    records = []
    with open(undo_path, "rb") as f:
        data = f.read()
    at = 0
    while at + HEADER.size <= len(data):
        kind, path_len, offset, old_size, saved_len = HEADER.unpack_from(data, at)
        at += HEADER.size
        path = data[at:at + path_len].decode()
        at += path_len
        saved = data[at:at + saved_len]
        at += saved_len
        records.append((kind, path, offset, old_size, saved))
    assert at == len(data), "the undo log ends in a partial record"
    return records


def power_cut(undo_path):
    """Undoes the unsynced writes. Returns (writes undone, bytes undone, files touched)."""
    records = read_records(undo_path)
    last_sync = {}
    for i, (kind, path, *_rest) in enumerate(records):
        if kind == SYNC:
            last_sync[path] = i
    undone, lost_bytes, files = 0, 0, set()
    for i in range(len(records) - 1, -1, -1):
        kind, path, offset, old_size, saved = records[i]
        if kind != WRITE or i < last_sync.get(path, -1) or not os.path.exists(path):
            continue
        with open(path, "r+b") as f:
            size = os.fstat(f.fileno()).st_size
            lost_bytes += max(size - old_size, 0)
            f.seek(offset)
            f.write(saved)
            f.truncate(old_size)
        undone += 1
        files.add(os.path.basename(path))
    os.remove(undo_path)
    return undone, lost_bytes, sorted(files)
