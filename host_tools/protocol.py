"""The host link protocol (docs/protocol.md), host side: framing, parsing,
signing. Written apart from the firmware's link/ on purpose, so the tests
check the two ends against each other.

    frame(7, "STATUS")                  -> b"7 STATUS *XXXX\\n"
    sign("PROFILE SET {...}", 12, key)  -> 'PROFILE SET {...} CTR=12 MAC=<64 hex>'
    parse_line(b"7 OK st=idle *XXXX")   -> Message(kind="OK", seq=7, text="st=idle")
"""
import hashlib
import hmac

PROTOCOL_VERSION = 1
MAX_LINE = 256


def crc16(data):
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def frame(seq, text):
    """One command line, with its checksum and newline."""
    body = ("%s %s" % (seq, text)).encode("ascii")
    return body + b" *%04X\n" % crc16(body)


def mac(key, counter, text):
    """The MAC of a clinician command: HMAC-SHA256 over b"<counter> <text>"."""
    return hmac.new(key, ("%d %s" % (counter, text)).encode("ascii"), hashlib.sha256).hexdigest()


def sign(text, counter, key):
    return "%s CTR=%d MAC=%s" % (text, counter, mac(key, counter, text))


def fields(text):
    """key=value tokens of a payload as a dict of strings."""
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


class Message:
    """One line from the board.

    kind: "OK", "ERR" (replies), "T" (telemetry), "EV" (event), "L" (a log
    line), "END" (end of a log), or "BAD" (checksum or framing wrong).
    seq: the command's number, "!" (unsolicited) or "?" (reply to a line
    the board could not read a number from).
    """

    def __init__(self, raw, kind, seq=None, text="", code=""):
        self.raw = raw
        self.kind = kind
        self.seq = seq
        self.text = text
        self.code = code

    @property
    def fields(self):
        return fields(self.text)

    @property
    def ok(self):
        return self.kind == "OK"

    def __repr__(self):
        return "Message(%s, seq=%r, code=%r, text=%r)" % (self.kind, self.seq, self.code,
                                                          self.text)


def parse_line(line):
    """bytes (no newline) -> Message."""
    line = bytes(line).rstrip(b"\r\n")
    text = line.decode("ascii", "replace")
    star = text.rfind(" *")
    if star < 0 or len(text) - star != 6:
        return Message(line, "BAD", text=text)
    try:
        crc = int(text[star + 2:], 16)
    except ValueError:
        return Message(line, "BAD", text=text)
    if crc != crc16(line[:star]):
        return Message(line, "BAD", text=text)
    parts = text[:star].split(" ", 2)
    if len(parts) < 2:
        return Message(line, "BAD", text=text)
    seq_tok, kind = parts[0], parts[1]
    rest = parts[2] if len(parts) > 2 else ""
    if seq_tok.isdigit():
        seq = int(seq_tok)
    elif seq_tok in ("!", "?"):
        seq = seq_tok
    else:
        return Message(line, "BAD", text=text)
    if kind not in ("OK", "ERR", "T", "EV", "L", "END"):
        return Message(line, "BAD", seq=seq, text=text)
    code = ""
    if kind == "ERR":
        code, _, rest = rest.partition(" ")
    return Message(line, kind, seq, rest, code)


def telemetry(msg):
    """A `! T` message as a dict of numbers and names (docs/protocol.md)."""
    f = msg.fields
    out = {}
    for key in ("ang", "sp", "cap", "trac"):
        if key in f:
            out[key] = float(f[key])
    for key in ("n", "hold", "hb", "brk", "al"):
        if key in f:
            out[key] = int(f[key])
    out["st"] = f.get("st", "?")
    out["f"] = "" if f.get("f", "-") == "-" else f["f"]
    return out
