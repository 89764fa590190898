"""The session log: bounded rotation, list/pull for the host, and the
SessionRecorder writing on events only, never while the person is inverted."""
from hypothesis import given, settings, strategies as st

from simulator.flash import FlashFs, PowerLost
from session.storage import Storage, HEADER_BYTES
from session import log as slog
from session.log import Log, SessionRecorder, csv_line


def _session_lines(sid, t, stops):
    lines = [csv_line(sid, t, "start", "decompression", 60000, "0/0;20000/0;" * 8 + "60000/120000")]
    for k in range(stops):
        lines.append(csv_line(sid, t + 10 + k, "stop", "stop", 41234, "emergency_return"))
    lines.append(csv_line(sid, t + 200, "end", "completed", 60400,
                          "inverted_ms=180000;holds=60000@120000;trigger=program_done;fault=;dropped=0"))
    return lines


def test_rotation_stays_within_its_byte_bound_for_thousands_of_sessions():
    fs = FlashFs(0)
    log = Log(Storage(fs))
    bound = slog.FILES * (slog.FILE_BYTES + HEADER_BYTES)
    peak = 0
    for sid in range(1, 3001):
        for line in _session_lines(sid, sid * 1000, sid % 3):
            log.append([line])
        used = fs.used_bytes()
        peak = max(peak, used)
        assert used <= bound
        assert len(fs.listdir()) <= slog.FILES
    assert peak > bound * 0.9          # the ring really is full
    listing = log.list()
    assert listing[0] == slog.LIST_HEADER
    ids = [int(line.split(",")[0]) for line in listing[1:]]
    assert ids == sorted(ids) and ids[-1] == 3000 and len(ids) > 40
    # A reboot finds the same ring and carries on numbering.
    again = Log(Storage(fs))
    assert again.next_id == 3001 and again.lines() == log.lines()


def test_pull_and_list_give_csv_for_the_host():
    log = Log(Storage(FlashFs(0)))
    for sid in (1, 2):
        log.append(_session_lines(sid, 1700000000 + sid, 1))
    assert log.list() == [slog.LIST_HEADER,
                          "1,1700000001,decompression,completed,60400",
                          "2,1700000002,decompression,completed,60400"]
    pulled = log.pull(2)
    assert pulled[0] == slog.LOG_HEADER
    assert [line.split(",")[2] for line in pulled[1:]] == ["start", "stop", "end"]
    assert all(len(line.split(",")) == 6 for line in pulled)
    assert log.pull(9) == [slog.LOG_HEADER]


def test_fields_never_break_the_csv():
    line = csv_line(3, None, "stop", "a,b\nc", -5, "x" * 1000)
    assert "\n" not in line and len(line.split(",")) == 6 and len(line) <= slog.LINE_MAX


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(1, 120), seed=st.integers(0, 10 ** 6), fat=st.booleans())
def test_a_cut_append_leaves_the_old_or_the_new_log(cut, seed, fat):
    fs = FlashFs(seed, rename_replaces=not fat)
    log = Log(Storage(fs), 3, 400)
    fs.cut_at(cut)
    committed = []
    before = lines = []
    try:
        for sid in range(1, 40):
            lines = _session_lines(sid, sid, 0)[:1]
            before = list(committed)
            log.append(lines)
            committed = Log(Storage(fs), 3, 400).lines()
    except PowerLost:
        fs.power_on()
        after = Log(Storage(fs), 3, 400)
        assert after.notes == []
        assert after.lines() in (before, _expected_after(before, lines, 3, 400))


def _expected_after(before, lines, files, file_bytes):
    # The new log: same as the old plus the lines, less whatever rotated out.
    fs = FlashFs(0)
    log = Log(Storage(fs), files, file_bytes)
    for line in before + lines:
        log.append([line])
    return log.lines()


# -- the recorder ----------------------------------------------------------------------

class FakeSupervisor:
    def __init__(self):
        self.reason = ""


class FakeCore:
    """The telemetry the recorder reads, as Core leaves it after a tick."""

    def __init__(self):
        self.state = "idle"
        self.theta_mdeg = -70000
        self.setpoint_mdeg = -70000
        self.cap_mdeg = 60000
        self.event = ""
        self.trigger_tick = False
        self.fault = ""
        self.brake_engaged = True
        self.duty_permille = 0
        self.supervisor = FakeSupervisor()


def _run(rec, core, ticks, **changes):
    for key, value in changes.items():
        setattr(core, key, value)
    for _ in range(ticks):
        rec.tick(core, 10, 1700000000)
        core.event = ""
        core.trigger_tick = False


def _recorder():
    fs = FlashFs(0)
    ended = []
    rec = SessionRecorder(Log(Storage(fs)), ended.append)
    return fs, rec, ended


def test_stop_for_symptoms_is_recorded_and_written_only_at_rest():
    fs, rec, ended = _recorder()
    core = FakeCore()
    _run(rec, core, 50)
    rec.note_program("decompression", [(20000, 0, ""), (60000, 120000, "hold")])
    _run(rec, core, 50, event="program_ready")     # armed: no session yet
    assert fs.points == 0 and not rec.active        # idle ticks write nothing
    # START: the motion begins at home; the start record is written now.
    _run(rec, core, 1, state="moving", brake_engaged=False, duty_permille=400, theta_mdeg=-69900)
    written = fs.points
    assert written > 0 and rec.log.pull(1)[1].split(",")[2:4] == ["start", "decompression"]
    assert rec.log.pull(1)[1].endswith("20000/0;60000/120000")
    _run(rec, core, 300, theta_mdeg=30000)
    _run(rec, core, 500, state="holding", theta_mdeg=60000, setpoint_mdeg=60000,
         brake_engaged=True, duty_permille=0)
    core.supervisor.reason = "stop"
    _run(rec, core, 1, state="emergency_return", trigger_tick=True, event="stop",
         brake_engaged=False, duty_permille=-800)
    _run(rec, core, 400, theta_mdeg=20000)
    assert fs.points == written                    # nothing written while inverted
    _run(rec, core, 100, theta_mdeg=-60000)
    assert fs.points == written                    # still moving: nothing yet
    assert ended == []
    _run(rec, core, 5, state="idle", theta_mdeg=-70000, brake_engaged=True, duty_permille=0)
    assert fs.points > written
    assert len(ended) == 1
    summary = ended[0]
    assert summary["symptoms"] and not summary["completed"]
    assert summary["outcome"] == slog.OUT_SYMPTOMS and summary["max_mdeg"] == 60000
    kinds = [line.split(",")[2] for line in rec.log.pull(1)[1:]]
    assert kinds == ["start", "stop", "end"]
    stop = rec.log.pull(1)[2].split(",")
    assert stop[3] == "stop" and stop[4] == "60000"
    end = rec.log.pull(1)[3].split(",")
    assert "holds=60000@5000" in end[5]
    _run(rec, core, 100)
    assert len(ended) == 1                         # once per session
    assert rec.log.index() == [("1", 3)]


def test_a_return_announced_by_event_only_is_a_trigger():
    # The supervisor announces RETURN triggers (program_done, hold_limit)
    # through core.event == supervisor.reason, without trigger_tick.
    fs, rec, ended = _recorder()
    core = FakeCore()
    rec.note_program("beginner", [(20000, 90000, "")])
    _run(rec, core, 200, state="holding", theta_mdeg=20000, setpoint_mdeg=20000)
    core.supervisor.reason = "program_done"
    _run(rec, core, 1, state="returning", event="program_done", brake_engaged=False,
         duty_permille=-300)
    _run(rec, core, 50, event="dwell")
    _run(rec, core, 10, state="idle", theta_mdeg=-70000, brake_engaged=True, duty_permille=0,
         event="home")
    assert ended[0]["completed"] and ended[0]["outcome"] == slog.OUT_COMPLETED
    assert [line.split(",")[2:4] for line in rec.log.pull(1)[1:]] == [
        ["start", "beginner"], ["stop", "program_done"], ["end", "completed"]]
    core.supervisor.reason = "imu_frozen"
    _run(rec, core, 1, state="halted", fault="imu_frozen", trigger_tick=True, event="imu_frozen")
    _run(rec, core, 3)
    assert rec.log.pull(0)[1].split(",")[2:5] == ["fault", "imu_frozen", "-70000"]
    assert len(ended) == 1


def test_a_jog_inversion_is_a_session_too():
    fs, rec, ended = _recorder()
    core = FakeCore()
    _run(rec, core, 100, state="jog", theta_mdeg=15000, brake_engaged=False, duty_permille=200)
    _run(rec, core, 100, state="idle", theta_mdeg=-2000, brake_engaged=True, duty_permille=0)
    assert ended[0]["program"] == "jog" and ended[0]["outcome"] == slog.OUT_ENDED
    assert not ended[0]["completed"] and not ended[0]["symptoms"]


def test_recover_closes_a_session_cut_short():
    fs, rec, _ = _recorder()
    core = FakeCore()
    rec.note_program("decompression", [(60000, 120000, "")])
    _run(rec, core, 1, state="moving", theta_mdeg=-69000, brake_engaged=False)
    _run(rec, core, 100, state="holding", theta_mdeg=60000, brake_engaged=True)
    # The power fails here; the board boots again on the same flash.
    ended = []
    rec2 = SessionRecorder(Log(Storage(fs)), ended.append)
    summary = rec2.recover(9)
    assert summary["outcome"] == slog.OUT_INTERRUPTED and not summary["completed"]
    # Queued, not written: the boot may find the table inverted. The first
    # tick at rest writes it and reports the session to progression.
    assert rec2.log.list()[1] == "1,1700000000,decompression,?,0"
    boot = FakeCore()
    boot.state = "boot"
    _run(rec2, boot, 1)
    assert rec2.log.list()[1] == "1,1700000000,decompression,interrupted,0"
    assert ended == [summary]
    assert SessionRecorder(Log(Storage(fs))).recover(10) is None
    assert rec2.log.new_id() == 2


def test_queue_is_bounded_and_the_end_record_always_fits():
    fs, rec, ended = _recorder()
    core = FakeCore()
    _run(rec, core, 1, state="moving", theta_mdeg=-69000)
    for k in range(100):
        core.supervisor.reason = "stall"
        _run(rec, core, 1, state="emergency_return", theta_mdeg=10000, trigger_tick=True,
             brake_engaged=False)
    assert len(rec.pending) < slog.PENDING_MAX
    _run(rec, core, 2, state="idle", theta_mdeg=-70000, brake_engaged=True, duty_permille=0)
    lines = rec.log.pull(1)
    assert lines[-1].split(",")[2] == "end" and "dropped=" in lines[-1]
    assert rec.dropped > 0


def test_a_failing_flash_never_stops_the_loop():
    class Broken(FlashFs):
        def open(self, name, mode):
            if "w" in mode:
                raise OSError(28)
            return FlashFs.open(self, name, mode)

    rec = SessionRecorder(Log(Storage(Broken(0))))
    core = FakeCore()
    _run(rec, core, 1, state="moving", theta_mdeg=-69000)
    _run(rec, core, 10, state="idle")
    assert rec.write_errors >= 1


def test_index_and_pull_read_only_what_they_need():
    fs = FlashFs(0)
    log = Log(Storage(fs), 4, 300)
    for sid in range(1, 12):
        log.append([csv_line(sid, sid, "start", "p", 0, "")])
        log.append([csv_line(sid, sid, "end", "completed", 0, "")])
    index = log.index()
    assert index == Log(Storage(fs), 4, 300).index()         # RAM index == flash
    assert [n for _, n in index][1:] == [2] * (len(index) - 1)
    assert index[-1] == ("11", 2)

    class Counting(Storage):
        reads = []

        def read(self, name):
            Counting.reads.append(name)
            return Storage.read(self, name)

    counted = Log(Counting(fs), 4, 300)
    Counting.reads.clear()
    assert len(counted.pull(11)) == 3
    assert len(set(Counting.reads)) == 1
