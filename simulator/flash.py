"""An emulated flash filesystem with power cuts, for proving SPEC R12.

Implements the fs interface of firmware/session/storage.py (open, rename,
remove, listdir, size) in memory. Runs under CPython and MicroPython alike.

Usage::

    fs = FlashFs(seed=3)                  # littlefs-like: rename replaces
    fs = FlashFs(seed=3, rename_replaces=False)   # FAT-like: remove, then rename
    fs.cut_at(5)             # the 5th write point from now loses power
    ...                      # the firmware raises PowerLost at that point
    fs.power_on()            # back up: what reached the flash is all there is
    fs.points                # write points since construction
    img = fs.image(); FlashFs.from_image(img, seed)   # copy the flash contents
    fs.corrupt("profile", 20)                          # flip a byte (bit rot)

Write points: opening a file for writing (it is created or truncated at
once), every write() call, every rename and every remove. At the cut point
the operation is torn: a write keeps a random prefix of its data (possibly
none, possibly all of it); a rename, remove or truncating open is a
metadata commit and either happens or not (also chosen at random). The
operation then raises PowerLost, and every later operation, reads
included, raises PowerLost too until power_on(): the CPU is off, nothing
after the cut reaches the flash. The seed makes every choice reproducible;
the generator is xorshift32, bit-identical on both VMs.

Written data is visible at once, before close(): harsher than littlefs,
which drops an uncommitted file altogether, and as harsh as FAT.
"""
try:
    import errno
    _ENOENT = errno.ENOENT
    _EEXIST = errno.EEXIST
except ImportError:
    _ENOENT = 2
    _EEXIST = 17

_MASK32 = 0xFFFFFFFF


class PowerLost(BaseException):
    """The power failed at a write point. A BaseException, so firmware code
    that catches Exception or OSError cannot carry on writing after it."""


class _Rng:
    def __init__(self, seed):
        x = (int(seed) * 2654435761 + 0x9E3779B9) & _MASK32
        self.x = x or 0x6D2B79F5

    def below(self, n):
        """A number in [0, n)."""
        x = self.x
        x ^= (x << 13) & _MASK32
        x ^= x >> 17
        x ^= (x << 5) & _MASK32
        self.x = x
        return x % n if n > 0 else 0


class _File:
    def __init__(self, fs, name, writing):
        self.fs = fs
        self.name = name
        self.writing = writing
        self.pos = 0
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def read(self, n=-1):
        fs = self.fs
        fs._alive()
        data = fs.files.get(self.name)
        if data is None or self.closed:
            raise OSError(_ENOENT)
        end = len(data) if n is None or n < 0 else min(len(data), self.pos + n)
        out = bytes(data[self.pos:end])
        self.pos = end
        return out

    def write(self, data):
        fs = self.fs
        if self.closed or not self.writing:
            raise OSError(_ENOENT)
        data = bytes(data)
        if fs._point():
            keep = fs.rng.below(len(data) + 1)
            fs._file(self.name).extend(data[:keep])
            raise PowerLost("write %s" % self.name)
        fs._file(self.name).extend(data)
        return len(data)

    def close(self):
        self.closed = True


class FlashFs:
    def __init__(self, seed=0, rename_replaces=True):
        self.files = {}
        self.rng = _Rng(seed)
        self.rename_replaces = rename_replaces
        self.points = 0
        self.cuts = 0
        self._cut_at = 0
        self.dead = False

    @classmethod
    def from_image(cls, image, seed=0, rename_replaces=True):
        fs = cls(seed, rename_replaces)
        for name in image:
            fs.files[name] = bytearray(image[name])
        return fs

    def image(self):
        """The flash contents: {name: bytes}."""
        out = {}
        for name in self.files:
            out[name] = bytes(self.files[name])
        return out

    # -- power ---------------------------------------------------------------------

    def cut_at(self, n):
        """Lose power at the n-th write point from now (1 = the next one)."""
        self._cut_at = self.points + n if n > 0 else 0

    def power_on(self):
        self.dead = False
        self._cut_at = 0

    def _alive(self):
        if self.dead:
            raise PowerLost("power is off")

    def _point(self):
        """Count a write point; True if the power fails during it."""
        self._alive()
        self.points += 1
        if self._cut_at and self.points >= self._cut_at:
            self.dead = True
            self.cuts += 1
            self._cut_at = 0
            return True
        return False

    def _file(self, name):
        f = self.files.get(name)
        if f is None:
            f = bytearray()
            self.files[name] = f
        return f

    # -- the fs interface ----------------------------------------------------------

    def open(self, name, mode):
        if "w" in mode:
            if self._point():
                if self.rng.below(2):
                    self.files[name] = bytearray()
                raise PowerLost("open %s" % name)
            self.files[name] = bytearray()
            return _File(self, name, True)
        self._alive()
        if name not in self.files:
            raise OSError(_ENOENT)
        return _File(self, name, False)

    def rename(self, old, new):
        self._alive()
        if old not in self.files:
            raise OSError(_ENOENT)
        if new in self.files and not self.rename_replaces:
            raise OSError(_EEXIST)
        if self._point():
            if self.rng.below(2):
                self.files[new] = self.files.pop(old)
            raise PowerLost("rename %s" % old)
        self.files[new] = self.files.pop(old)

    def remove(self, name):
        self._alive()
        if name not in self.files:
            raise OSError(_ENOENT)
        if self._point():
            if self.rng.below(2):
                del self.files[name]
            raise PowerLost("remove %s" % name)
        del self.files[name]

    def listdir(self):
        self._alive()
        return sorted(self.files)

    def size(self, name):
        self._alive()
        f = self.files.get(name)
        return None if f is None else len(f)

    # -- for tests -------------------------------------------------------------------

    def corrupt(self, name, index=None):
        """Flip the bits of one byte (bit rot); index defaults to the middle."""
        data = self.files[name]
        if index is None:
            index = len(data) // 2
        data[index] ^= 0xFF

    def used_bytes(self):
        total = 0
        for name in self.files:
            total += len(self.files[name])
        return total
