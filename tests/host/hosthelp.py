"""Helpers for the host-tool tests: run `python -m host_tools` (what the
`invertctl` console script runs), and a simulated board behind a
pseudo-terminal (`python -m simulator serve`) with a device key."""
import os
import queue
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

PYTHON = sys.executable
KEY = bytes(range(32))
OTHER_KEY = bytes(range(50, 82))
# A quick session: the beginner program clipped to 5 degrees, a 3 s hold, no
# dwell, at the 6 deg/s ceiling; nobody sends heartbeats but the host tool.
# The person presses START on the table at 10 s (RUN only arms a program):
# each test sends its RUN before that.
SCENARIO = """{"name": "host-e2e", "board": "esp32-devkitc-actuator", "seed": 5,
 "duration_s": 3600, "person": {"mass_kg": 80, "height_cm": 178},
 "profile": {"level": 1, "age": 45, "cap_deg": 5, "hold_s": 3, "dwell_s": 0,
             "rate_deg_s": 6},
 "heartbeat": {"source": "none"},
 "events": [{"t": 10.0, "do": "press", "button": "start", "hold_s": 0.2}]}"""


def env_for(tmp):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env["INVERTCTL_STATE"] = os.path.join(str(tmp), "state.json")
    env.pop("INVERTCTL_PORT", None)
    env.pop("INVERTCTL_KEY", None)
    return env


def invertctl(tmp, *args, timeout=60):
    """Run the CLI to completion; returns CompletedProcess (text)."""
    return subprocess.run([PYTHON, "-m", "host_tools"] + [str(a) for a in args],
                          cwd=str(tmp), env=env_for(tmp), capture_output=True, text=True,
                          timeout=timeout)


class Lines:
    """A child's stdout read line by line in the background."""

    def __init__(self, stream):
        self.q = queue.Queue()
        self.all = []
        t = threading.Thread(target=self._read, args=(stream,), daemon=True)
        t.start()

    def _read(self, stream):
        for line in stream:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                return None
            self.all.append(line)
            if pred(line):
                return line
        return None

    def rest(self, timeout=5):
        self.wait_for(lambda line: False, timeout)
        return self.all


class Served:
    """`python -m simulator serve --scenario` in tmp, with device_key.bin there."""

    def __init__(self, tmp, scenario=SCENARIO):
        self.tmp = tmp
        with open(os.path.join(str(tmp), "device_key.bin"), "wb") as f:
            f.write(KEY)
        with open(os.path.join(str(tmp), "key.bin"), "wb") as f:
            f.write(KEY)
        with open(os.path.join(str(tmp), "other.bin"), "wb") as f:
            f.write(OTHER_KEY)
        path = os.path.join(str(tmp), "scenario.json")
        with open(path, "w") as f:
            f.write(scenario)
        self.err = open(os.path.join(str(tmp), "serve.err"), "w")
        self.proc = subprocess.Popen([PYTHON, "-m", "simulator", "serve", "--scenario", path],
                                     cwd=str(tmp), env=env_for(tmp), stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.out = Lines(self.proc.stdout)
        first = self.out.wait_for(lambda line: True, 30)
        if not first or not first.startswith("/dev/"):
            self.stop()
            with open(os.path.join(str(tmp), "serve.err")) as f:
                raise AssertionError("simulator serve did not print a port (got %r): %s"
                                     % (first, f.read()[-2000:]))
        self.port = first

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
