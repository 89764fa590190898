"""Helpers for the plant/emulation tests: the repository root on the import
path, board loading, and a Rig that plays the firmware's part through
simulator.machine. (Not conftest.py: tests/drivers has one of that name.)"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from simulator import machine as sim_machine  # noqa: E402
from simulator.plant import Plant  # noqa: E402

ACTUATOR = "esp32-devkitc-actuator"
BRAKE = "esp32s3-brake"
MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")


def load_board(name):
    with open(os.path.join(REPO, "boards", name + ".json")) as f:
        return json.load(f)


class Rig:
    """A plant with its board installed as `machine`, and the outputs a
    firmware would own: H-bridge, enable and brake pins."""

    def __init__(self, name, seed=3, person=None, theta_deg=None):
        self.board = load_board(name)
        self.plant = Plant(self.board, person, seed, theta_deg=theta_deg)
        self.emul = self.plant.emul
        self.m = sim_machine.install(self.emul)
        m = self.m
        b = self.board
        self.tick_ms = b["tick_ms"]
        self.brake_pin = m.Pin(b["brake"]["pin"], m.Pin.OUT, value=1 - b["brake"]["release_level"])
        hb = b.get("hbridge")
        self.pwm = None
        if hb:
            self.pwm = m.PWM(m.Pin(hb["pwm"]), freq=hb["pwm_freq_hz"], duty_u16=0)
            self.dir = m.Pin(hb["dir"], m.Pin.OUT, value=0)
            self.enable = m.Pin(hb["enable"], m.Pin.OUT, value=0)

    def release_brake(self, on=True):
        rel = self.board["brake"]["release_level"]
        self.brake_pin.value(rel if on else 1 - rel)

    def drive(self, duty):
        """Signed command as the firmware's bridge driver would set it."""
        self.enable.value(1)
        self.dir.value(1 if duty > 0 else 0)
        self.pwm.duty_u16(int(abs(duty) * 65535))

    def run(self, seconds, each=None):
        """Step the plant and clock; returns the theta trace."""
        out = []
        for _ in range(int(round(seconds * 1000 / self.tick_ms))):
            self.plant.step()
            self.emul.advance(self.tick_ms)
            out.append(self.plant.theta_deg)
            if each is not None:
                each(self)
        return out
