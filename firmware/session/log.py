"""The session log (SPEC R9, R12): every inversion, bounded and rotating.

Layout: FILES ring slots (records "log0" .. "log7" in storage), each at most
FILE_BYTES of payload. A slot's payload is a first line "#log,<seq>" and
then CSV lines. An append rewrites the newest slot with the old lines plus
the new ones through storage.write (atomic: a power cut leaves the old or
the new slot, never a torn one); when that would exceed FILE_BYTES, the
oldest slot is overwritten instead with seq + 1 and only the new lines
(one atomic write again: the oldest slot's contents are dropped at the
instant the new ones land). The newest slot is the one with the highest
seq. Flash used: at most FILES x (FILE_BYTES + header) plus one pending
`.new` copy while a write is under way (storage.HEADER_BYTES each):
8 x 8 KiB = 64 KiB by default, which fits the ESP32's littlefs partition
with room to spare; at ~1 KiB per session that is the last ~60 sessions.

CSV columns (LOG_HEADER): session,time_s,kind,what,angle_mdeg,detail
    start  what=program   angle=cap in force  detail=steps "target_mdeg/hold_ms;..."
    stop   what=trigger   angle=theta         detail=state
    fault  what=code      angle=theta         detail=state
    end    what=outcome   angle=max reached   detail="inverted_ms=..;holds=mdeg@ms ..;trigger=..;fault=..;dropped=.."
Session 0 holds faults seen outside any session.

SessionRecorder is called by the App every tick. It allocates nothing in a
tick where nothing happens (integer and string comparisons only) and never
writes to flash in the tick: records are queued in RAM and written when
the table is at rest and not inverted (theta <= 0, brake engaged, no drive),
because a flash write stalls the loop for tens of ms and the person must
not be hanging head-down while it does. The price: records of a session
still inverted when the power fails are lost, except its start record,
written before the table moves (begin_program); the next boot closes such
a session with outcome "interrupted" (recover()).
"""
from control.sequencer import IDLE, HOLDING, PAUSED
from safety.supervisor import T_STOP, T_ESTOP, T_DONE

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

FILES = const(8)
FILE_BYTES = const(8192)
LINE_MAX = const(240)
PENDING_MAX = const(16)
HOLDS_MAX = const(16)
# Shorter "holds" are the turnarounds of swings, not holds.
HOLD_LOG_MIN_MS = const(1000)
# Noise margin: a bed resting at horizontal must not open a session per wobble.
SESSION_START_MDEG = const(1000)
# core.py's event for a program accepted by Core.start_steps.
EV_PROGRAM_START = "program_start"

LOG_HEADER = "session,time_s,kind,what,angle_mdeg,detail"
LIST_HEADER = "session,start_s,program,outcome,max_mdeg"
SLOT_PREFIX = "log"
_SEQ_TAG = "#log,"

OUT_COMPLETED = "completed"
OUT_SYMPTOMS = "symptom_stop"
OUT_FAULT = "fault"
OUT_ENDED = "ended"
OUT_INTERRUPTED = "interrupted"


def _clean(text):
    # One CSV field: no separators, no line breaks.
    return str(text).replace(",", ";").replace("\n", " ").replace("\r", " ")


def csv_line(session_id, time_s, kind, what, angle_mdeg, detail):
    line = "%d,%s,%s,%s,%d,%s" % (session_id, "" if time_s is None else str(time_s),
                                  kind, _clean(what), angle_mdeg, _clean(detail))
    return line[:LINE_MAX]


def _fields(line):
    return line.split(",", 5)


class Log:
    """The ring of log slots over a storage.Storage."""

    def __init__(self, storage, files=FILES, file_bytes=FILE_BYTES):
        self.storage = storage
        self.files = files
        self.file_bytes = file_bytes
        self.slot = -1
        self.seq = 0
        self.next_id = 1
        self.notes = []
        for k in range(files):
            text = self._slot_text(k)
            if text is None:
                continue
            seq = self._seq_of(text)
            if seq is None:
                self.notes.append("log slot %d unreadable: skipped" % k)
                continue
            if seq > self.seq or self.slot < 0:
                self.seq = seq
                self.slot = k
            for line in text.split("\n")[1:]:
                f = _fields(line)
                if len(f) == 6 and f[0].isdigit() and int(f[0]) >= self.next_id:
                    self.next_id = int(f[0]) + 1

    def slot_name(self, k):
        return SLOT_PREFIX + str(k)

    def _slot_text(self, k):
        payload, reason = self.storage.read(self.slot_name(k))
        if payload is None:
            if reason != "missing":
                self.notes.append("log slot %d %s: skipped" % (k, reason))
            return None
        try:
            return payload.decode()
        except UnicodeError:
            return None

    def _seq_of(self, text):
        first = text.split("\n", 1)[0]
        if not first.startswith(_SEQ_TAG):
            return None
        digits = first[len(_SEQ_TAG):]
        return int(digits) if digits.isdigit() else None

    def new_id(self):
        sid = self.next_id
        self.next_id += 1
        return sid

    def capacity(self):
        """Bytes of lines one append may carry at most."""
        return self.file_bytes - len(_SEQ_TAG) - 12

    def append(self, lines):
        """Add CSV lines (no newlines) in one atomic write."""
        data = "".join([line + "\n" for line in lines]).encode()
        if len(data) > self.capacity():
            raise ValueError("log append of %d bytes exceeds a slot" % len(data))
        if self.slot >= 0:
            payload, _ = self.storage.read(self.slot_name(self.slot))
            if payload is not None and len(payload) + len(data) <= self.file_bytes:
                self.storage.write(self.slot_name(self.slot), payload + data)
                return
        slot = (self.slot + 1) % self.files
        seq = self.seq + 1
        self.storage.write(self.slot_name(slot), (_SEQ_TAG + str(seq) + "\n").encode() + data)
        self.slot = slot
        self.seq = seq

    def _texts(self):
        """Slot texts, oldest first."""
        found = []
        for k in range(self.files):
            text = self._slot_text(k)
            if text is None:
                continue
            seq = self._seq_of(text)
            if seq is not None:
                found.append((seq, text))
        found.sort()
        return [text for _, text in found]

    def lines(self):
        """Every CSV line in the log, oldest first."""
        out = []
        for text in self._texts():
            for line in text.split("\n")[1:]:
                if line:
                    out.append(line)
        return out

    def list(self):
        """CSV: one line per session (host command `logs list`)."""
        sessions = {}
        order = []
        for line in self.lines():
            f = _fields(line)
            if len(f) != 6 or not f[0].isdigit():
                continue
            sid = int(f[0])
            if sid not in sessions:
                sessions[sid] = ["", "?", "?", "0"]
                order.append(sid)
            s = sessions[sid]
            if f[2] == "start":
                s[0] = f[1]
                s[1] = f[3]
            elif f[2] == "end":
                s[2] = f[3]
                s[3] = f[4]
        out = [LIST_HEADER]
        for sid in order:
            s = sessions[sid]
            out.append("%d,%s,%s,%s,%s" % (sid, s[0], s[1], s[2], s[3]))
        return out

    def pull(self, session_id):
        """CSV lines of one session, header first (host command `logs pull`)."""
        tag = str(session_id) + ","
        out = [LOG_HEADER]
        for line in self.lines():
            if line.startswith(tag):
                out.append(line)
        return out

    def last_session(self):
        """(id, kind of its last record) of the newest session, or (0, "")."""
        sid = 0
        kind = ""
        for line in self.lines():
            f = _fields(line)
            if len(f) == 6 and f[0].isdigit() and int(f[0]) > 0:
                if int(f[0]) >= sid:
                    sid = int(f[0])
                    kind = f[2]
        return sid, kind


def steps_text(steps):
    return ";".join(["%d/%d" % (s[0], s[1]) for s in steps])


def _now(now_s):
    return now_s() if callable(now_s) else now_s


class SessionRecorder:
    """Turns the core's telemetry into log records, on events only.

    on_end(summary) is called once per finished session, when the table is
    at rest (so the caller may write progression then): summary is a dict
    with id, program, outcome, completed, symptoms, max_mdeg, inverted_ms.
    """

    def __init__(self, log, on_end=None):
        self.log = log
        self.on_end = on_end
        self.active = False
        self.session_id = 0
        self.pending = []
        self.dropped = 0
        self.write_errors = 0
        self._summary = None
        self._fault = ""
        self._holds_ms = [0] * HOLDS_MAX
        self._holds_mdeg = [0] * HOLDS_MAX
        self._reset("")

    def _reset(self, program):
        self.program = program
        self._max_mdeg = 0
        self._inverted_ms = 0
        self._hold_ms = 0
        self._hold_mdeg = 0
        self._nholds = 0
        self._first_trigger = ""
        self._session_fault = ""
        self._symptoms = False
        self._done = False
        self._dropped_at_start = self.dropped

    # -- queueing ------------------------------------------------------------------

    def _queue(self, line, is_end=False):
        # The last place is kept for the end record.
        room = PENDING_MAX if is_end else PENDING_MAX - 1
        if len(self.pending) >= room:
            self.dropped += 1
            return
        self.pending.append(line)

    def flush(self):
        """Write every queued record (outside the tick, or at rest)."""
        log = self.log
        cap = log.capacity()
        while self.pending:
            batch = []
            size = 0
            pending = self.pending
            while len(batch) < len(pending) and size + len(pending[len(batch)]) + 1 <= cap:
                size += len(pending[len(batch)]) + 1
                batch.append(pending[len(batch)])
            if not batch:
                batch.append(pending[0])
            try:
                log.append(batch)
            except Exception:
                # A failing flash (or a line that cannot fit) must never stop
                # the control loop: count it and drop the batch. PowerLost in
                # the simulator is a BaseException and is not caught here.
                self.write_errors += 1
            self.pending = pending[len(batch):]

    # -- session edges -------------------------------------------------------------

    def _start(self, core, now_s, program, steps):
        self._reset(program)
        self.active = True
        self.session_id = self.log.new_id()
        self._queue(csv_line(self.session_id, _now(now_s), "start", program,
                             core.cap_mdeg, steps_text(steps) if steps else ""))

    def begin_program(self, core, name, steps, now_s=None):
        """The App accepted program `name`: call right after Core.start_steps
        succeeded, before the next tick. Opens the session and writes its
        start record now, while the table is still at rest."""
        if self.active:
            self._queue(csv_line(self.session_id, _now(now_s), "program", name,
                                 core.cap_mdeg, steps_text(steps)))
            return
        self._start(core, now_s, name, steps)
        if core.theta_mdeg <= 0:
            self.flush()

    def _close_hold(self):
        if self._hold_ms >= HOLD_LOG_MIN_MS and self._nholds < HOLDS_MAX:
            self._holds_ms[self._nholds] = self._hold_ms
            self._holds_mdeg[self._nholds] = self._hold_mdeg
            self._nholds += 1
        self._hold_ms = 0

    def _trigger(self, core, now_s):
        reason = core.supervisor.reason
        if not self._first_trigger:
            self._first_trigger = reason
        if reason == T_STOP or reason == T_ESTOP:
            # The firmware cannot tell why STOP was pressed: every press
            # while inverted counts as a stop for symptoms (the safe reading).
            self._symptoms = True
        elif reason == T_DONE:
            self._done = True
        kind = "stop"
        if reason == core.fault:
            kind = "fault"
            self._fault = reason
            self._session_fault = reason
        self._queue(csv_line(self.session_id, _now(now_s), kind, reason,
                             core.theta_mdeg, core.state))

    def _end(self, core, now_s):
        if self._hold_ms:
            self._close_hold()
        if self._symptoms:
            outcome = OUT_SYMPTOMS
        elif self._session_fault:
            outcome = OUT_FAULT
        elif self._done:
            outcome = OUT_COMPLETED
        elif self._first_trigger:
            outcome = self._first_trigger
        else:
            outcome = OUT_ENDED
        holds = " ".join(["%d@%d" % (self._holds_mdeg[i], self._holds_ms[i])
                          for i in range(self._nholds)])
        detail = "inverted_ms=%d;holds=%s;trigger=%s;fault=%s;dropped=%d" % (
            self._inverted_ms, holds, self._first_trigger, self._session_fault,
            self.dropped - self._dropped_at_start)
        self._queue(csv_line(self.session_id, _now(now_s), "end", outcome,
                             self._max_mdeg, detail), True)
        self._summary = {"id": self.session_id, "program": self.program, "outcome": outcome,
                         "completed": outcome == OUT_COMPLETED, "symptoms": self._symptoms,
                         "max_mdeg": self._max_mdeg, "inverted_ms": self._inverted_ms}
        self.active = False

    def recover(self, now_s=None):
        """At boot: close a session the power cut short. Returns its summary
        (outcome "interrupted": neither completed nor a symptom stop) or None."""
        sid, kind = self.log.last_session()
        if sid == 0 or kind == "end":
            return None
        self.pending.append(csv_line(sid, _now(now_s), "end", OUT_INTERRUPTED, 0,
                                     "power lost or reset during the session"))
        self.flush()
        return {"id": sid, "program": "", "outcome": OUT_INTERRUPTED, "completed": False,
                "symptoms": False, "max_mdeg": 0, "inverted_ms": 0}

    # -- every tick ------------------------------------------------------------------

    def tick(self, core, dt_ms, now_s):
        """now_s: wall-clock seconds, or a function returning them (called
        only when a record is made)."""
        st = core.state
        th = core.theta_mdeg
        if not self.active:
            if core.event == EV_PROGRAM_START:
                self._start(core, now_s, "?", None)
            elif th > SESSION_START_MDEG:
                self._start(core, now_s, "jog" if st != "boot" else "boot", None)
        if self.active:
            if th > self._max_mdeg:
                self._max_mdeg = th
            if th > 0:
                self._inverted_ms += dt_ms
            if st == HOLDING:
                self._hold_ms += dt_ms
                self._hold_mdeg = core.setpoint_mdeg
            elif self._hold_ms and st != PAUSED:
                self._close_hold()
            if core.trigger_tick:
                self._trigger(core, now_s)
        f = core.fault
        if f != self._fault:
            self._fault = f
            if f:
                if self.active:
                    self._session_fault = f
                self._queue(csv_line(self.session_id if self.active else 0, _now(now_s),
                                     "fault", f, th, st))
        if self.active and st == IDLE and th <= 0:
            self._end(core, now_s)
        if (self.pending or self._summary is not None) and th <= 0 \
                and core.brake_engaged and core.duty_permille == 0:
            self.flush()
            summary = self._summary
            if summary is not None:
                self._summary = None
                if self.on_end is not None:
                    self.on_end(summary)
