"""invertctl against the simulated board over a pseudo-terminal, exactly as
against a real one: a session with the heartbeat, a clinician profile change
and its refusals, a log download, STOP on Ctrl-C, and the host killed
mid-session (the table comes home by itself because heartbeats stop).

Real time: each test runs its own `simulator serve` for about half a minute.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from hosthelp import PYTHON, Lines, Served, env_for, invertctl



@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.stop()


def status(served):
    r = invertctl(served.tmp, "--port", served.port, "status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["status"]


def profile(served):
    r = invertctl(served.tmp, "--port", served.port, "profile", "show")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout[:r.stdout.rindex("}") + 1])


def wait_home(served, timeout_s=60):
    """Poll STATUS until idle at home; returns the states seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = status(served)
        seen.append((st["st"], float(st["ang"]), st["why"], st["brk"]))
        if st["st"] == "idle" and abs(float(st["ang"]) + 70) < 1.5 and st["brk"] == "1":
            return seen
        time.sleep(0.3)
    raise AssertionError("not home: %r" % seen[-5:])


def start_run(served):
    proc = subprocess.Popen([PYTHON, "-m", "host_tools", "--port", served.port, "run",
                             "beginner"], cwd=str(served.tmp), env=env_for(served.tmp),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = Lines(proc.stdout)

    def inverted(line):
        return line.startswith("t=") and float(line.split(" ang=")[1].split()[0]) > 0.5
    assert lines.wait_for(inverted, 60), lines.all
    return proc, lines


def test_session_profile_change_and_log_download(served, tmp_path):
    port = served.port
    # A whole session with the host's heartbeat: RUN arms it, START (pressed on
    # the table at 10 s by the scenario) begins it.
    r = invertctl(tmp_path, "--port", port, "run", "beginner", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "beginner armed: press START on the table" in out
    assert "event: state moving from=idle" in out
    assert "event: state holding" in out
    assert "event: state returning from=holding why=hold_limit" in out
    assert out.rstrip().endswith("session complete: home, brake on")
    assert max(float(line.split(" ang=")[1].split()[0]) for line in out.splitlines()
               if line.startswith("t=")) <= 5 + 1.0
    st = status(served)
    assert st["st"] == "idle" and st["brk"] == "1" and abs(float(st["ang"]) + 70) < 1.5

    r = invertctl(tmp_path, "--port", port, "status")
    assert r.returncode == 0 and "device key yes" in r.stdout, r.stdout + r.stderr
    before = profile(served)
    assert before["hold_s"] == 3
    # The clinician's change, signed with the device key and a fresh counter.
    r = invertctl(tmp_path, "--port", port, "profile", "set", "hold_s=2", "--key", "key.bin")
    assert r.returncode == 0, r.stderr
    assert "counter 1" in r.stdout
    assert profile(served)["hold_s"] == 2 and status(served)["ctr"] == "1"
    # The wrong key, and the right key with a replayed counter: refused, nothing changes.
    r = invertctl(tmp_path, "--port", port, "profile", "set", "cap_deg=60", "level=3",
                  "--key", "other.bin")
    assert r.returncode == 1 and "auth: bad MAC" in r.stderr and "Traceback" not in r.stderr
    r = invertctl(tmp_path, "--port", port, "profile", "set", "cap_deg=60", "--key", "key.bin",
                  "--counter", "1")
    assert r.returncode == 1 and "auth: stale counter" in r.stderr
    assert profile(served) == dict(before, hold_s=2)
    assert status(served)["ctr"] == "1"

    # The logs, as CSV.
    r = invertctl(tmp_path, "--port", port, "logs", "list")
    assert r.returncode == 0, r.stderr
    r = invertctl(tmp_path, "--port", port, "logs", "pull", "-o", "session.csv")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(str(tmp_path), "session.csv"))


def test_ctrl_c_sends_stop_and_the_table_returns_upright(served):
    proc, lines = start_run(served)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 130
    out = lines.rest(2)
    assert "STOP sent: the table is returning upright" in out, out
    seen = wait_home(served)
    assert any(s == "emergency_return" and why == "stop" for s, _, why, _ in seen), seen
    time.sleep(2)
    assert status(served)["st"] == "idle"              # releasing never restarts


def test_host_killed_mid_session_heartbeat_loss_brings_the_table_home(served):
    proc, lines = start_run(served)
    proc.send_signal(signal.SIGKILL)                  # no STOP: the host just dies
    proc.wait(10)
    seen = wait_home(served)
    states = [s for s, _, _, _ in seen]
    assert "emergency_return" in states, seen
    assert any(why == "heartbeat_lost" for _, _, why, _ in seen), seen
    assert states[-1] == "idle"

    # The live view: Ctrl-C leaves it cleanly; what it recorded plots.
    mon = subprocess.Popen([PYTHON, "-m", "host_tools", "--port", served.port, "monitor",
                            "--record", "watch.csv"], cwd=str(served.tmp),
                           env=env_for(served.tmp), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    mon.send_signal(signal.SIGINT)
    out, err = mon.communicate(timeout=10)
    assert mon.returncode == 0 and "Traceback" not in err, err
    assert "idle" in out
    with open(os.path.join(str(served.tmp), "watch.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0].startswith("t_s,theta_deg,setpoint_deg,cap_deg,state") and len(rows) > 10
    r = invertctl(served.tmp, "plot", "watch.csv")
    assert r.returncode == 0, r.stderr
