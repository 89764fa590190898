"""A serial connection to the table controller (docs/protocol.md).

    link = Link.open(port)           # LinkError with a one-line reason if it cannot
    info = link.hello()              # WrongDevice if nothing answers in our protocol
    msg = link.request("STATUS")     # the OK reply (CommandError on ERR, LinkTimeout)
    link.send("HB")                  # fire and forget (heartbeats, jog repeats)
    link.pump(0.05)                  # read what arrived: telemetry and events update
    link.telemetry, link.events      # the latest telemetry dict, events not yet taken

Single-threaded on purpose: every wait is a pump, so heartbeats and the
display are driven from one loop and nothing races.
"""
import os
import random
import time

from . import protocol

DEFAULT_BAUD = 115200
REPLY_TIMEOUT_S = 1.0


class LinkError(Exception):
    """Anything that ends a command with a one-line message for the user."""


class LinkTimeout(LinkError):
    pass


class WrongDevice(LinkError):
    pass


class CommandError(LinkError):
    def __init__(self, verb, code, text):
        LinkError.__init__(self, "%s refused: %s: %s" % (verb, code, text))
        self.code = code
        self.text = text


def resolve_port(port):
    port = port or os.environ.get("INVERTCTL_PORT")
    if not port:
        raise LinkError("no serial port: give --port or set INVERTCTL_PORT "
                        "(`invertctl ports` lists them)")
    return port


class Link:
    def __init__(self, ser, port="?"):
        self.ser = ser
        self.port = port
        self._rx = b""
        self._seq = random.randrange(65536)
        self._replies = {}
        self.stream = []              # L / END lines of a log being pulled
        self.events = []              # EV messages not yet taken by the caller
        self.telemetry = None         # the latest `! T` as a dict
        self.telemetry_at = 0.0
        self.bad_lines = 0
        self.any_valid = False
        self.last_rx = 0.0

    @classmethod
    def open(cls, port, baud=DEFAULT_BAUD):
        port = resolve_port(port)
        if port.startswith("/dev/") and not os.path.exists(port):
            raise LinkError("serial port %s does not exist (is the board plugged in? "
                            "`invertctl ports` lists ports)" % port)
        try:
            import serial
        except ImportError:
            raise LinkError("pyserial is not installed (pip install pyserial)") from None
        try:
            ser = serial.Serial(port, baud, timeout=0.02, write_timeout=2.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError("cannot open %s: %s" % (port, _reason(exc))) from None
        try:
            ser.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass
        return cls(ser, port)

    def close(self):
        try:
            self.ser.close()
        except Exception:
            pass

    # -- sending ---------------------------------------------------------------------
    def next_seq(self):
        self._seq = (self._seq + 1) % 65536
        return self._seq

    def send(self, text):
        """Send one command; returns its seq (the reply arrives later)."""
        seq = self.next_seq()
        line = protocol.frame(seq, text)
        if len(line) > protocol.MAX_LINE + 1:
            raise LinkError("command too long for one line (%d > %d bytes)"
                            % (len(line) - 1, protocol.MAX_LINE))
        try:
            self.ser.write(line)
        except Exception as exc:
            raise LinkError("write to %s failed: %s" % (self.port, _reason(exc))) from None
        return seq

    def request(self, text, timeout=REPLY_TIMEOUT_S, retries=0, check=True):
        """Send and wait for the reply. ERR raises CommandError if check."""
        verb = text.split(" ", 1)[0]
        for _ in range(retries + 1):
            seq = self.send(text)
            msg = self.wait_reply(seq, timeout)
            if msg is not None:
                if check and msg.kind == "ERR":
                    raise CommandError(verb, msg.code, msg.text)
                return msg
        raise LinkTimeout("timeout: no reply to %s from %s within %.1f s"
                          % (verb, self.port, timeout))

    def wait_reply(self, seq, timeout):
        deadline = time.monotonic() + timeout
        while True:
            msg = self._replies.pop(seq, None)
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.05))

    def hello(self, timeout=REPLY_TIMEOUT_S):
        """Check that a table controller speaking our protocol is there."""
        try:
            msg = self.request("HELLO", timeout=timeout, retries=2)
        except LinkTimeout:
            if self.any_valid:
                raise WrongDevice("%s answers in this protocol but not to HELLO" % self.port)
            if self.bad_lines or self._rx:
                raise WrongDevice("the device on %s does not speak the inversion-table "
                                  "protocol (wrong device or baud rate?)" % self.port) from None
            raise WrongDevice("no answer from %s: no inversion-table controller there "
                              "(or it is not powered)" % self.port) from None
        info = msg.fields
        if info.get("proto") != str(protocol.PROTOCOL_VERSION):
            raise WrongDevice("%s speaks protocol version %s; this invertctl speaks %d"
                              % (self.port, info.get("proto", "?"), protocol.PROTOCOL_VERSION))
        return info

    # -- receiving ---------------------------------------------------------------------
    def pump(self, timeout=0.05):
        """Read for up to timeout seconds; file what arrived."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                n = self.ser.in_waiting
                data = self.ser.read(n if n else 1)
            except Exception as exc:
                raise LinkError("read from %s failed: %s" % (self.port, _reason(exc))) from None
            if data:
                self._rx += data
                self._lines()
            if time.monotonic() >= deadline:
                return
            if data and not self.ser.in_waiting:
                return

    def _lines(self):
        *lines, self._rx = self._rx.split(b"\n")
        if len(self._rx) > 4096:            # no newline in a long while: noise
            self._rx = b""
            self.bad_lines += 1
        for raw in lines:
            if not raw.strip():
                continue
            msg = protocol.parse_line(raw)
            if msg.kind == "BAD":
                self.bad_lines += 1
                continue
            self.any_valid = True
            self.last_rx = time.monotonic()
            if msg.kind == "T":
                try:
                    self.telemetry = protocol.telemetry(msg)
                    self.telemetry_at = self.last_rx
                except ValueError:
                    self.bad_lines += 1
            elif msg.kind == "EV":
                self.events.append(msg)
                del self.events[:-200]
            elif msg.kind in ("L", "END"):
                self.stream.append(msg)
            elif isinstance(msg.seq, int):
                self._replies[msg.seq] = msg
                if len(self._replies) > 64:
                    self._replies.pop(next(iter(self._replies)))

    def take_events(self):
        out = self.events
        self.events = []
        return out

    def status(self):
        return self.request("STATUS", retries=1).fields

    def fresh_state(self, max_age_s=1.0):
        """The latest telemetry, or STATUS when telemetry is off or late."""
        if self.telemetry is not None and time.monotonic() - self.telemetry_at <= max_age_s:
            return self.telemetry
        f = self.status()
        t = {"st": f.get("st", "?"), "f": "" if f.get("f", "-") == "-" else f["f"]}
        for key in ("ang", "sp", "cap", "trac"):
            t[key] = float(f.get(key, 0))
        for key in ("hold", "hb", "brk", "al"):
            t[key] = int(f.get(key, 0))
        self.telemetry = t
        self.telemetry_at = time.monotonic()
        return t


def _reason(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
