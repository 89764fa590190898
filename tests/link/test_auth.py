"""HMAC-SHA256 built from hashlib (link/auth.py) against CPython's hmac."""
import hashlib
import hmac

import linkrig  # noqa: F401
from hypothesis import given, strategies as st

from link import auth


def test_rfc4231_case_2():
    # RFC 4231 test case 2: key "Jefe".
    mac = auth.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_rfc4231_case_6_long_key():
    # Keys longer than the block are hashed first.
    mac = auth.hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert mac.hex() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


@given(st.binary(max_size=150), st.binary(max_size=400))
def test_matches_cpython_hmac(key, msg):
    assert auth.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_equal_ct():
    a = bytes(range(32))
    assert auth.equal_ct(a, bytes(a))
    for i in range(32):
        b = bytearray(a)
        b[i] ^= 1
        assert not auth.equal_ct(a, bytes(b))
    assert not auth.equal_ct(a, a[:31])


def test_parse_mac_and_counter():
    assert auth.parse_mac("ab" * 32) == b"\xab" * 32
    assert auth.parse_mac("AB" * 32) == b"\xab" * 32
    assert auth.parse_mac("ab" * 31) is None
    assert auth.parse_mac("zz" * 32) is None
    assert auth.parse_counter("1") == 1
    assert auth.parse_counter(str(auth.MAX_COUNTER)) == auth.MAX_COUNTER
    for bad in ("", "0", "-1", "+1", "1.0", "x", str(auth.MAX_COUNTER + 1), "99999999999"):
        assert auth.parse_counter(bad) is None, bad


def test_verify_order_and_reasons():
    key = bytes(range(32))
    a = auth.Authenticator(key)
    msg = b"5 PROFILE SET {}"
    good = hmac.new(key, msg, hashlib.sha256).digest()
    assert a.verify(msg, good, 5, 4) == (True, "")
    ok, why = a.verify(msg, good, 5, 5)
    assert not ok and "stale" in why
    ok, why = a.verify(msg, bytes(32), 9, 0)
    assert not ok and why == "bad MAC"
    # A forged MAC with a stale counter says only "bad MAC".
    assert a.verify(msg, bytes(32), 1, 5) == (False, "bad MAC")
    nokey = auth.Authenticator(None)
    ok, why = nokey.verify(msg, good, 5, 0)
    assert not ok and "no device key" in why


def test_load_key(tmp_path):
    p = tmp_path / "device_key.bin"
    assert auth.load_key(str(p)) is None
    p.write_bytes(bytes(31))
    assert auth.load_key(str(p)) is None
    p.write_bytes(bytes(33))
    assert auth.load_key(str(p)) is None
    p.write_bytes(bytes(range(32)))
    assert auth.load_key(str(p)) == bytes(range(32))
