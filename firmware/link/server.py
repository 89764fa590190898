"""The host link, board side: commands in, replies, events and telemetry out.

The protocol is in docs/protocol.md. The App owns one HostServer and calls:

    server.before_core(dt_ms)   # in App.tick, right before core.tick
    server.after_core(dt_ms)    # at the very end of App.tick
    server.handle_line(line)    # App.host_line: one line in, reply bytes out

before_core reads the UART (HostLink.poll) and handles each complete line
at once, then ORs the host's STOP and hold-to-run jog into the inputs the
buttons filled, so a STOP read in this tick turns the setpoint toward home
in the same tick. after_core sends queued replies, events, the telemetry
line (10 Hz) and any log being pulled, all within a byte budget that never
outruns the UART, so a write cannot stall the loop.

Nothing here raises into the tick: a bad line gets one ERR reply and changes
nothing; an internal error is counted (`errors`) and the loop goes on.
"""
import json

from link.frame import (encode, parse_frame, printable, MAX_LINE, NO_SEQ, UNSOLICITED,
                        PROTOCOL_VERSION, FIRMWARE_VERSION, E_FRAME, E_TOOLONG, E_VERB,
                        E_ARGS, E_STATE, E_AUTH, E_VALUE, E_UNSUPPORTED, E_INTERNAL)
from link.auth import Authenticator, load_key, parse_mac, parse_counter
from session.profiles import validate as validate_profile, ProfileError
from link.telemetry import Telemetry, traction_pct
from safety.supervisor import BOOT

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_KEY_FILE = const("device_key.bin")
# A host jog lasts this long unless repeated: with the core's jog stop (well
# under 250 ms at the jog rate) the table is still within 0.5 s of the last JOG.
_JOG_VALID_MS = const(250)
# A host STOP is a press of the STOP button this long (after the boot checks).
_STOP_PRESS_MS = const(100)
_TELEMETRY_PERIOD_MS = const(100)
# The UART's transmit FIFO: no single line is longer, and the byte budget
# never lets more than this wait in it.
_TX_FIFO_BYTES = const(256)
_OUT_QUEUE_MAX = const(16)
_MESSAGE_CHARS = const(120)
# Plausible wall-clock range for TIME SET (2020-09-13 .. 2100-01-01).
_TIME_MIN_S = const(1600000000)
_TIME_MAX_S = const(4102444800)

_SIGNED_TAIL = " CTR="


def _clean(text, limit=_MESSAGE_CHARS):
    """Printable ASCII only, at most limit characters."""
    out = []
    for ch in text[:limit]:
        out.append(ch if " " <= ch <= "~" else "?")
    return "".join(out)


def _deg(mdeg):
    sign = "-" if mdeg < 0 else ""
    if mdeg < 0:
        mdeg = -mdeg
    return "%s%d.%03d" % (sign, mdeg // 1000, mdeg % 1000)


def _token(text):
    """A name as one protocol token: printable, no spaces, "-" when empty."""
    text = _clean(str(text), 40).replace(" ", "_")
    return text or "-"


# CAL sub-commands and the App method behind each.
_CAL_STEPS = {"LEVEL": "calibrate_level", "POINT": "calibrate_point", "SAVE": "calibrate_save"}


class HostServer:
    def __init__(self, app, key_path=_KEY_FILE):
        self.app = app
        self.core = app.core
        self.port = getattr(app.dev, "hostlink", None)
        self.auth = Authenticator(load_key(key_path))
        uart = app.board.get("host_uart") or {}
        self._baud = uart.get("baud", 115200)
        self._budget = _TX_FIFO_BYTES
        self._queue = []
        self._on_line_cb = self._on_line          # bound once: poll() allocates nothing
        self._oversize_seen = self.port.oversize_count if self.port is not None else 0
        self._verbs = {
            "HELLO": self._hello, "STATUS": self._status, "HB": self._hb,
            "RUN": self._run, "PAUSE": self._pause, "ACK": self._ack, "JOG": self._jog,
            "PROFILE": self._profile, "LOGS": self._logs, "CAL": self._cal,
            "TIME": self._time, "TELEM": self._telem,
        }
        # Counters for STATUS and the tests.
        self.rx_lines = 0
        self.rx_refused = 0
        self.tx_dropped = 0
        self.errors = 0
        # Host STOP and jog, applied in before_core.
        self._stop_latched = False
        self._stop_ms = 0
        self._stop_up_seen = False
        self._reads_stop = False
        self._jog_dir = 0
        self._jog_ms = 0
        # Telemetry and events.
        self.telemetry_on = True
        self._tele = Telemetry()
        self._tele_ms = _TELEMETRY_PERIOD_MS
        self._last_state = None
        self._last_fault = ""
        self._last_alarm = False
        self._last_cue = ""
        # A log being pulled: request seq, its lines, next index, end, pending frame.
        self._pull_seq = None
        self._pull_lines = None
        self._pull_i = 0
        self._pull_end = 0
        self._pull_frame = None
        # Board clock: uptime in whole seconds (a small int for decades) and
        # the wall-clock time the host gave at some uptime.
        self._uptime_s = 0
        self._uptime_ms = 0
        self._time_base_unix = 0
        self._time_base_s = 0

    # -- what App.tick calls -------------------------------------------------------

    def before_core(self, dt_ms):
        try:
            self._uptime_ms += dt_ms
            while self._uptime_ms >= 1000:
                self._uptime_ms -= 1000
                self._uptime_s += 1
            port = self.port
            if port is not None:
                port.poll(self._on_line_cb)
                over = port.oversize_count
                if over != self._oversize_seen:
                    self._oversize_seen = over
                    self.rx_refused += 1
                    self._queue_line(self._err(NO_SEQ, E_TOOLONG,
                                               "line over %d bytes dropped" % MAX_LINE))
        except Exception:
            self.errors += 1
        # The host's STOP and jog on top of what the buttons said.
        inp = self.core.inputs
        booting = self.core.supervisor.action == BOOT
        if self._stop_latched and not booting:
            # A press of _STOP_PRESS_MS, made once the supervisor reads the
            # buttons (not during its boot checks). It acts on the press edge,
            # so if the last tick it read showed STOP down (or it read none
            # yet), it first sees one tick of STOP up.
            if self._stop_ms >= _STOP_PRESS_MS:
                self._stop_latched = False
            elif self._stop_ms == 0 and not self._stop_up_seen:
                self._stop_up_seen = True
            else:
                inp.stop = True
                self._stop_ms += dt_ms
        # Whether the supervisor reads this tick's STOP (after_core records it).
        self._reads_stop = not booting
        if self._jog_ms > 0:
            if self._jog_dir > 0:
                inp.up = True
            else:
                inp.down = True
            self._jog_ms -= dt_ms

    def after_core(self, dt_ms):
        self._stop_up_seen = self._reads_stop and not self.core.inputs.stop
        try:
            if self._budget < _TX_FIFO_BYTES:
                # (Full, it stays full: most ticks, between telemetry lines.)
                budget = self._budget + self._baud * dt_ms // 10000
                self._budget = budget if budget < _TX_FIFO_BYTES else _TX_FIFO_BYTES
            self._events()
            # Telemetry first: a flood of replies to noise must not starve it.
            if self.telemetry_on:
                self._tele_ms += dt_ms
                if self._tele_ms >= _TELEMETRY_PERIOD_MS and len(self._tele.buf) <= self._budget:
                    self._write(self._tele.encode(self.core))
                    self._tele_ms -= _TELEMETRY_PERIOD_MS
                    if self._tele_ms >= _TELEMETRY_PERIOD_MS:
                        self._tele_ms = 0
            if self._queue:
                self._flush()
            if self._pull_lines is not None and not self._queue:
                self._pull_step()
        except Exception:
            self.errors += 1

    def handle_line(self, line):
        """One line from the host (no b"\\n"); returns the reply bytes or None."""
        try:
            return self._handle(bytes(line))
        except Exception:
            self.errors += 1
            return self._err(NO_SEQ, E_INTERNAL, "command failed")

    # -- for the rest of the firmware ------------------------------------------------

    def unix_time(self):
        """Wall-clock seconds, or 0 until the host has set the time."""
        if self._time_base_unix == 0:
            return 0
        return self._time_base_unix + (self._uptime_s - self._time_base_s)

    def send_event(self, text):
        """Queue `! EV <text>` (a session logger or a cue may use it)."""
        self._queue_line(encode(UNSOLICITED, "EV " + _clean(text, 200)))

    # -- output ------------------------------------------------------------------------

    def _on_line(self, buf, n):
        self.rx_lines += 1
        reply = self.handle_line(buf[:n])
        if reply:
            self._queue_line(reply)

    def _queue_line(self, data):
        if len(self._queue) >= _OUT_QUEUE_MAX:
            self.tx_dropped += 1
            return
        self._queue.append(data)

    def _write(self, data):
        self._budget -= len(data)
        if self.port is not None:
            self.port.write(data)

    def _flush(self):
        q = self._queue
        while q and len(q[0]) <= self._budget:
            self._write(q.pop(0))

    def _ok(self, seq, text=""):
        line = encode(seq, "OK " + _clean(text, MAX_LINE) if text else "OK")
        if len(line) > _TX_FIFO_BYTES:
            return self._err(seq, E_TOOLONG, "reply does not fit one line")
        return line

    def _err(self, seq, code, message):
        self.rx_refused += 1
        return encode(seq, "ERR " + code + " " + _clean(message))

    # -- events ------------------------------------------------------------------------

    def _events(self):
        c = self.core
        sup = c.supervisor
        state = c.state
        if state != self._last_state:
            if self._last_state is None:
                self.send_event("boot fw=%s proto=%d" % (FIRMWARE_VERSION, PROTOCOL_VERSION))
            self.send_event("state %s from=%s why=%s" % (state, self._last_state or "-",
                                                        _token(c.event)))
            self._last_state = state
        elif c.event:
            self.send_event("note " + _token(c.event))
        if c.fault != self._last_fault:
            self._last_fault = c.fault
            self.send_event("fault " + _token(c.fault) if c.fault else "fault_clear")
        if sup.alarm and not self._last_alarm:
            self.send_event("alarm " + _token(sup.reason))
        elif sup.alarm and sup.alarm_due:
            self.send_event("alarm %s repeat" % _token(sup.reason))
        elif self._last_alarm and not sup.alarm:
            self.send_event("alarm_clear")
        self._last_alarm = sup.alarm
        cue = c.sequencer.cue
        if cue is not self._last_cue:
            self._last_cue = cue
            if cue:
                self.send_event("cue " + cue)

    # -- input ----------------------------------------------------------------------------

    def _handle(self, line):
        n = len(line)
        if n and line[n - 1] == 13:
            n -= 1
            line = line[:n]
        if n > MAX_LINE:
            return self._err(NO_SEQ, E_TOOLONG, "line over %d bytes" % MAX_LINE)
        if not printable(line, n):
            return self._err(NO_SEQ, E_FRAME, "non-printable byte in line")
        word = line.decode().strip()
        if not word:
            return None
        # Two unframed words, for a serial terminal and simple pendants: a
        # host heartbeat (silent, as ever) and STOP, which nobody should
        # have to compute a checksum for.
        if word == "HB":
            self.app.heartbeat("host")
            return None
        if word.upper() == "STOP":
            self._stop()
            return encode(NO_SEQ, "OK stopping")
        seq, body, code, message = parse_frame(line)
        if code is not None:
            return self._err(seq or NO_SEQ, code, message)
        sp = body.find(" ")
        verb = (body if sp < 0 else body[:sp]).upper()
        rest = "" if sp < 0 else body[sp + 1:]
        if verb == "STOP":
            # Whatever follows: a STOP with a good checksum is never refused.
            self._stop()
            return self._ok(seq, "stopping")
        handler = self._verbs.get(verb)
        if handler is None:
            return self._err(seq, E_VERB, "unknown verb " + verb[:24])
        args = rest.split(" ") if rest else []
        return handler(seq, body, args)

    def _stop(self):
        self._stop_latched = True
        self._stop_ms = 0
        self._jog_ms = 0

    def _no_args(self, seq, args):
        if args:
            return self._err(seq, E_ARGS, "takes no arguments")
        return None

    # -- verbs ---------------------------------------------------------------------------

    def _hello(self, seq, body, args):
        bad = self._no_args(seq, args)
        if bad:
            return bad
        return self._ok(seq, "proto=%d fw=%s board=%s key=%d" % (
            PROTOCOL_VERSION, FIRMWARE_VERSION, _token(self.app.board.get("name", "")),
            1 if self.auth.has_key else 0))

    def _status(self, seq, body, args):
        bad = self._no_args(seq, args)
        if bad:
            return bad
        c = self.core
        sup = c.supervisor
        lim = self.app.limits
        pct = traction_pct(c.theta_mdeg)
        return self._ok(seq, (
            "st=%s ang=%s sp=%s cap=%s hold=%d trac=%d.%02d hb=%d brk=%d al=%d why=%s f=%s"
            " lvl=%d lock=%s hbto=%d ctr=%d stop=%d time=%d rx=%d bad=%d drop=%d err=%d") % (
            _token(c.state), _deg(c.theta_mdeg), _deg(c.setpoint_mdeg), _deg(c.cap_mdeg),
            (c.hold_left_ms + 999) // 1000, pct // 100, pct % 100,
            1 if c.heartbeat_ok else 0, 1 if c.brake_engaged else 0, 1 if sup.alarm else 0,
            _token(sup.reason), _token(c.fault), lim.level, _token(lim.lock), lim.heartbeat_ms,
            self._last_counter(), 1 if self._stop_latched else 0, self.unix_time(),
            self.rx_lines, self.rx_refused, self.tx_dropped, self.errors))

    def _hb(self, seq, body, args):
        if not args:
            self.app.heartbeat("host")
        elif len(args) == 1 and args[0].lower() == "pendant":
            self.app.heartbeat("pendant")
        else:
            return self._err(seq, E_ARGS, "HB [pendant]")
        return self._ok(seq)

    def _run(self, seq, body, args):
        if len(args) != 1:
            return self._err(seq, E_ARGS, "RUN <program>")
        if self._stop_latched:
            return self._err(seq, E_STATE, "STOP in progress")
        ok, message = self.app.start_program(args[0])
        if not ok:
            return self._err(seq, E_STATE, message)
        # The firmware arms the program; the person's START on the table begins it.
        return self._ok(seq, "program=%s %s" % (args[0], message))

    def _pause(self, seq, body, args):
        bad = self._no_args(seq, args)
        if bad:
            return bad
        c = self.core
        if getattr(c.sequencer, "armed", False) and c.sequencer.state == "idle":
            # Only the person on the table starts the motion, with START.
            return self._err(seq, E_STATE, "program armed: press START on the table to begin")
        if not c.pause_toggle():
            return self._err(seq, E_STATE, "nothing to pause or resume (%s)" % c.state)
        return self._ok(seq, "paused" if c.sequencer.state == "paused" else "resumed")

    def _ack(self, seq, body, args):
        bad = self._no_args(seq, args)
        if bad:
            return bad
        self.core.acknowledge()
        return self._ok(seq)

    def _jog(self, seq, body, args):
        if len(args) != 1 or args[0].upper() not in ("UP", "DOWN"):
            return self._err(seq, E_ARGS, "JOG UP|DOWN")
        c = self.core
        if self._stop_latched:
            return self._err(seq, E_STATE, "STOP in progress")
        if c.supervisor.action != 0 or c.sequencer.state not in ("idle", "paused", "jog"):
            return self._err(seq, E_STATE, "no jog while " + c.state)
        self._jog_dir = 1 if args[0].upper() == "UP" else -1
        self._jog_ms = _JOG_VALID_MS
        return self._ok(seq, "jog=%s ms=%d" % (args[0].lower(), _JOG_VALID_MS))

    def _profile(self, seq, body, args):
        sub = args[0].upper() if args else ""
        if sub == "GET" and len(args) == 1:
            # The clinician's stored profile, what a SET round trip edits;
            # the level progression has reached is STATUS lvl=.
            return self._ok(seq, json.dumps(self.app.base_profile))
        if sub != "SET" or len(args) < 4:
            return self._err(seq, E_ARGS, "PROFILE GET | PROFILE SET <json> CTR=<n> MAC=<hex>")
        counter, mac, head, why = self._signature(body)
        if why:
            return self._err(seq, E_ARGS, why)
        ok, why = self.auth.verify(("%d " % counter).encode() + head.encode(), mac, counter,
                                   self._last_counter())
        if not ok:
            return self._err(seq, E_AUTH, why)
        # At rest before anything else: the check loads the profile schema
        # from flash (milliseconds on the board), never while the bed moves.
        bad = self._at_rest(seq)
        if bad:
            return bad
        try:
            data = json.loads(head[head.find(" ") + len(args[0]) + 2:])
        except Exception:
            return self._err(seq, E_VALUE, "not valid JSON")
        try:
            profile = validate_profile(data)
        except ProfileError as exc:
            return self._err(seq, E_VALUE, str(exc))
        app = self.app
        previous = self._last_counter()
        app.auth_counter = counter
        try:
            app.apply_profile(profile)
        except Exception:
            app.auth_counter = previous
            return self._err(seq, E_INTERNAL, "profile not applied")
        lim = app.limits
        return self._ok(seq, "ctr=%d cap=%s lock=%s" % (counter, _deg(lim.cap_mdeg),
                                                        _token(lim.lock)))

    def _cal(self, seq, body, args):
        what = args[0].upper() if args else ""
        if what not in _CAL_STEPS or len(args) != 3:
            return self._err(seq, E_ARGS, "CAL LEVEL|POINT|SAVE CTR=<n> MAC=<hex>")
        calibrate = getattr(self.app, _CAL_STEPS[what], None)
        if calibrate is None:
            return self._err(seq, E_UNSUPPORTED, "no level calibration in this firmware")
        counter, mac, head, why = self._signature(body)
        if why:
            return self._err(seq, E_ARGS, why)
        ok, why = self.auth.verify(("%d " % counter).encode() + head.encode(), mac, counter,
                                   self._last_counter())
        if not ok:
            return self._err(seq, E_AUTH, why)
        c = self.core
        if c.state != "idle" or not c.brake_engaged:
            # Calibration points are taken anywhere in the travel, but still.
            return self._err(seq, E_STATE, "only with the table still and braked (now %s)" % c.state)
        ok, message = calibrate()
        if not ok:
            return self._err(seq, E_STATE, str(message))
        self.app.auth_counter = counter
        return self._ok(seq, "ctr=%d %s" % (counter, message))

    def _time(self, seq, body, args):
        if len(args) != 2 or args[0].upper() != "SET" or not args[1].isdigit() \
                or len(args[1]) > 10:
            return self._err(seq, E_ARGS, "TIME SET <unix seconds>")
        t = int(args[1])
        if t < _TIME_MIN_S or t > _TIME_MAX_S:
            return self._err(seq, E_VALUE, "time out of range")
        now = self.unix_time()
        if now and t < now:
            return self._err(seq, E_VALUE, "time only moves forward (board has %d)" % now)
        self._time_base_unix = t
        self._time_base_s = self._uptime_s
        return self._ok(seq, "time=%d" % t)

    def _telem(self, seq, body, args):
        if len(args) != 1 or args[0].upper() not in ("ON", "OFF"):
            return self._err(seq, E_ARGS, "TELEM ON|OFF")
        self.telemetry_on = args[0].upper() == "ON"
        return self._ok(seq, "telem=" + args[0].lower())

    # -- logs ----------------------------------------------------------------------------

    def _log_index(self):
        app = self.app
        index = getattr(app, "log_index", None)
        if index is not None:
            return [(_token(i), int(n)) for i, n in index()]
        return [("0", len(self._log_lines("0")))]

    def _log_lines(self, log_id):
        app = self.app
        lines = getattr(app, "log_lines", None)
        if lines is None:
            return []
        if getattr(app, "log_index", None) is not None:
            return lines(log_id)
        return lines()

    def _logs(self, seq, body, args):
        sub = args[0].upper() if args else ""
        if sub == "LIST" and len(args) == 1:
            index = self._log_index()
            entries = ["logs=%d" % len(index)] + ["%s:%d" % (i, n) for i, n in index]
            return self._ok(seq, " ".join(entries))
        if sub != "PULL" or len(args) not in (2, 3):
            return self._err(seq, E_ARGS, "LOGS LIST | LOGS PULL <id> [<first line>]")
        first = 0
        if len(args) == 3:
            if not args[2].isdigit() or len(args[2]) > 9:
                return self._err(seq, E_ARGS, "first line must be a number")
            first = int(args[2])
        ids = [i for i, n in self._log_index()]
        if args[1] not in ids:
            return self._err(seq, E_VALUE, "no log " + args[1])
        # Reading the log may read flash, which stalls the loop: never while inverted.
        bad = self._at_rest(seq)
        if bad:
            return bad
        lines = self._log_lines(args[1])
        total = len(lines)
        self._pull_seq = seq
        self._pull_lines = lines
        self._pull_i = first if first < total else total
        self._pull_end = total
        self._pull_frame = None
        return self._ok(seq, "lines=%d first=%d" % (total, self._pull_i))

    def _pull_step(self):
        while True:
            frame = self._pull_frame
            if frame is None:
                i = self._pull_i
                if i < self._pull_end:
                    text = self._pull_lines[i]
                    if not isinstance(text, str):
                        text = "".join(chr(b) for b in bytes(text))
                    frame = encode(self._pull_seq, "L %d %s" % (
                        i, _clean(text.rstrip("\r\n"), _TX_FIFO_BYTES - 24)))
                else:
                    frame = encode(self._pull_seq, "END %d" % self._pull_end)
                self._pull_frame = frame
            if len(frame) > self._budget:
                return
            self._write(frame)
            self._pull_frame = None
            if self._pull_i >= self._pull_end:
                self._pull_lines = None
                return
            self._pull_i += 1

    # -- helpers --------------------------------------------------------------------------

    def _last_counter(self):
        return getattr(self.app, "auth_counter", 0)

    def _signature(self, body):
        """(counter, mac bytes, signed head, "") from `<head> CTR=<n> MAC=<hex>`."""
        at = body.rfind(_SIGNED_TAIL)
        if at < 0:
            return 0, None, "", "missing CTR=<n> MAC=<hex>"
        tail = body[at + 1:].split(" ")
        if len(tail) != 2 or not tail[1].startswith("MAC="):
            return 0, None, "", "expected CTR=<n> MAC=<hex> at the end"
        counter = parse_counter(tail[0][4:])
        if counter is None:
            return 0, None, "", "CTR must be 1..%d" % ((1 << 30) - 1)
        mac = parse_mac(tail[1][4:])
        if mac is None:
            return 0, None, "", "MAC must be 64 hex digits"
        return counter, mac, body[:at], ""

    def _at_rest(self, seq):
        c = self.core
        if c.state != "idle" or c.theta_mdeg > 0:
            return self._err(seq, E_STATE, "only at rest and not inverted (now %s)" % c.state)
        return None
