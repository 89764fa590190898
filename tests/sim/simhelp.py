"""Helpers for the simulator tests: the repository on the import path, a
scripted stand-in for the firmware's App, and scenario building.
(Not conftest.py: other test folders have one of that name.)"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from simulator.scenario import parse_scenario  # noqa: E402

PYTHON = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(PYTHON):
    PYTHON = sys.executable
SCENARIOS = os.path.join(REPO, "scenarios")


def scenario(**kw):
    data = {"name": "t", "duration_s": 5}
    data.update(kw)
    return parse_scenario(data)


def cli(*args, timeout=120):
    """python -m simulator ARGS in the repository; the CompletedProcess."""
    return subprocess.run([PYTHON, "-m", "simulator"] + list(args), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


class FakeCore:
    def __init__(self):
        self.state = "idle"
        self.theta_mdeg = 0
        self.setpoint_mdeg = 0
        self.setpoint_rate_mdeg_s = 0
        self.setpoint_accel_mdeg_s2 = 0
        self.cap_mdeg = 60000
        self.duty_permille = 0
        self.brake_engaged = True
        self.heartbeat_ok = True
        self.fault = ""
        self.event = ""
        self.trigger_tick = False


class FakeApp:
    """Records what the runner hands it; `script` (tick number -> callable(app))
    lets a test make it misbehave on a given tick of its life."""

    def __init__(self, board, devices, profile, log, script):
        self.board = board
        self.dev = devices
        self.profile = profile
        self.core = FakeCore()
        self.log = log
        self.script = script
        self.ticks = 0
        log.append(("boot", self))

    def tick(self, dt_ms):
        self.ticks += 1
        self.core.event = ""
        self.dev.hostlink.poll(self._on_line)
        action = self.script.get(self.ticks)
        if action is not None:
            action(self)

    def _on_line(self, buf, n):
        line = bytes(buf[:n])
        self.log.append(("uart_line", line))
        self.dev.hostlink.write(b"echo " + line + b"\n")

    def heartbeat(self, source):
        self.log.append(("heartbeat", source, self.ticks))

    def start_program(self, name):
        self.log.append(("program", name))
        return (name == "good", "no such program")

    def host_line(self, line):
        self.log.append(("host_line", bytes(line)))
        return b"ok\n"


def fake_factory(log, script=None):
    script = script or {}

    def make(board, devices, profile):
        return FakeApp(board, devices, profile, log, script)

    return make
