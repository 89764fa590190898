"""CPython only (hypothesis): random sequences of everything a person, a
host and a failing part can do, through the Core on the integer table
(tablerig.py), with the SPEC's safety invariants checked on every tick.

Each example: a random profile, board (with or without the position
sensor) and starting angle (inverted boots included), then segments of 1-60
or 100-1500 ticks, each with random buttons held (STOP, UP, DOWN, the
attendant's grip), START pressed or not, heartbeats arriving or not, a
program armed (and started) or not, and now and then a disturbance: the bed
pushed to another angle (the sensors then read anywhere in the range), an
IMU error of a few degrees, or the motor running by itself.

Invariants, every tick:
- while no emergency or return is in force, the setpoint never rises past
  the cap in force (it may sit above it only where a reset left it, on the
  bed, and then it does not rise);
- the authorized duty is never head-down while the higher sensor reads more
  than 0.3 degree above the cap in force;
- STOP pressed: that very tick, the command turns toward home;
- heartbeat older than the timeout while theta > 0: emergency return (or a
  halt) that very tick.
"""
from hypothesis import HealthCheck, given, settings, strategies as st

from safety.supervisor import BOOT, EMERGENCY, HALT, NONE
from session import programs
from tablerig import BOARD, TableRig

BOARD_POT = dict(BOARD)
BOARD_POT["position_sensor"] = {"adc": 34}

PROFILE = st.fixed_dictionaries(
    {"level": st.integers(0, 4)},
    optional={
        "full_inversion": st.booleans(),
        "contraindications": st.sampled_from([["glaucoma"], ["vertigo", "pregnancy"]]),
        "override_cap_deg": st.integers(0, 40),
        "age": st.sampled_from([10, 40]),
        "heartbeat_timeout_s": st.sampled_from([0.2, 0.5, 1.0, 5.0]),
        "hold_s": st.integers(3, 200),
        "session_s": st.integers(10, 600),
        "dwell_s": st.integers(0, 15),
        "preferred_angle": st.sampled_from([20, 40, 60]),
        "rate_deg_s": st.integers(1, 6),
    })

DISTURBANCE = st.one_of(
    st.tuples(st.just("push"), st.integers(-70000, 90000)),
    st.tuples(st.just("imu_error"), st.integers(-3000, 3000)),
    st.tuples(st.just("runaway"), st.sampled_from([-4000, -2500, 2500, 4000])),
)


def often(p_percent, strategy, otherwise):
    """strategy about p_percent of the time, else the value otherwise."""
    return st.integers(0, 99).flatmap(
        lambda r: strategy if r < p_percent else st.just(otherwise))


SEGMENT = st.fixed_dictionaries({
    "ticks": st.one_of(st.integers(1, 60), st.integers(100, 1500)),
    "stop": often(15, st.just(True), False),
    "start": often(35, st.just(True), False),
    "jog": often(25, st.sampled_from(["up", "up", "down", "both"]), "none"),
    "heartbeat": often(20, st.just(False), True),
    "grip": st.booleans(),
    "program": often(35, st.sampled_from(programs.NAMES), None),
    "disturbance": often(8, DISTURBANCE, None),
})


class Checker:
    def __init__(self, rig):
        self.rig = rig
        self.ticks = 0
        self.boot_end = -10
        self.cap = 0
        self.cap_dropped_tick = -1000
        self.snapshot()

    def snapshot(self):
        c = self.rig.core
        self.action = c.supervisor.action
        self.sp = c.setpoint_mdeg
        self.v = c.setpoint_rate_mdeg_s
        self.a = c.setpoint_accel_mdeg_s2
        self.stop = c.inputs.stop
        self.cap = c.supervisor.cap_mdeg

    def tick(self):
        rig = self.rig
        c = rig.core
        sup = c.supervisor
        stop_edge = c.inputs.stop and not self.stop
        rig.tick()
        self.ticks += 1
        where = (self.ticks, c.state, c.event, c.fault)
        cap = sup.cap_mdeg
        act = sup.action

        # The setpoint never rises past the cap in force outside returns
        # (a reset puts it on the bed, wherever that is: not a rise; so does
        # every boot and halt tick).
        # At rest it is kept on the bed, too.
        if act == NONE and not sup.reset_trajectory and self.action not in (BOOT, HALT):
            sp = c.setpoint_mdeg
            on_bed = (sp == c.theta_mdeg and c.setpoint_rate_mdeg_s == 0
                      and c.setpoint_accel_mdeg_s2 == 0)
            # A gate (heartbeat, attendant) that drops the cap in force below
            # a rising setpoint: a jerk-limited stop (R4) cannot halt it at
            # once, so for a second after the drop it may rise on while it
            # brakes, its acceleration falling every tick.
            if cap < self.cap and cap < sp:
                self.cap_dropped_tick = self.ticks
            braking = (self.ticks - self.cap_dropped_tick <= 100
                       and c.setpoint_accel_mdeg_s2 < self.a)
            assert sp <= cap or sp <= self.sp or on_bed or braking, (
                "setpoint past the cap", sp, self.sp, cap, where)

        # No head-down drive while over the cap in force, in any mode.
        if c.signals.theta_high_mdeg >= cap + 300:
            assert c.duty_permille <= 0, ("pushing past the cap", c.duty_permille,
                                          c.signals.theta_high_mdeg, cap, where)

        # STOP: the command turns toward home that tick.
        if stop_edge and self.action not in (HALT, BOOT) and act != HALT:
            # (Already home at rest, the emergency is over in the same tick.)
            assert act == EMERGENCY or c.event == "home", ("STOP ignored", where)
            v, a = c.setpoint_rate_mdeg_s, c.setpoint_accel_mdeg_s2
            home = rig.limits.home_mdeg
            # Home is head-up, unless the bed is below it (then head-down).
            way = -1 if self.sp >= home else 1
            at_home = (c.setpoint_mdeg == home and v == 0) or c.event == "home"
            turned = ((a - self.a) * way > 0 or (v - self.v) * way > 0
                      or (v * way > 0 and self.v * way >= 0) or at_home)
            assert turned, ("STOP did not turn toward home", (self.sp, self.v, self.a),
                            (c.setpoint_mdeg, v, a), where)

        # A missed heartbeat while inverted: the emergency return that tick.
        if (c.heartbeat_age_ms > rig.limits.heartbeat_ms and c.theta_mdeg > 0
                and self.action != BOOT):
            assert act >= EMERGENCY, ("heartbeat lost while inverted, no emergency",
                                      c.heartbeat_age_ms, c.theta_mdeg, where)
        self.snapshot()


def _apply(rig, seg):
    inp = rig.core.inputs
    inp.stop = seg["stop"]
    inp.up = seg["jog"] in ("up", "both")
    inp.down = seg["jog"] in ("down", "both")
    inp.attendant = seg["grip"]
    rig.heartbeat = seg["heartbeat"]
    if seg["program"] is not None:
        steps = programs.builtin(seg["program"], rig.limits)
        rig.core.start_steps(steps)          # refused while busy: fine
    if seg["start"] or seg["program"] is not None:
        rig.press_start()                    # an armed program begins on START
    d = seg["disturbance"]
    rig.extra_rate_mdeg_s = 0
    if d is not None:
        kind, value = d
        if kind == "push":
            rig.theta_udeg = value * 1000
        elif kind == "imu_error":
            rig.imu_error_mdeg = value
        else:
            rig.extra_rate_mdeg_s = value


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profile=PROFILE, pot=st.booleans(),
       theta0=often(30, st.integers(-70, 90), -70),
       segments=st.lists(SEGMENT, min_size=2, max_size=12))
def test_safety_invariants_hold_on_every_tick_of_random_sessions(profile, pot, theta0, segments):
    rig = TableRig(theta_deg=theta0, profile=profile, board=BOARD_POT if pot else BOARD,
                   boot=False)
    check = Checker(rig)
    for seg in segments:
        _apply(rig, seg)
        for _ in range(seg["ticks"]):
            check.tick()
    # And whatever happened, released and heartbeats back, it ends at rest.
    inp = rig.core.inputs
    inp.stop = inp.up = inp.down = False
    rig.heartbeat = True
    rig.extra_rate_mdeg_s = 0
    for _ in range(100):
        check.tick()
