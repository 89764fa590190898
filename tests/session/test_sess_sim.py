"""CPython only: the session layer in the real App and Core, run in the
simulator against the plant: profile and progression loaded from storage at
boot, the recorder ticked after the core, progression updated at session
end, the log and progression on an emulated flash that survives the
simulated power cycles."""
import os

from simulator.flash import FlashFs
from simulator.scenario import load_scenario
from simulator.runner import run

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WALL_START_S = 1767225600          # 2026-01-01T00:00:00Z


def _factory(fs, boots):
    def factory(board, devices, profile):
        # Imported here: the runner re-imports the firmware at every boot.
        from app import App
        from link.frame import encode
        from session.storage import Storage
        from session import profiles
        storage = Storage(fs)
        if profile is not None:
            profiles.save(storage, profile)       # the clinician's profile
        # As main.py does: the stored profile, beginner if missing or corrupt.
        base, _note = profiles.load(storage)
        app = App(board, devices, base, storage)
        # What the host does when it connects: TIME SET.
        app.link.handle_line(encode(b"1", "TIME SET %d" % WALL_START_S).rstrip(b"\n"))
        boots.append(app)
        return app
    return factory


def _run(name):
    fs = FlashFs(0)
    boots = []
    result = run(load_scenario(os.path.join(REPO, "scenarios", name + ".json")),
                 _factory(fs, boots))
    assert len(boots) == (2 if name == "power-cut-inverted" else 1), result.summary["resets"]
    assert result.summary["reset_count"] == 0, result.summary["resets"]
    return fs, boots[-1]


def _records(app):
    return [line.split(",") for line in app.recorder.log.lines()]


def test_a_completed_session_is_logged_and_counts_for_progression():
    fs, app = _run("normal-session")
    recs = _records(app)
    assert [r[2] for r in recs] == ["start", "stop", "end"]
    start, done, end = recs
    assert start[3] == "decompression" and start[4] == "60000"
    assert done[3] == "program_done"
    assert end[3] == "completed"
    assert 59000 <= int(end[4]) <= 61000                 # max angle reached
    holds = dict(h.split("@") for h in end[5].split("holds=")[1].split(";")[0].split())
    assert any(abs(int(mdeg) - 60000) < 1000 and int(ms) >= 119000 for mdeg, ms in holds.items())
    assert app.progress["history"][-1][2:] == [True, False]
    sid, start_s, program, outcome, _ = app.recorder.log.list()[1].split(",")
    assert (sid, program, outcome) == ("1", "decompression", "completed")
    assert WALL_START_S <= int(start_s) <= WALL_START_S + 30
    # The host link serves the log from the RAM index.
    from link.frame import encode
    reply = app.host_line(encode(b"5", "LOGS LIST").rstrip(b"\n"))
    assert b"OK logs=1 1:3" in reply
    assert not any(n.endswith(".new") for n in fs.listdir())


def test_stop_at_60_is_logged_as_a_stop_for_symptoms():
    _, app = _run("stop-at-60")
    recs = _records(app)
    assert [r[2] for r in recs] == ["start", "stop", "end"]
    stop = recs[1]
    assert stop[3] == "stop" and abs(int(stop[4]) - 60000) < 1500
    assert recs[2][3] == "symptom_stop"
    assert app.progress["history"][-1][2:] == [False, True]
    assert app.recorder.log.pull(1)[0] == "session,time_s,kind,what,angle_mdeg,detail"


def test_power_cut_while_inverted_closes_the_session_and_logs_the_boot_return():
    _, app = _run("power-cut-inverted")
    recs = _records(app)
    kinds = [(r[0], r[2], r[3]) for r in recs]
    # Session 1: its start was on flash before the table moved; the records
    # queued while inverted died with the power; the boot closes it.
    assert kinds[0] == ("1", "start", "decompression")
    assert ("1", "end", "interrupted") in kinds
    # Session 2: the boot found the table inverted and brought it home.
    assert ("2", "start", "boot") in kinds
    assert ("2", "stop", "boot_inverted") in kinds
    assert ("2", "end", "boot_inverted") in kinds
    hist = app.progress["history"]
    assert [h[2:] for h in hist] == [[False, False], [False, False]]   # neither counts


def test_a_lost_heartbeat_is_logged_and_is_not_a_symptom_stop():
    _, app = _run("heartbeat-loss")
    ends = [r for r in _records(app) if r[2] == "end"]
    assert [e[3] for e in ends] == ["heartbeat_lost"]
    assert app.progress["history"][-1][2:] == [False, False]


def test_a_fault_is_logged_with_its_code_and_never_written_while_inverted():
    _, app = _run("fault-imu_freeze")
    if app.core.theta_mdeg > 0:
        # Halted head-down: the fault record waits in RAM, nothing is written.
        assert app.recorder.active
        assert app.recorder.pending[0].split(",")[2:4] == ["fault", "imu_frozen"]
        assert [r[2] for r in _records(app)] == ["start"]
        return
    recs = _records(app)
    assert [r[2:4] for r in recs[1:]] == [["fault", "imu_frozen"], ["end", "fault"]]
    assert "fault=imu_frozen" in recs[-1][5]
    assert app.progress["history"][-1][2:] == [False, False]
