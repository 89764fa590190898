"""Clinician authentication: HMAC-SHA256 (RFC 2104) with the device key.

MicroPython has hashlib.sha256 but no hmac module, so HMAC is built here
from its definition: H((K ^ opad) || H((K ^ ipad) || message)).

A signed command carries `CTR=<n> MAC=<64 hex>`; the MAC is over the bytes
`<n> <VERB ...args before CTR>`. The counter must be strictly greater than
the last one accepted, so a recorded command cannot be played again.

Usage::

    auth = Authenticator(key)               # 32 bytes from device_key.bin
    ok, why = auth.verify(msg_bytes, mac_hex, counter, last_counter)
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import hashlib

try:
    from binascii import unhexlify
except ImportError:     # pragma: no cover (both runtimes have it)
    from ubinascii import unhexlify

KEY_BYTES = 32
_MAC_HEX_CHARS = const(64)
# The largest counter: a small int on the ESP32 (31-bit), so it never allocates.
MAX_COUNTER = (1 << 30) - 1
_BLOCK_BYTES = 64


def _pads(key):
    if len(key) > _BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    ipad = bytearray(_BLOCK_BYTES)
    opad = bytearray(_BLOCK_BYTES)
    for i in range(_BLOCK_BYTES):
        k = key[i] if i < len(key) else 0
        ipad[i] = k ^ 0x36
        opad[i] = k ^ 0x5C
    return bytes(ipad), bytes(opad)


def hmac_sha256(key, msg):
    """RFC 2104 HMAC with SHA-256; returns the 32-byte digest."""
    ipad, opad = _pads(key)
    return _hmac(ipad, opad, msg)


def _hmac(ipad, opad, msg):
    inner = hashlib.sha256(ipad)
    inner.update(msg)
    outer = hashlib.sha256(opad)
    outer.update(inner.digest())
    return outer.digest()


def equal_ct(a, b):
    """Compare two byte strings in time independent of where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def parse_mac(text):
    """64 hex digits (either case) -> 32 bytes, or None."""
    if len(text) != _MAC_HEX_CHARS:
        return None
    for ch in text:
        if not (("0" <= ch <= "9") or ("a" <= ch <= "f") or ("A" <= ch <= "F")):
            return None
    return unhexlify(text)


def parse_counter(text):
    """Decimal 1..MAX_COUNTER -> int, or None."""
    if not text or len(text) > 10:
        return None
    for ch in text:
        if ch < "0" or ch > "9":
            return None
    n = int(text)
    if n < 1 or n > MAX_COUNTER:
        return None
    return n


def load_key(path):
    """The device key from its file, or None if missing or the wrong size."""
    try:
        with open(path, "rb") as f:
            key = f.read(KEY_BYTES + 1)
    except OSError:
        return None
    if len(key) != KEY_BYTES:
        return None
    return key


class Authenticator:
    def __init__(self, key):
        self.has_key = key is not None
        if key is not None:
            self._ipad, self._opad = _pads(key)
        else:
            self._ipad = self._opad = None

    def verify(self, msg, mac, counter, last_counter):
        """(True, "") if mac (32 bytes) signs msg and counter is fresh.

        The MAC is always computed and compared in full before the counter
        is looked at, so a forged command learns nothing but "bad MAC".
        """
        if not self.has_key:
            return False, "no device key on the board"
        good = equal_ct(_hmac(self._ipad, self._opad, msg), mac)
        if not good:
            return False, "bad MAC"
        if counter <= last_counter:
            return False, "stale counter %d (last accepted %d)" % (counter, last_counter)
        return True, ""
