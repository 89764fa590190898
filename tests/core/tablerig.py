"""A small integer table around the firmware's Core, for the core tests.

Runs unchanged on CPython and on the MicroPython VM (no pytest, no floats in
the loop). The bed follows the authorized duty exactly: rate = duty * 12
mdeg/s per permille (12 deg/s at full drive) while the bridge is enabled,
and stands still otherwise (self-locking lead screw). The core's inputs are
what an ideal IMU on that bed reads: along = -1000 sin(theta),
normal = 1000 cos(theta) mg and the pitch rate, with a +-1 mg dither on
`along` so the estimator never sees two identical samples (real sensors
never repeat; identical samples are the "frozen IMU" fault).

Usage::

    rig = TableRig(theta_deg=-70, profile={"level": 3})
    rig.run_until(lambda r: r.core.state == "idle", 100)    # boot
    rig.core.start_steps([(20000, 5000, "")])
    rig.run(500)                                            # 5 s
"""
import math

from core import Core
from control.actuator_ctl import build_ff_table
from safety.limits import compute_limits
from safety.spec import TICK_MS
from session import programs

BOARD = {"drive": "actuator", "home_deg": -70, "mech_min_deg": -72, "mech_max_deg": 92,
         "position_sensor": None, "current_sense": None}
RATE_PER_PERMILLE = 12      # mdeg/s per permille of duty
HEARTBEAT_EVERY = 25        # ticks between heartbeats (250 ms)

# 1000 * sin(d / 10 degrees) * 1000 for d = 0..900 (0.1 degree steps), in
# micro-g; looked up with linear interpolation. Built once with math.
_SIN_UG = [int(round(math.sin(math.radians(d / 10.0)) * 1000000)) for d in range(901)]


def sin_mg(theta_mdeg):
    """1000 sin(theta) in mg, theta in mdeg."""
    theta_mdeg %= 360000
    if theta_mdeg > 180000:
        theta_mdeg -= 360000
    neg = theta_mdeg < 0
    t = -theta_mdeg if neg else theta_mdeg
    if t > 90000:
        t = 180000 - t
    i = t // 100
    frac = t % 100
    v = _SIN_UG[i]
    if i < 900:
        v += (_SIN_UG[i + 1] - v) * frac // 100
    v = (v + 500) // 1000
    return -v if neg else v


def cos_mg(theta_mdeg):
    return sin_mg(90000 - theta_mdeg)


class TableRig:
    def __init__(self, theta_deg=-70, profile=None, board=None, heartbeat=True,
                 boot=True):
        self.board = board if board is not None else BOARD
        self.profile = profile if profile is not None else {"level": 3}
        self.limits = compute_limits(self.profile, self.board)
        self.core = Core(self.board, self.limits, build_ff_table(None, 12.0))
        self.theta_udeg = theta_deg * 1000000
        self.rate_mdeg_s = 0
        # Motion nobody commanded (a runaway), mdeg/s, added to the drive while
        # the bridge is enabled.
        self.extra_rate_mdeg_s = 0
        # Extra sensor error: the IMU reads theta + this.
        self.imu_error_mdeg = 0
        self.heartbeat = heartbeat
        self.ticks = 0
        inp = self.core.inputs
        inp.stop = False
        inp.imu_ok = True
        if boot:
            self.run_until(lambda r: r.core.state != "boot", 50)

    @property
    def theta_mdeg(self):
        return self.theta_udeg // 1000

    def move(self, dt_ms):
        """The bed, driven by the outputs of the previous tick."""
        core = self.core
        rate = 0
        if core.enable:
            # A runaway (extra_rate) drives the motor while the bridge is
            # powered; the independent enable line cuts it.
            rate = core.duty_permille * RATE_PER_PERMILLE + self.extra_rate_mdeg_s
        self.rate_mdeg_s = rate
        self.theta_udeg += rate * dt_ms
        lo = self.board["mech_min_deg"] * 1000000
        hi = self.board["mech_max_deg"] * 1000000
        if self.theta_udeg < lo:
            self.theta_udeg = lo
            self.rate_mdeg_s = 0
        elif self.theta_udeg > hi:
            self.theta_udeg = hi
            self.rate_mdeg_s = 0

    def sense(self):
        inp = self.core.inputs
        th = self.theta_udeg // 1000 + self.imu_error_mdeg
        inp.along_mg = -sin_mg(th) + (self.ticks & 1)
        inp.normal_mg = cos_mg(th)
        inp.rate_mdeg_s = self.rate_mdeg_s
        if self.core.has_position:
            inp.position_ok = True
            inp.position_mdeg = self.theta_udeg // 1000

    def tick(self):
        """One 10 ms tick: the bed moves, the sensors read it, the core decides."""
        self.move(TICK_MS)
        self.sense()
        if self.heartbeat and self.ticks % HEARTBEAT_EVERY == 0:
            self.core.heartbeat(False)
        self.core.tick(TICK_MS)
        self.core.inputs.start_edge = False
        self.ticks += 1

    def run(self, ticks, check=None):
        for _ in range(ticks):
            self.tick()
            if check is not None:
                check(self)

    def run_until(self, cond, max_ticks, check=None):
        """Tick until cond(rig); returns the number of ticks, or fails."""
        for n in range(max_ticks):
            self.tick()
            if check is not None:
                check(self)
            if cond(self):
                return n + 1
        raise AssertionError("condition not reached in %d ticks (state %s, theta %d)"
                             % (max_ticks, self.core.state, self.theta_mdeg))

    def start(self, name_or_steps):
        steps = name_or_steps
        if isinstance(name_or_steps, str):
            steps = programs.builtin(name_or_steps, self.limits)
        ok, why = self.core.start_steps(steps)
        assert ok, why
        if getattr(self.core.sequencer, "armed", False):
            # An armed program begins on START (the person starts it); a START
            # while an alarm sounds only acknowledges the alarm.
            for _ in range(3):
                self.press_start()
                self.tick()
                self.tick()
                if self.core.sequencer.state != "idle":
                    break
            assert self.core.sequencer.state != "idle", self.core.state

    def press_start(self):
        self.core.inputs.start_edge = True

    @property
    def cap(self):
        """The cap in force (0 without a live heartbeat), not the person's cap."""
        return self.core.supervisor.cap_mdeg
