"""The simulated board in real time, behind a serial port (a pseudo-terminal).

    python -m simulator serve [--board NAME] [--scenario SCENARIO.json]

The first line on stdout is the path of the port (e.g. /dev/pts/7); open it
with the host tools or any serial terminal (115200 8N1, raw). Bytes written
to it reach the firmware's host UART at line rate, and what the firmware
writes comes back the same way: the port speaks exactly what the board's
host link speaks. Ticks run on 10 ms deadlines of the wall clock; the run
goes on until SIGINT or SIGTERM (exit status 0).

Without --scenario the table lies idle at home and the simulated host sends
no heartbeats: the program on the port is the host. --scenario applies that
scenario's board, person, profile, heartbeat and events at their times (its
duration is ignored: serving goes on after the last event); --board
overrides the scenario's board.

Nobody reading the port: bytes the firmware sends are dropped once the
pseudo-terminal's buffer is full, as on a serial line with nothing attached.
"""
import errno
import json
import os
import select
import signal
import sys
import time
import tty

from .runner import Runner
from .scenario import DEFAULT_BOARD, ScenarioError, parse_scenario

READ_BYTES = 4096
# Fallen this far behind the wall clock (a slow machine, a stopped process):
# start the deadlines afresh instead of running a burst of ticks.
RESYNC_S = 0.5


def _scenario(board, scenario_path):
    if scenario_path:
        try:
            with open(scenario_path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as exc:
            raise ScenarioError("%s: cannot read scenario: %s"
                                % (scenario_path, exc.strerror or exc)) from None
        except ValueError as exc:
            raise ScenarioError("%s: not valid JSON: %s" % (scenario_path, exc)) from None
        if board and isinstance(data, dict):
            data["board"] = board
        try:
            return parse_scenario(data, scenario_path)
        except ScenarioError as exc:
            raise ScenarioError("%s: %s" % (scenario_path, exc)) from None
    data = {"name": "serve", "board": board or DEFAULT_BOARD, "duration_s": 3600,
            "heartbeat": {"source": "none"}}
    return parse_scenario(data, "")


class _Stop:
    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        self.requested = True


def serve(board=None, scenario_path=None, out=None, app_factory=None, stop=None):
    """Serve until SIGINT/SIGTERM (or until stop.requested is set, for tests
    that run it in a thread); returns the exit status (0)."""
    out = out or sys.stdout
    sc = _scenario(board, scenario_path)
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    old = {}
    if stop is None:
        stop = _Stop()
        old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    runner = Runner(sc, app_factory, record=False, drain_host=False)
    try:
        out.write(os.ttyname(slave) + "\n")
        out.flush()
        print("serving board %s (scenario %s) in real time; Ctrl-C to stop"
              % (sc.board_name, sc.name), file=sys.stderr, flush=True)
        runner.open()
        uart = runner.uart
        period = runner.tick_ms / 1000.0
        deadline = time.monotonic()
        while not stop.requested:
            now = time.monotonic()
            if now < deadline:
                try:
                    ready = select.select([master], [], [], deadline - now)[0]
                except InterruptedError:
                    continue
                if ready:
                    _pump_in(master, uart)
                continue
            _pump_in(master, uart)
            runner.advance(runner.k)
            data = uart.host_read()
            if data:
                _pump_out(master, data)
            deadline += period
            if time.monotonic() - deadline > RESYNC_S:
                deadline = time.monotonic()
    finally:
        runner.close()
        for s, handler in old.items():
            signal.signal(s, handler)
        os.close(master)
        os.close(slave)
    return 0


def _pump_in(master, uart):
    while True:
        try:
            data = os.read(master, READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:   # no client side open: nothing to read
                return
            raise
        if not data:
            return
        uart.host_write(data)


def _pump_out(master, data):
    while data:
        try:
            n = os.write(master, data)
        except BlockingIOError:
            return   # nobody reads the port and its buffer is full: the bytes are lost
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            return
        data = data[n:]
