"""A closed loop for the host-link tests: the real App on the simulator's
plant and emulated machine, and a host side that frames, signs and reads
lines the way host_tools does (its own code: the two ends are checked
against each other, not against themselves).

Usage::

    rig = LinkRig(profile={"level": 3}, key=KEY)
    rig.run_until(lambda r: r.core.state == "idle", 300)
    reply = rig.call("STATUS")                  # through App.host_line
    rig.start("beginner")                       # RUN over the link, START on the table
    rig.send_uart("STOP")                       # through the host UART
    rig.run(50); rig.received()                 # parsed lines from the board
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
for _p in (REPO, os.path.join(REPO, "firmware")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from simulator import machine as sim_machine  # noqa: E402
from simulator.plant import Plant  # noqa: E402
from host_tools import protocol  # noqa: E402

ACTUATOR = "esp32-devkitc-actuator"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))


def load_board(name=ACTUATOR):
    with open(os.path.join(REPO, "boards", name + ".json")) as f:
        return json.load(f)


class LinkRig:
    def __init__(self, profile=None, board=ACTUATOR, key=KEY, seed=3, heartbeat_every=25,
                 flash=None, theta_deg=None):
        self.board = load_board(board)
        self.plant = Plant(self.board, None, seed, theta_deg=theta_deg)
        self.emul = self.plant.emul
        sim_machine.install(self.emul)
        from drivers.board_setup import setup_board
        from app import App
        from link.auth import Authenticator
        hu = self.board["host_uart"]
        self.uart = self.emul.uart(hu["id"], hu["baud"])
        self.dev = setup_board(self.board)
        storage = None
        if flash is not None:
            from session.storage import Storage
            storage = Storage(flash)
        self.app = App(self.board, self.dev, dict(profile or {}), storage)
        self.app.link.auth = Authenticator(key)
        self.core = self.app.core
        self.key = key
        self.ticks = 0
        self.heartbeat_every = heartbeat_every
        self._seq = 0
        self._rx = b""

    def tick(self):
        self.plant.step(10)
        self.plant.emul.advance(10)
        if self.heartbeat_every and self.ticks % self.heartbeat_every == 0:
            self.app.heartbeat("host")
        self.app.tick(10)
        self.ticks += 1

    def run(self, n):
        for _ in range(n):
            self.tick()

    def run_until(self, cond, max_ticks):
        for _ in range(max_ticks):
            self.tick()
            if cond(self):
                return True
        raise AssertionError("condition not reached; state %s theta %d"
                             % (self.core.state, self.core.theta_mdeg))

    def press(self, button, ticks=10):
        """A button on the table, held for ticks."""
        self.plant.press(button)
        self.run(ticks)
        self.plant.release(button)

    def start(self, program):
        """RUN over the link, then START on the table, as a person would."""
        reply = self.call("RUN " + program)
        assert reply.ok, reply
        self.press("start")
        self.run_until(lambda r: r.core.state != "idle", 50)
        return reply

    # -- host side ---------------------------------------------------------------
    def next_seq(self):
        self._seq = (self._seq + 1) % 65536
        return self._seq

    def frame(self, text, seq=None):
        return protocol.frame(self.next_seq() if seq is None else seq, text)

    def signed(self, text, counter, key=None):
        return protocol.sign(text, counter, self.key if key is None else key)

    def call(self, text, seq=None):
        """One framed command through App.host_line; returns the parsed reply."""
        raw = self.frame(text, seq).rstrip(b"\n")
        reply = self.app.host_line(raw)
        return protocol.parse_line(reply.rstrip(b"\n")) if reply else None

    def call_raw(self, raw):
        return self.app.host_line(raw)

    def send_uart(self, text, seq=None):
        self.uart.host_write(self.frame(text, seq))
        self.uart.flush_instant()

    def received(self):
        """Every complete line the board has sent since the last call, parsed."""
        self._rx += self.uart.host_read()
        *lines, self._rx = self._rx.split(b"\n")
        return [protocol.parse_line(line) for line in lines]
