"""The clinician's device key and the counter that goes with it.

The key is the board's 32-byte `device_key.bin` (raw, or 64 hex digits in a
text file), given with --key or $INVERTCTL_KEY. The counter must grow with
every signed command; the last one used is kept per key (by fingerprint) in
a small JSON state file ($INVERTCTL_STATE, default
~/.config/invertctl/state.json), written before the command is sent so a
crash can never reuse one. The board's own last counter (STATUS ctr=) is
taken into account too, so a second PC or a lost state file still works.
"""
import hashlib
import json
import os
import secrets

from .link import LinkError

KEY_BYTES = 32


def load_key(path):
    path = path or os.environ.get("INVERTCTL_KEY")
    if not path:
        raise LinkError("no device key: give --key FILE or set INVERTCTL_KEY")
    try:
        with open(path, "rb") as f:
            data = f.read(1024)
    except OSError as exc:
        raise LinkError("cannot read key file %s: %s" % (path, exc.strerror or exc)) from None
    if len(data) == KEY_BYTES:
        return data
    text = data.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
    raise LinkError("key file %s must hold %d bytes (or %d hex digits)"
                    % (path, KEY_BYTES, 2 * KEY_BYTES))


def fingerprint(key):
    return hashlib.sha256(b"invertctl key id" + key).hexdigest()[:16]


def new_key(path, force=False):
    if os.path.exists(path) and not force:
        raise LinkError("%s exists; use --force to replace it (the board must get the "
                        "new key too)" % path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(KEY_BYTES))
    return path


def state_path():
    return os.environ.get("INVERTCTL_STATE") or os.path.join(
        os.path.expanduser("~"), ".config", "invertctl", "state.json")


class CounterStore:
    def __init__(self, path=None):
        self.path = path or state_path()

    def _load(self):
        try:
            with open(self.path) as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def last(self, key):
        return int(self._load().get("counters", {}).get(fingerprint(key), 0))

    def next(self, key, board_last=0):
        """Reserve the next counter (saved before it is used)."""
        n = max(self.last(key), int(board_last)) + 1
        self.save(key, n)
        return n

    def save(self, key, n):
        data = self._load()
        counters = data.setdefault("counters", {})
        fp = fingerprint(key)
        counters[fp] = max(int(counters.get(fp, 0)), n)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)
