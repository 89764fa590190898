"""Atomic, checksummed records on a small filesystem (SPEC R12).

A record is one file: a 12-byte header (magic, payload length, CRC32 of the
payload, both little-endian u32) and the payload. `write` never changes the
record in place:

1. recover first (below), so a pending good copy is never overwritten;
2. write `name.new` (header, then the payload in chunks), close it;
3. read `name.new` back and check length and CRC; a bad copy is removed and
   StorageError raised, the old record untouched;
4. rename `name.new` over `name`. littlefs (and POSIX) replace the target
   atomically. FAT refuses to rename onto an existing file, so there the old
   `name` is removed first and then renamed.

Recovery rule, used by `read` and at the start of every `write`:
`name` valid -> it is the record (a left-over `name.new` is an unfinished
newer write and is ignored until the next write replaces it);
`name` missing or invalid and `name.new` valid -> `name.new` is the record
(it was verified before anything touched `name`: the cut came between the
remove and the rename); `write` promotes it before writing anything else.
`name` missing and `name.new` absent or torn -> "missing" (a first write
that never completed); `name` present but invalid and no valid `name.new`
-> "corrupt" (bit rot: the caller falls back to its safe default). A torn
`name.new` never passes the length and CRC check, so no state reads as a
half-written record.

`fs` is anything with open(name, mode) (modes "rb"/"wb", files with read,
write, close), rename(old, new), remove(name), listdir() and size(name)
(None when missing): `BoardFs` on the board, simulator.flash.FlashFs in tests.
Writes allocate and take flash time: call them outside the control tick.
"""
try:
    from binascii import crc32 as _crc32
except ImportError:
    _crc32 = None

MAGIC = b"ITR1"
HEADER_BYTES = 12
NEW_SUFFIX = ".new"
_CHUNK = 256

OK = "ok"
RECOVERED = "recovered"
MISSING = "missing"
CORRUPT = "corrupt"

_table = None


def _crc32_soft(data, crc=0):
    # For ports built without binascii.crc32; same polynomial and result.
    global _table
    if _table is None:
        _table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            _table.append(c)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    if _crc32 is None:
        return _crc32_soft(data, crc)
    return _crc32(data, crc) & 0xFFFFFFFF


class StorageError(Exception):
    """A write that could not be verified; the old record is intact."""


def _u32(n):
    return n.to_bytes(4, "little")


def header(payload):
    return MAGIC + _u32(len(payload)) + _u32(crc32(payload))


class Storage:
    def __init__(self, fs):
        self.fs = fs

    # -- reading -----------------------------------------------------------------

    def _load(self, fname):
        """(payload, OK) if the file holds a whole valid record."""
        fs = self.fs
        size = fs.size(fname)
        if size is None:
            return None, MISSING
        if size < HEADER_BYTES:
            return None, CORRUPT
        try:
            with fs.open(fname, "rb") as f:
                data = f.read()
        except OSError:
            return None, CORRUPT
        if len(data) < HEADER_BYTES or data[:4] != MAGIC:
            return None, CORRUPT
        length = int.from_bytes(data[4:8], "little")
        if len(data) != HEADER_BYTES + length:
            return None, CORRUPT
        payload = data[HEADER_BYTES:]
        if crc32(payload) != int.from_bytes(data[8:12], "little"):
            return None, CORRUPT
        return bytes(payload), OK

    def read(self, name):
        """(payload bytes, reason): reason "ok" or "recovered" with a payload;
        "missing" or "corrupt" with None."""
        payload, status = self._load(name)
        if status == OK:
            return payload, OK
        newer, new_status = self._load(name + NEW_SUFFIX)
        if new_status == OK:
            return newer, RECOVERED
        if status == MISSING:
            # Never committed: a torn pending copy is an unfinished first write.
            return None, MISSING
        return None, CORRUPT

    def exists(self, name):
        return self.fs.size(name) is not None or self.fs.size(name + NEW_SUFFIX) is not None

    # -- writing -----------------------------------------------------------------

    def _replace(self, src, dst):
        fs = self.fs
        try:
            fs.rename(src, dst)
        except OSError:
            # FAT: rename does not replace. Remove, then rename; a cut between
            # the two leaves only the verified `src`, which read() accepts.
            # Never remove `dst` unless `src` is there to take its place.
            if fs.size(src) is None:
                raise
            if fs.size(dst) is not None:
                fs.remove(dst)
            fs.rename(src, dst)

    def _recover(self, name):
        _, status = self._load(name)
        if status == OK:
            return
        _, new_status = self._load(name + NEW_SUFFIX)
        if new_status == OK:
            self._replace(name + NEW_SUFFIX, name)

    def write(self, name, payload):
        """Replace the record `name` with `payload` (bytes), atomically."""
        payload = bytes(payload)
        fs = self.fs
        tmp = name + NEW_SUFFIX
        self._recover(name)
        with fs.open(tmp, "wb") as f:
            f.write(header(payload))
            for i in range(0, len(payload), _CHUNK):
                f.write(payload[i:i + _CHUNK])
        check, status = self._load(tmp)
        if status != OK or check != payload:
            fs.remove(tmp)
            raise StorageError("verify failed writing " + name)
        self._replace(tmp, name)

    def remove(self, name):
        """Drop a record and any pending copy (the pending copy first, so a
        cut in between cannot bring the record back)."""
        fs = self.fs
        for fname in (name + NEW_SUFFIX, name):
            if fs.size(fname) is not None:
                fs.remove(fname)


class BoardFs:
    """The fs interface over MicroPython's VFS (littlefs or FAT) on the board.

    `root` is a directory for the records ("" for the current directory);
    it is created if missing.
    """

    def __init__(self, root="/data"):
        import os
        self._os = os
        self.root = root
        if root:
            try:
                os.stat(root)
            except OSError:
                os.mkdir(root)

    def _path(self, name):
        return self.root + "/" + name if self.root else name

    def open(self, name, mode):
        return open(self._path(name), mode)

    def rename(self, old, new):
        self._os.rename(self._path(old), self._path(new))

    def remove(self, name):
        self._os.remove(self._path(name))

    def listdir(self):
        return self._os.listdir(self.root) if self.root else self._os.listdir()

    def size(self, name):
        try:
            return self._os.stat(self._path(name))[6]
        except OSError:
            return None
