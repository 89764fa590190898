"""Line framing of the host link: `<seq> <VERB> [args...] *<CRC>`.

The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no
final XOR) of every byte before the b" *", written as four uppercase hex
digits. crc16 (over bytes or a bytearray) and put_hex4 allocate nothing,
so the telemetry line can be framed inside the control tick.

Usage::

    seq, body, code, msg = parse_frame(b"7 STATUS *A1B2")
    reply = encode(b"7", "OK st=idle")       # b"7 OK st=idle *XXXX\\n"
"""
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

PROTOCOL_VERSION = const(1)
FIRMWARE_VERSION = "0.4.0"

# A line in either direction, without its b"\n" (the HostLink buffer size).
MAX_LINE = const(256)
_MAX_SEQ = const(65535)

# Error codes of `ERR <code> <message>` (docs/protocol.md, "Errors").
E_FRAME = "frame"
_E_CRC = const("crc")
E_TOOLONG = "toolong"
E_VERB = "verb"
E_ARGS = "args"
E_STATE = "state"
E_AUTH = "auth"
E_VALUE = "value"
E_UNSUPPORTED = "unsupported"
E_INTERNAL = "internal"

NO_SEQ = b"?"
UNSOLICITED = b"!"

_CR = const(13)
_SPACE = const(32)
_STAR = const(42)
_TILDE = const(126)
_HEX = b"0123456789ABCDEF"


def _table():
    # An array of 16-bit entries: a quarter of a list's heap on the ESP32.
    out = array("H")
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
            c &= 0xFFFF
        out.append(c)
    return out


def _pair_table(t):
    # Two bytes at a time (see crc16): the register's high byte i taken
    # through two byte steps, the second step's input byte being zero.
    out = array("H")
    for i in range(256):
        out.append(((t[i] & 0xFF) << 8) ^ t[t[i] >> 8])
    return out


_CRC_TABLE = _table()
_CRC_PAIR_TABLE = _pair_table(_CRC_TABLE)


def crc16(data, start=0, end=-1):
    """CRC-16/CCITT-FALSE of data[start:end] (ints: bytes, bytearray)."""
    if end < 0:
        end = len(data)
    crc = 0xFFFF
    table = _CRC_TABLE
    pair = _CRC_PAIR_TABLE
    # Two bytes per step (the telemetry line is framed ten times a second
    # inside the tick). One byte b moves the register (h, l) to
    # (l << 8) ^ T[h ^ b]; two bytes b0, b1, since T is linear in its index
    # (T[x ^ y] == T[x] ^ T[y]), to P[h ^ b0] ^ T[l ^ b1] with
    # P[i] = ((T[i] & 0xFF) << 8) ^ T[T[i] >> 8]. Indexes need no mask:
    # the register stays 16-bit and the data are bytes.
    for i in range(start, end - 1, 2):
        crc = pair[(crc >> 8) ^ data[i]] ^ table[(crc & 0xFF) ^ data[i + 1]]
    if end > start and (end - start) & 1:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ data[end - 1]]
    return crc


def put_hex4(buf, pos, value):
    """Write value as four uppercase hex digits at buf[pos:pos+4]."""
    buf[pos] = _HEX[(value >> 12) & 15]
    buf[pos + 1] = _HEX[(value >> 8) & 15]
    buf[pos + 2] = _HEX[(value >> 4) & 15]
    buf[pos + 3] = _HEX[value & 15]


def encode(seq, text):
    """A whole line: seq (bytes) + b" " + text + b" *CRC\\n" (bytes)."""
    body = bytearray(seq)
    body.append(_SPACE)
    body.extend(text.encode() if isinstance(text, str) else text)
    n = len(body)
    body.extend(b" *0000\n")
    put_hex4(body, n + 2, crc16(body, 0, n))
    return bytes(body)


def printable(data, n):
    """True if data[:n] is all printable ASCII (0x20..0x7E)."""
    for i in range(n):
        b = data[i]
        if b < _SPACE or b > _TILDE:
            return False
    return True


def _is_digits(text):
    if not text:
        return False
    for ch in text:
        if ch < "0" or ch > "9":
            return False
    return True


def _is_hex4(text):
    if len(text) != 4:
        return False
    for ch in text:
        if not (("0" <= ch <= "9") or ("A" <= ch <= "F")):
            return False
    return True


def seq_of(text):
    """The seq token at the start of text as bytes, or None if it is not one."""
    end = text.find(" ")
    tok = text if end < 0 else text[:end]
    if len(tok) > 5 or not _is_digits(tok) or int(tok) > _MAX_SEQ:
        return None
    return tok.encode()


def parse_frame(line):
    """Check one printable line (bytes, no b"\\n", no trailing b"\\r").

    Returns (seq, body, code, message): seq as bytes (None if the line has
    no usable seq), body the text between the seq and the b" *" (str, "" on
    error), and code/message an error (code None when the frame is good).
    """
    text = line.decode()
    seq = seq_of(text)
    star = text.rfind(" *")
    if star < 0 or len(text) - star != 6 or not _is_hex4(text[star + 2:]):
        return seq, "", E_FRAME, "expected <seq> <VERB> [args] *<CRC16 hex>"
    if seq is None:
        return None, "", E_FRAME, "bad seq (0-65535)"
    if int(text[star + 2:], 16) != crc16(line, 0, star):
        return seq, "", _E_CRC, "checksum mismatch"
    body = text[len(seq) + 1:star] if star > len(seq) else ""
    if not body or body[0] == " ":
        return seq, "", E_FRAME, "missing verb"
    return seq, body, None, ""
