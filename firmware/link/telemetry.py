"""The `! T` telemetry line, formatted without allocating.

It goes out ten times a second from inside the control tick, where on the
ESP32 any allocation can start a garbage collection that stalls the loop.
So the line has a fixed layout in one preallocated bytearray, numbers are
written digit by digit, names (state, fault) are copied from a small cache
of their bytes, and the CRC is computed in place. Fields (docs/protocol.md):

    ! T n=00042 ang=+045.123 sp=+045.000 cap=+060.000 hold=0095 trac=0.71 hb=1 brk=0 al=0 st=holding          f=-                    *1A2B

Fixed width: every line is LINE_BYTES long, the names padded with spaces.

Usage::

    tele = Telemetry()
    buf = tele.encode(core)         # the same bytearray every time
    hostlink.write(buf)
"""
import math

from link.frame import crc16, put_hex4

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_STATE_WIDTH = const(16)
_FAULT_WIDTH = const(20)
_NAME_CACHE_MAX = const(32)
_DEG_MAX_MDEG = const(999999)
_HOLD_MAX_S = const(9999)
_SEQ_MOD = const(100000)

# sin(d degrees) in hundredths, d = 0..90: the traction estimate (SPEC R9).
_SIN_PCT = bytes([int(round(math.sin(math.radians(d)) * 100)) for d in range(91)])


def traction_pct(theta_mdeg):
    """Body weight x sin(theta) as a percentage of body weight (0 head-up)."""
    if theta_mdeg <= 0:
        return 0
    if theta_mdeg >= 90000:
        return 100
    i = theta_mdeg // 1000
    v = _SIN_PCT[i]
    return v + (_SIN_PCT[i + 1] - v) * (theta_mdeg % 1000) // 1000


def _put_uint(buf, pos, value, width):
    i = pos + width - 1
    while i >= pos:
        buf[i] = 48 + value % 10
        value //= 10
        i -= 1


def _put_deg(buf, pos, mdeg):
    """+DDD.ddd from millidegrees (8 bytes)."""
    if mdeg < 0:
        buf[pos] = 45
        mdeg = -mdeg
    else:
        buf[pos] = 43
    if mdeg > _DEG_MAX_MDEG:
        mdeg = _DEG_MAX_MDEG
    _put_uint(buf, pos + 1, mdeg // 1000, 3)
    buf[pos + 4] = 46
    _put_uint(buf, pos + 5, mdeg % 1000, 3)


def _put_text(buf, pos, data, width):
    n = len(data)
    if n > width:
        n = width
    for i in range(n):
        buf[pos + i] = data[i]
    for i in range(n, width):
        buf[pos + i] = 32


def _safe_bytes(text):
    out = bytearray(text.encode())
    for i in range(len(out)):
        if out[i] <= 32 or out[i] > 126:
            out[i] = 95     # "_": a name stays one token
    return bytes(out) if out else b"-"


class Telemetry:
    def __init__(self):
        parts = []
        self._at = {}
        pos = 0
        for label, width in (("! T n=", 5), (" ang=", 8), (" sp=", 8), (" cap=", 8),
                             (" hold=", 4), (" trac=", 4), (" hb=", 1), (" brk=", 1),
                             (" al=", 1), (" st=", _STATE_WIDTH), (" f=", _FAULT_WIDTH),
                             (" *", 4)):
            parts.append(label)
            pos += len(label)
            self._at[label.strip(" =!*T") or "crc"] = pos
            parts.append("0" * width)
            pos += width
        parts.append("\n")
        self.buf = bytearray("".join(parts).encode())
        at = self._at
        self._n = at["n"]
        self._ang = at["ang"]
        self._sp = at["sp"]
        self._cap = at["cap"]
        self._hold = at["hold"]
        self._trac = at["trac"]
        self._hb = at["hb"]
        self._brk = at["brk"]
        self._al = at["al"]
        self._st = at["st"]
        self._f = at["f"]
        self._crc = at["crc"]
        del self._at
        self._names = {"": b"-"}
        self.count = 0
        # What the buffer holds now, field by field: a field is rewritten
        # only when its value changed (None: never written).
        self._shown_theta = None
        self._shown_sp = None
        self._shown_cap = None
        self._shown_hold_s = None
        self._shown_state = None
        self._shown_fault = None

    def _name(self, text):
        data = self._names.get(text)
        if data is None:
            if len(self._names) >= _NAME_CACHE_MAX:
                return b"?"
            data = _safe_bytes(text)
            self._names[text] = data
        return data

    def encode(self, core):
        """Fill the line from the core's telemetry; returns the bytearray."""
        buf = self.buf
        _put_uint(buf, self._n, self.count, 5)
        self.count = (self.count + 1) % _SEQ_MOD
        # Most fields repeat from one line to the next (the table at rest, the
        # cap, the state): those keep the bytes already in the buffer.
        theta = core.theta_mdeg
        if theta != self._shown_theta:
            self._shown_theta = theta
            _put_deg(buf, self._ang, theta)
            pct = traction_pct(theta)
            at = self._trac
            buf[at] = 49 if pct >= 100 else 48
            buf[at + 1] = 46
            _put_uint(buf, at + 2, pct % 100, 2)
        value = core.setpoint_mdeg
        if value != self._shown_sp:
            self._shown_sp = value
            _put_deg(buf, self._sp, value)
        value = core.cap_mdeg
        if value != self._shown_cap:
            self._shown_cap = value
            _put_deg(buf, self._cap, value)
        hold_s = (core.hold_left_ms + 999) // 1000
        if hold_s < 0:
            hold_s = 0
        elif hold_s > _HOLD_MAX_S:
            hold_s = _HOLD_MAX_S
        if hold_s != self._shown_hold_s:
            self._shown_hold_s = hold_s
            _put_uint(buf, self._hold, hold_s, 4)
        buf[self._hb] = 49 if core.heartbeat_ok else 48
        buf[self._brk] = 49 if core.brake_engaged else 48
        buf[self._al] = 49 if core.supervisor.alarm else 48
        # A name always gives the same bytes (_name), so an unchanged name
        # needs no copying.
        text = core.state
        if text != self._shown_state:
            self._shown_state = text
            _put_text(buf, self._st, self._name(text), _STATE_WIDTH)
        text = core.fault
        if text != self._shown_fault:
            self._shown_fault = text
            _put_text(buf, self._f, self._name(text), _FAULT_WIDTH)
        put_hex4(buf, self._crc, crc16(buf, 0, self._crc - 2))
        return buf
