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

SessionRecorder is called by the App every tick, after the core. It
allocates nothing in a tick where nothing happens (integer and string
comparisons only) and writes to flash only with nobody head-down: records
are queued in RAM and written when the bed is at rest at or below
horizontal (theta <= 0, brake engaged, no drive), because a flash write
stalls the loop for tens of ms. The one exception is the start record,
written on the tick the motion starts (the bed still below horizontal and
barely moving), so that a session cut short by a power failure is still on
record; the next boot closes it with outcome "interrupted" (recover()).
The price: stop and fault records queued while inverted are lost if the
power fails before the table is back down (the boot that follows logs its
own boot_inverted return).
"""
from control.sequencer import IDLE, MOVING, HOLDING, PAUSED
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
_HOLDS_MAX = const(16)
# Shorter "holds" are the turnarounds of swings, not holds.
_HOLD_LOG_MIN_MS = const(1000)
# Noise margin: a bed resting at horizontal must not open a session per wobble.
_SESSION_START_MDEG = const(1000)
# core.py's event when Core.start_steps starts a program at once (earlier
# cores; later ones arm it and START begins it: the sequencer then moves).
_EV_PROGRAM_START = const("program_start")
# The supervisor's state name while booting.
_BOOT = "boot"

LOG_HEADER = "session,time_s,kind,what,angle_mdeg,detail"
LIST_HEADER = "session,start_s,program,outcome,max_mdeg"
_SLOT_PREFIX = const("log")
_SEQ_TAG = "#log,"

OUT_COMPLETED = "completed"
OUT_SYMPTOMS = "symptom_stop"
_OUT_FAULT = const("fault")
OUT_ENDED = "ended"
OUT_INTERRUPTED = "interrupted"


def _clean(text):
    # One CSV field: no separators, no line breaks.
    return str(text).replace(",", ";").replace("\n", " ").replace("\r", " ")


def csv_line(session_id, time_s, kind, what, angle_mdeg, detail):
    # An unset clock (None or 0: the host has not sent TIME SET) leaves it empty.
    line = "%d,%s,%s,%s,%d,%s" % (session_id, str(time_s) if time_s else "",
                                  kind, _clean(what), angle_mdeg, _clean(detail))
    return line[:LINE_MAX]


def _fields(line):
    return line.split(",", 5)


def _sid(line):
    """The session id a line starts with, or -1."""
    comma = line.find(",")
    head = line[:comma] if comma > 0 else ""
    return int(head) if head.isdigit() else -1


def _count(pairs, sid, n):
    for pair in pairs:
        if pair[0] == sid:
            pair[1] += n
            return
    pairs.append([sid, n])


class Log:
    """The ring of log slots over a storage.Storage.

    A small index in RAM (per slot: its seq and [session id, lines] pairs)
    answers index() without reading flash, and lets pull() read only the
    slots that hold the session: the host link serves LOGS from the tick.
    """

    def __init__(self, storage, files=FILES, file_bytes=FILE_BYTES):
        self.storage = storage
        self.files = files
        self.file_bytes = file_bytes
        self.slot = -1
        self.seq = 0
        self.next_id = 1
        self.notes = []
        self._slots = [None] * files        # (seq, [[sid, lines], ...]) or None
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
            pairs = []
            for line in text.split("\n")[1:]:
                sid = _sid(line)
                if sid >= 0:
                    _count(pairs, sid, 1)
                    if sid >= self.next_id:
                        self.next_id = sid + 1
            self._slots[k] = (seq, pairs)

    def slot_name(self, k):
        return _SLOT_PREFIX + str(k)

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
        if self.slot >= 0 and self._slots[self.slot] is not None:
            payload, _ = self.storage.read(self.slot_name(self.slot))
            if payload is not None and len(payload) + len(data) <= self.file_bytes:
                self.storage.write(self.slot_name(self.slot), payload + data)
                pairs = self._slots[self.slot][1]
                for line in lines:
                    _count(pairs, _sid(line), 1)
                return
        slot = (self.slot + 1) % self.files
        seq = self.seq + 1
        self.storage.write(self.slot_name(slot), (_SEQ_TAG + str(seq) + "\n").encode() + data)
        self.slot = slot
        self.seq = seq
        pairs = []
        for line in lines:
            _count(pairs, _sid(line), 1)
        self._slots[slot] = (seq, pairs)

    def _order(self):
        """Slot numbers holding records, oldest first."""
        found = [(self._slots[k][0], k) for k in range(self.files) if self._slots[k] is not None]
        found.sort()
        return [k for _, k in found]

    def index(self):
        """[(session id as text, lines)], oldest first, from RAM (host LOGS LIST)."""
        pairs = []
        for k in self._order():
            for sid, n in self._slots[k][1]:
                _count(pairs, sid, n)
        return [(str(sid), n) for sid, n in pairs]

    def _lines_of(self, slots, session_id):
        out = []
        for k in slots:
            text = self._slot_text(k)
            if text is None:
                continue
            for line in text.split("\n")[1:]:
                if line and (session_id < 0 or _sid(line) == session_id):
                    out.append(line)
        return out

    def lines(self):
        """Every CSV line in the log, oldest first (reads every slot)."""
        return self._lines_of(self._order(), -1)

    def pull(self, session_id):
        """CSV lines of one session, header first (host LOGS PULL); reads only
        the slots that hold it."""
        sid = int(session_id)
        slots = [k for k in self._order() if [p for p in self._slots[k][1] if p[0] == sid]]
        return [LOG_HEADER] + self._lines_of(slots, sid)

    def list(self):
        """CSV: one line per session (reads every slot: call it at rest)."""
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

    def last_session(self):
        """(id, kind of its last record) of the newest session, or (0, "")."""
        sid = 0
        for k in self._order():
            for p in self._slots[k][1]:
                if p[0] > sid:
                    sid = p[0]
        if sid == 0:
            return 0, ""
        lines = self.pull(sid)
        return sid, _fields(lines[-1])[2]


def steps_text(steps):
    return ";".join(["%d/%d" % (s[0], s[1]) for s in steps])


def _now(now_s):
    return now_s() if callable(now_s) else now_s


class SessionRecorder:
    """Turns the core's telemetry into log records, on events only.

    A session opens on the first tick the sequencer runs a program (moving or
    holding) or the bed is above _SESSION_START_MDEG (a jog, or a boot while
    inverted), and closes on the first tick the core is idle with the bed at
    or below horizontal. A trigger is a tick whose core.event is the
    supervisor's reason (the supervisor announces every escalation that way)
    or that sets core.trigger_tick. A fault is any change of core.fault.

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
        self._summaries = []
        self._fault = ""
        self._noted = None
        self._noted_steps = ""
        self._write_start = False
        self._holds_ms = [0] * _HOLDS_MAX
        self._holds_mdeg = [0] * _HOLDS_MAX
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

    def note_program(self, name, steps):
        """The App accepted program `name` (armed or started): its name and
        steps go into the start record of the session it opens."""
        self._noted = name
        self._noted_steps = steps_text(steps) if steps else ""

    def _start(self, core, now_s, st):
        if self._noted is not None and (st == MOVING or st == HOLDING):
            program = self._noted
            steps = self._noted_steps
            self._noted = None
        else:
            program = "boot" if st == _BOOT else "jog"
            steps = ""
        self._reset(program)
        self.active = True
        self.session_id = self.log.new_id()
        self._queue(csv_line(self.session_id, _now(now_s), "start", program,
                             core.cap_mdeg, steps))
        self._write_start = True

    def _close_hold(self):
        if self._hold_ms >= _HOLD_LOG_MIN_MS and self._nholds < _HOLDS_MAX:
            self._holds_ms[self._nholds] = self._hold_ms
            self._holds_mdeg[self._nholds] = self._hold_mdeg
            self._nholds += 1
        self._hold_ms = 0

    def _trigger(self, core, now_s, reason):
        if not self._first_trigger:
            self._first_trigger = reason
        if reason == T_STOP or reason == T_ESTOP:
            # The firmware cannot tell why STOP was pressed: every press
            # during a session counts as a stop for symptoms (the safe reading).
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
            outcome = _OUT_FAULT
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
        self._summaries.append({"id": self.session_id, "program": self.program,
                                "outcome": outcome, "completed": outcome == OUT_COMPLETED,
                                "symptoms": self._symptoms, "max_mdeg": self._max_mdeg,
                                "inverted_ms": self._inverted_ms})
        self.active = False

    def recover(self, now_s=None):
        """At boot, before the loop: close a session the power cut short.
        Its end record (outcome "interrupted": neither completed nor a symptom
        stop) is queued, and its summary goes to on_end, like any session's,
        once the table is at rest; returns that summary, or None."""
        sid, kind = self.log.last_session()
        if sid == 0 or kind == "end":
            return None
        self.pending.append(csv_line(sid, _now(now_s), "end", OUT_INTERRUPTED, 0,
                                     "power lost or reset during the session"))
        summary = {"id": sid, "program": "", "outcome": OUT_INTERRUPTED, "completed": False,
                   "symptoms": False, "max_mdeg": 0, "inverted_ms": 0}
        self._summaries.append(summary)
        return summary

    # -- every tick ------------------------------------------------------------------

    def tick(self, core, dt_ms, now_s):
        """After Core.tick. now_s: wall-clock seconds, or a function returning
        them (called only when a record is made)."""
        st = core.state
        th = core.theta_mdeg
        ev = core.event
        if not self.active:
            if st == MOVING or st == HOLDING or th > _SESSION_START_MDEG or ev == _EV_PROGRAM_START:
                self._start(core, now_s, st)
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
            if core.trigger_tick or (ev and ev == core.supervisor.reason):
                self._trigger(core, now_s, core.supervisor.reason)
        if core.fault != self._fault:
            self._fault_changed(core, now_s)
        if self.active and st == IDLE and th <= 0:
            self._end(core, now_s)
        if self._write_start:
            # The start record goes to flash on the tick the motion starts,
            # while the bed is still below horizontal and barely moving: if
            # the power fails later, the log still shows the session began.
            self._write_start = False
            if th <= 0:
                self.flush()
        if (self.pending or self._summaries) and th <= 0 \
                and core.brake_engaged and core.duty_permille == 0:
            self._at_rest()

    # Everything that allocates lives in the methods below, called only on
    # events; tick() itself compares and adds integers.

    def _fault_changed(self, core, now_s):
        f = core.fault
        self._fault = f
        if f:
            if self.active:
                self._session_fault = f
            self._queue(csv_line(self.session_id if self.active else 0, _now(now_s),
                                 "fault", f, core.theta_mdeg, core.state))

    def _at_rest(self):
        self.flush()
        while self._summaries:
            summary = self._summaries.pop(0)
            if self.on_end is not None:
                self.on_end(summary)
