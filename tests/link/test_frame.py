"""Framing and CRC: the firmware's link/frame.py against the host's
host_tools/protocol.py (two separate implementations)."""
import linkrig  # noqa: F401  (import paths)
from hypothesis import given, strategies as st

from link import frame as fw
from host_tools import protocol as host

PRINTABLE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)


def test_crc_known_vector():
    assert fw.crc16(b"123456789") == 0x29B1
    assert host.crc16(b"123456789") == 0x29B1
    assert fw.crc16(bytearray(b"xx123456789yy"), 2, 11) == 0x29B1
    assert fw.crc16(b"") == 0xFFFF


@given(st.binary(max_size=300))
def test_crc_table_matches_bitwise(data):
    assert fw.crc16(data) == host.crc16(data)


def test_put_hex4_is_uppercase():
    buf = bytearray(4)
    fw.put_hex4(buf, 0, 0xBEEF)
    assert buf == b"BEEF"
    fw.put_hex4(buf, 0, 0x0A0B)
    assert buf == b"0A0B"


def test_encode_is_parsed_by_the_host():
    line = fw.encode(b"17", "OK st=idle")
    assert line.endswith(b"\n")
    msg = host.parse_line(line)
    assert (msg.kind, msg.seq, msg.text) == ("OK", 17, "st=idle")
    msg = host.parse_line(fw.encode(b"?", "ERR crc checksum mismatch"))
    assert (msg.kind, msg.seq, msg.code, msg.text) == ("ERR", "?", "crc", "checksum mismatch")
    assert host.parse_line(line.replace(b"idle", b"idlf")).kind == "BAD"


@given(st.integers(0, 65535), PRINTABLE.filter(lambda s: s and s[0] != " "))
def test_host_frames_parse_on_the_board(seq, text):
    line = host.frame(seq, text).rstrip(b"\n")
    got_seq, body, code, _ = fw.parse_frame(line)
    assert code is None
    assert got_seq == str(seq).encode()
    assert body == text


def test_parse_frame_refusals():
    good = host.frame(5, "STATUS").rstrip(b"\n")
    assert fw.parse_frame(good)[2] is None
    cases = {
        b"5 STATUS": "frame",                      # no checksum
        b"5 STATUS *29b1": "frame",                # lowercase hex
        b"5 STATUS *29B": "frame",                 # short checksum
        b"5 STATUS *29B1 ": "frame",               # something after it
        good[:-1] + (b"0" if good[-1:] != b"0" else b"1"): "crc",
        host.frame(70000, "STATUS").rstrip(b"\n"): "frame",     # seq out of range
        host.frame("-1", "STATUS").rstrip(b"\n"): "frame",
        host.frame("abc", "STATUS").rstrip(b"\n"): "frame",
        host.frame(5, "").rstrip(b"\n"): "frame",               # no verb
        host.frame(5, " STATUS").rstrip(b"\n"): "frame",        # double space
    }
    for line, code in cases.items():
        assert fw.parse_frame(line)[2] == code, line
    # A bad checksum still echoes the seq it could read; a bad seq gives none.
    assert fw.parse_frame(b"5 STATUS *29b1")[0] == b"5"
    assert fw.parse_frame(host.frame("abc", "X").rstrip(b"\n"))[0] is None


def test_printable():
    assert fw.printable(b"abc ~", 5)
    assert not fw.printable(b"ab\tc", 4)
    assert not fw.printable(b"ab\x80", 3)
    assert fw.printable(b"ab\x80", 2)


def test_host_sign_format():
    key = bytes(32)
    text = host.sign('PROFILE SET {"level":1}', 7, key)
    assert text.startswith('PROFILE SET {"level":1} CTR=7 MAC=')
    assert len(text.rsplit("MAC=", 1)[1]) == 64
