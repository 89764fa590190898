"""The whole system in the simulator, driven by hypothesis: random interleavings
of programs, button presses and releases, heartbeat gaps, every fault kind and
its clearing, power cuts and bad link input, on both boards. Every tick is
checked against the SPEC invariants (systemwatch.py), and every run ends with
a STOP and the table at rest with the brake on: home (or head-up where a power
cut left it), or halted.

`make test` runs SYSTEM_EXAMPLES (default 120) examples per board with a fixed
seed, so main stays reproducible; `make soak` runs thousands with fresh seeds
and prints how many ran. A failure prints the shortest sequence of inputs
hypothesis found that breaks a rule, with the rule and the tick.
"""
import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, rule,
                                 run_state_machine_as_test)

from simhelp import REPO  # noqa: F401  (puts the repository on the path)
from systemwatch import Watch

from host_tools.protocol import frame
from simulator.runner import Runner, _A_EVENT
from simulator.scenario import FAULT_KINDS, MAX_DURATION_S, parse_event, parse_scenario

EXAMPLES = int(os.environ.get("SYSTEM_EXAMPLES", "120"))
STEPS = int(os.environ.get("SYSTEM_STEPS", "14"))
SOAK = os.environ.get("SYSTEM_SOAK") == "1"
# shrinking a failure to its shortest form can take minutes; off while exploring
SHRINK = os.environ.get("SYSTEM_SHRINK", "1") == "1"
COUNT_FILE = os.environ.get("SYSTEM_COUNT_FILE")

PROGRAMS = ("beginner", "decompression", "rotation", "overhead-stretch", "full-inversion",
            "warm-up", "no-such-program")
WAITS_S = (0.01, 0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 15.0, 40.0)
# how long each input is left to act before the next one
SETTLE_S = (0.0, 0.01, 0.1, 0.3, 1.0, 3.0)
FAULT_PARAMS = {
    "imu_bus_error": st.fixed_dictionaries({"rate": st.sampled_from((0.2, 1.0))}),
    "imu_spike": st.fixed_dictionaries({"rate": st.sampled_from((0.05, 0.5))}),
    "imu_bias": st.fixed_dictionaries({"value": st.sampled_from((-8.0, 3.0, 8.0, 20.0))}),
    "position_sensor_open": st.fixed_dictionaries({"rail": st.sampled_from(("high", "low"))}),
    "actuator_runaway": st.fixed_dictionaries({"duty": st.sampled_from((-0.6, 0.6))}),
    "brake_slip": st.fixed_dictionaries({"torque_nm": st.sampled_from((20.0, 200.0))}),
    "pinch": st.fixed_dictionaries({"torque_nm": st.sampled_from((300.0, 3000.0))}),
    "link_noise": st.fixed_dictionaries({"rate": st.sampled_from((0.01, 0.2))}),
}
COOL_DOWN_S = 75.0      # STOP, then the slowest return (a boot return from 90 deg)

# commands a host might send: well formed, bad checksums, unauthorised, noise
GOOD_VERBS = ("STATUS", "HELLO", "PAUSE", "ACK", "JOG UP", "JOG DOWN", "RUN decompression",
              "RUN beginner", "STOP", "TIME SET 1790000000", "LOGS LIST", "PROFILE GET")
BAD_LINES = ("PROFILE SET {\"level\":4,\"full_inversion\":true} CTR=99 MAX=00",
             "1 RUN decompression *0000", "RUN", "HB pendant", "HB", "STOP",
             "\x00\xff\xfe garbage", "9 JOG SIDEWAYS", "x" * 300)


def _host_lines():
    good = st.tuples(st.integers(0, 65535), st.sampled_from(GOOD_VERBS)).map(
        lambda sv: frame(sv[0], sv[1]).decode("ascii").rstrip("\n"))
    noise = st.text(st.characters(max_codepoint=255), max_size=60)
    return st.one_of(good, st.sampled_from(BAD_LINES), noise)


class TableUnderTest(RuleBasedStateMachine):
    BOARD = None

    def __init__(self):
        super().__init__()
        self.runner = None
        self.watch = None

    @initialize(seed=st.integers(0, 2 ** 16),
                level=st.integers(0, 4),
                preferred=st.sampled_from((20, 40, 60)),
                full_inversion=st.booleans(),
                age=st.sampled_from((45, 45, 45, 11)),
                contraindicated=st.sampled_from(([],) * 5 + (["vertigo"],)),
                source=st.sampled_from(("host", "host", "pendant")))
    def power_on(self, seed, level, preferred, full_inversion, age, contraindicated, source):
        # level 4 is the full-inversion level: a clinician sets it only with the flag
        profile = {"level": level, "age": age, "preferred_angle": preferred,
                   "full_inversion": full_inversion or level == 4,
                   "contraindications": contraindicated}
        sc = parse_scenario({"name": "stateful", "board": self.BOARD, "seed": seed,
                             "duration_s": MAX_DURATION_S, "profile": profile,
                             "heartbeat": {"source": source, "period_s": 0.25}})
        self.board = sc.board
        self.runner = Runner(sc)
        self.runner.open()
        self.watch = Watch(self.runner, sc.profile, sc.board)
        self.faults = set()
        self._advance(0.5)

    # -- driving ---------------------------------------------------------------------
    def _advance(self, seconds):
        r = self.runner
        n = max(1, int(round(seconds / 0.01)))
        r.advance(r.k + n - 1)
        self.watch.check()

    def _do(self, ev, settle_s):
        r = self.runner
        ev = parse_event(ev, self.board)
        k = r.k
        w = self.watch
        if ev["do"] == "press" and ev["button"] == "stop":
            w.note_stop(k)
        elif ev["do"] == "fault":
            w.note_fault(ev["kind"], k)
        elif ev["do"] == "clear":
            w.note_clear(ev["kind"], k)
        elif ev["do"] == "power_cycle":
            w.note_power_cut(k)
        elif ev["do"] == "heartbeat":
            w.note_heartbeats(ev["state"] == "on", k)
        r._schedule(k, _A_EVENT, ev)
        self._advance(settle_s)

    # -- the person and the host ---------------------------------------------------------
    @rule(name=st.sampled_from(PROGRAMS), start=st.booleans(), settle=st.sampled_from(SETTLE_S))
    def program(self, name, start, settle):
        self._do({"do": "program", "name": name}, 0.05)
        if start:
            self._do({"do": "press", "button": "start"}, settle)

    @rule(button=st.sampled_from(("stop", "start", "up", "down", "attendant")),
          hold_s=st.sampled_from((0.05, 0.1, 0.5, 2.0, 10.0, None)),
          settle=st.sampled_from(SETTLE_S))
    def press(self, button, hold_s, settle):
        self._do({"do": "press", "button": button, "hold_s": hold_s}, settle)

    @rule(button=st.sampled_from(("stop", "start", "up", "down", "attendant")),
          settle=st.sampled_from(SETTLE_S))
    def release(self, button, settle):
        self._do({"do": "release", "button": button}, settle)

    @rule(on=st.booleans(), settle=st.sampled_from(SETTLE_S))
    def heartbeat(self, on, settle):
        self._do({"do": "heartbeat", "state": "on" if on else "off"}, settle)

    @rule(kind=st.sampled_from(FAULT_KINDS), data=st.data(), settle=st.sampled_from(SETTLE_S))
    def fault(self, kind, data, settle):
        params = data.draw(FAULT_PARAMS[kind]) if kind in FAULT_PARAMS else {}
        ev = {"do": "fault", "kind": kind}
        ev.update(params)
        self.faults.add(kind)
        self._do(ev, settle)

    @rule(data=st.data(), settle=st.sampled_from(SETTLE_S))
    def clear(self, data, settle):
        if not self.faults:
            return
        kind = data.draw(st.sampled_from(sorted(self.faults)))
        self.faults.discard(kind)
        self._do({"do": "clear", "kind": kind}, settle)

    @rule(off_s=st.sampled_from((0.05, 0.5, 2.0, 6.0)), settle=st.sampled_from(SETTLE_S))
    def power_cut(self, off_s, settle):
        self._do({"do": "power_cycle", "off_s": off_s}, off_s + settle)

    @rule(text=_host_lines(), via=st.sampled_from(("call", "uart")),
          settle=st.sampled_from(SETTLE_S))
    def host_says(self, text, via, settle):
        self._do({"do": "command", "text": text, "via": via}, settle)

    @rule(up=st.booleans(), settle=st.sampled_from(SETTLE_S))
    def arms(self, up, settle):
        self._do({"do": "arms", "position": "up" if up else "down"}, settle)

    @rule(seconds=st.sampled_from(WAITS_S))
    def wait(self, seconds):
        self._advance(seconds)

    # -- the end of every run: STOP, and the table comes to rest ---------------------------
    def teardown(self):
        r = self.runner
        if r is None:
            return
        try:
            if r.powered and self.watch is not None:
                # the person lets go of everything and lowers their arms (on a
                # brake table only they can bring it home; the brake governs),
                # then someone presses STOP
                for button in ("up", "down", "start", "attendant"):
                    if self.board["buttons"].get(button) is not None:
                        self._do({"do": "release", "button": button}, 0.0)
                self._do({"do": "arms", "position": "down"}, 0.0)
                self._do({"do": "press", "button": "stop", "hold_s": 0.2}, COOL_DOWN_S)
                self.watch.check(final=True)
                try:
                    self._assert_at_rest()
                except AssertionError:
                    self.watch.dump()
                    raise
        finally:
            r.close()
            if COUNT_FILE:
                with open(COUNT_FILE, "a") as f:
                    f.write("%s %d\n" % (self.BOARD, self.watch.checked if self.watch else 0))

    def _assert_at_rest(self):
        r = self.runner
        assert r.rows, "the firmware never ran"
        last = r.rows[-1]
        state, theta = last[5], last[1]
        home = float(self.board["home_deg"])
        assert last[17], "the brake is not engaged at the end (state %s)" % state
        assert state in ("idle", "halted"), \
            "not at rest %.0f s after STOP: %s at %.1f deg" % (COOL_DOWN_S, state, theta)
        if state == "idle":
            # home, or head-up where a power cut left it during the way home
            # (booting head-up is not an emergency: the person can get off)
            assert abs(theta - home) < 1.0 or theta <= 1.0, "idle inverted at %.1f deg" % theta


class ActuatorTable(TableUnderTest):
    BOARD = "esp32-devkitc-actuator"


class BrakeTable(TableUnderTest):
    BOARD = "esp32s3-brake"


def _settings():
    return settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                    derandomize=not SOAK, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck),
                    phases=list(Phase) if SHRINK else [p for p in Phase if p != Phase.shrink])


@pytest.mark.parametrize("machine", [ActuatorTable, BrakeTable], ids=["actuator", "brake"])
def test_random_use_and_faults_never_break_a_spec_rule(machine):
    run_state_machine_as_test(machine, settings=_settings())
