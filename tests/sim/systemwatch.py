"""The SPEC invariants, checked on every tick of a simulated board while
something else (the stateful test) drives it with random inputs.

    watch = Watch(runner, profile)
    ... runner.advance(k) ...
    watch.check()           # raises AssertionError naming the tick and the rule

Every row the runner recorded since the last call is checked once, in order,
against what was done to the board (the driver tells the watch through
note_* before scheduling each input). The rules, with their SPEC source:

- R1   the true angle never passes the cap in force by more than 1.0 deg, also
       while the board is unpowered or rebooting (the runner's gap maxima);
- R4   the command's rate and acceleration stay within the ceilings (the
       emergency ones during an emergency return, the profile's otherwise),
       its acceleration never steps (jerk-limited), the H-bridge never
       reverses without 0.2 s at zero drive in between;
- R5   STOP, read on the tick it is pressed, turns the command toward home on
       that tick; every trigger the firmware flags turns it within one tick;
       an undisturbed emergency return from inverted gets home within the
       ideal rate/acceleration-limited time plus 2 s;
- R6   no program, jog or pause stays inverted longer than the heartbeat
       timeout after the last heartbeat;
- R2   no continuous hold in a band, and no session's inverted time, outlasts
       its ceiling (plus the travel through the band);
- at rest (idle, halted, boot) the drive is off and the brake engaged; a
  halted table does not move (unless a fault that moves it is injected);
- the firmware never raises.

What cannot be blamed on the firmware is left out, and only that: holds and
return times are not judged across a power cut, while a fault that blocks or
drives motion is injected, or while the firmware is halted on a latched fault
(the SPEC's answer then is to stay braked and alarm).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from simulator.summary import EMERGENCY_EXTRA_S, ideal_return_s  # noqa: E402
from simulator.trace import write_trace  # noqa: E402
from simulator.trace import (R_ACCEL, R_BRAKE, R_BRAKE_ACTUAL, R_CAP, R_DUTY, R_EST,  # noqa: E402
                             R_FW_EVENT, R_RATE, R_SC_EVENT, R_SETPOINT, R_STATE, R_THETA, R_TICK,
                             R_TRIGGER, R_TRUE_RATE)

TICK_S = 0.01
CAP_TOLERANCE_DEG = 1.0
SLACK_MDEG = 10                      # rounding in the mdeg figures
EMERGENCY_RATE_MDEG_S = 10000
EMERGENCY_ACCEL_MDEG_S2 = 10000
NORMAL_ACCEL_MDEG_S2 = 5000
RATE_CEILING_MDEG_S = 6000
BEGINNER_RATE_MDEG_S = 3000
# the steepest jerk the firmware may use (the emergency one), per tick
JERK_STEP_MDEG_S2 = 80000 * TICK_S
REVERSAL_DEAD_TICKS = 20            # R4: 0.2 s at zero drive
AT_REST = ("idle", "halted", "boot")
DRIVE_CUT_EVENTS = ("stall", "stall_repeated")
LANDING_MDEG_S = 40
RUNNING = ("moving", "holding", "paused", "jog")
HOLD_CEILINGS_S = ((30.0, 300.0), (60.0, 180.0), (90.0, 120.0))
BEGINNER_HOLD_S = 120.0
BEGINNER_SESSION_S = 300.0
SESSION_CEILING_S = 600.0
# a band's hold also counts the climb through it and the way back down:
# 30 degrees each way at the beginner's 3 deg/s, with the ramps
TRAVEL_ALLOWANCE_S = 2 * 30 / 3.0 + 2.0
# inverted time for the session ceiling: clearly head-down, so the dwell at
# horizontal (sensor noise either side of 0) is not counted
INVERTED_DEG = 1.0
HOME_TOLERANCE_DEG = 1.0
# faults under which the table may move (or fail to) without the firmware
# being able to do better than what R10 asks: detect and brake
MOTION_FAULTS = ("actuator_stall", "actuator_runaway", "brake_slip", "pinch",
                 "position_sensor_open")


class Watch:
    def __init__(self, runner, profile, board):
        self.runner = runner
        self.board = board
        self.home_deg = float(board["home_deg"])
        self.has_actuator = board.get("drive") != "brake"
        level = profile.get("level", 0)
        beginner = level == 0
        self.rate_mdeg_s = int(profile.get("rate_deg_s", 3.0 if beginner else 6.0) * 1000)
        self.rate_mdeg_s = min(self.rate_mdeg_s, RATE_CEILING_MDEG_S)
        self.hold_s = profile.get("hold_s", BEGINNER_HOLD_S if beginner else 1e9)
        self.session_s = min(SESSION_CEILING_S, profile.get(
            "session_s", BEGINNER_SESSION_S if beginner else SESSION_CEILING_S))
        self.hb_timeout_s = profile.get("heartbeat_timeout_s", 1.0)
        self.next_row = 0
        self.prev = None
        self.checked = 0
        self.landings = 0
        # inputs, as the driver reports them (tick they take effect)
        self.stop_ticks = set()
        self.faults = set()              # injected and not cleared
        self.disturbed_tick = -1         # last tick of a fault, clear or power cut
        self.hb_lost_tick = None         # the last heartbeat's tick while they are off
        # drive reversal
        self.last_sign = 0
        self.last_drive_tick = -10 ** 9
        # holds and sessions
        self.band = -1
        self.band_start = 0
        self.inverted_ticks = 0
        self.pending = []                # (trigger tick, theta deg, bound s)
        self.halted_since = None

    # -- what the driver does -------------------------------------------------
    def note_stop(self, k):
        self.stop_ticks.add(k)

    def note_fault(self, kind, k):
        if kind != "link_noise":
            self.faults.add(kind)
        self.disturbed_tick = k
        self.pending = []

    def note_clear(self, kind, k):
        self.faults.discard(kind)
        self.disturbed_tick = k

    def note_power_cut(self, k):
        self.disturbed_tick = k
        self.pending = []

    def note_heartbeats(self, on, k):
        r = self.runner
        if on:
            self.hb_lost_tick = None
        elif self.hb_lost_tick is None:
            # the last heartbeat the host sent: one period before the next due
            last_us = r.hb_next_us - r.hb_period_us
            self.hb_lost_tick = max(0, last_us // r.tick_us) if r.hb_on else k

    # -- the rules ---------------------------------------------------------------
    def check(self, final=False):
        """Check the rows recorded since the last call; the newest waits for the
        next call (a trigger on it is judged by the row after), unless final."""
        r = self.runner
        for entry in r.resets:
            assert not entry["cause"].startswith("firmware_exception"), \
                "the firmware raised: %r" % entry
        for key in ("gap_max_over",):
            over = getattr(r, key)
            assert over is None or over <= CAP_TOLERANCE_DEG, \
                "over the cap by %.2f deg while no tick ran" % over
        rows = r.rows
        end = len(rows) if final else len(rows) - 1
        for i in range(self.next_row, end):
            self._row(rows, i)
        self.next_row = max(self.next_row, end)

    def dump(self):
        """With SYSTEM_DUMP=path, the whole trace of a failing run, for a closer look."""
        path = os.environ.get("SYSTEM_DUMP")
        if path:
            write_trace(path, self.runner.rows, self.runner.tick_ms)

    def _fail(self, row, rule, detail):
        rows = self.runner.rows
        i = self.at
        recent = "\n".join(
            "  t=%.2f %-16s theta %7.2f est %7.2f sp %7.2f rate %6.2f acc %6.2f duty %5d %s %s"
            % (r[R_TICK] * TICK_S, r[R_STATE], r[R_THETA], r[R_EST] * 0.001,
               r[R_SETPOINT] * 0.001, r[R_RATE] * 0.001, r[R_ACCEL] * 0.001, r[R_DUTY],
               r[R_FW_EVENT], r[R_SC_EVENT])
            for r in rows[max(0, i - 6):i + 2])
        self.dump()
        raise AssertionError("t=%.2f s [%s] %s (state %s, theta %.2f deg, cap %.1f deg, "
                             "faults %s)\nthe rows around it:\n%s"
                             % (row[R_TICK] * TICK_S, rule, detail, row[R_STATE],
                                row[R_THETA], row[R_CAP] * 0.001,
                                sorted(self.faults) or "none", recent))

    def _row(self, rows, i):
        self.at = i
        row = rows[i]
        prev = self.prev
        k = row[R_TICK]
        state = row[R_STATE]
        contiguous = prev is not None and prev[R_TICK] == k - 1
        self.checked += 1

        # R1
        if row[R_THETA] - row[R_CAP] * 0.001 > CAP_TOLERANCE_DEG:
            self._fail(row, "R1 cap", "the true angle passed the cap")

        # R4: the command
        emergency = state == "emergency_return"
        rate = abs(row[R_RATE])
        accel = abs(row[R_ACCEL])
        rate_max = EMERGENCY_RATE_MDEG_S if emergency else self.rate_mdeg_s
        accel_max = EMERGENCY_ACCEL_MDEG_S2 if emergency else NORMAL_ACCEL_MDEG_S2
        if rate > rate_max + SLACK_MDEG:
            self._fail(row, "R4 rate", "setpoint rate %.2f deg/s" % (rate * 0.001))
        if accel > accel_max + SLACK_MDEG:
            self._fail(row, "R4 accel", "setpoint acceleration %.2f deg/s^2" % (accel * 0.001))
        # A stall (possible pinch) or a halt cuts the drive at once, by design:
        # a jerk-limited stop would keep pushing into whatever is in the way.
        cut = state == "halted" or row[R_FW_EVENT] in DRIVE_CUT_EVENTS
        # The trajectory lands on its target at a crawl (at most 0.04 deg/s):
        # the last step below what the actuator resolves. Faster is judged.
        landing = (contiguous and row[R_RATE] == 0 and row[R_ACCEL] == 0
                   and abs(prev[R_RATE]) <= LANDING_MDEG_S)
        if landing:
            self.landings += 1
        if contiguous and not cut and not landing and state != "boot" and prev[R_STATE] != "boot":
            step = abs(row[R_ACCEL] - prev[R_ACCEL])
            if step > JERK_STEP_MDEG_S2 + SLACK_MDEG:
                self._fail(row, "R4 jerk", "acceleration stepped by %.2f deg/s^2 in one tick"
                           % (step * 0.001))
        self._reversal(row, k)

        # at rest
        if state in AT_REST:
            if row[R_DUTY] != 0:
                self._fail(row, "rest", "drive %d permille at rest" % row[R_DUTY])
            if not row[R_BRAKE]:
                self._fail(row, "rest", "brake released at rest")
        if state == "halted":
            if self.halted_since is None:
                self.halted_since = k
            moving_faults = self.faults & set(MOTION_FAULTS)
            if (k - self.halted_since > 50 and not moving_faults
                    and abs(row[R_TRUE_RATE]) > 0.5):
                self._fail(row, "halt", "moving at %.2f deg/s while halted" % row[R_TRUE_RATE])
        else:
            self.halted_since = None

        # R5: STOP and every flagged trigger
        if k in self.stop_ticks and contiguous:
            was_running = prev[R_STATE] in RUNNING + ("returning",)
            if was_running and prev[R_EST] > 500 and state not in ("emergency_return", "halted"):
                self._fail(row, "R5 stop", "STOP pressed this tick, state is %s" % state)
            if was_running and state == "emergency_return" and not self._turns_home(rows, i, 0):
                self._fail(row, "R5 stop", "STOP pressed, the command did not turn toward home")
        # (A stall's answer is R10's instead: stop at once, retry slowly later.)
        if (row[R_TRIGGER] and state in ("emergency_return", "returning")
                and row[R_FW_EVENT] not in DRIVE_CUT_EVENTS):
            if not self._turns_home(rows, i, 1):
                self._fail(row, "R5 trigger", "trigger %r: the command did not turn toward "
                           "home within one tick" % row[R_FW_EVENT])
        self._return_time(row, k)

        # R6
        if self.hb_lost_tick is not None and state in RUNNING and row[R_EST] > 500:
            late = k - self.hb_lost_tick - int(round(self.hb_timeout_s / TICK_S))
            if late > 1:
                self._fail(row, "R6 heartbeat", "still %s inverted %.2f s past the heartbeat "
                           "timeout" % (state, late * TICK_S))

        # R2
        self._holds(row, k, contiguous)
        self.prev = row

    def _turns_home(self, rows, i, within):
        """The command turns toward home on row i or within `within` ticks after:
        its acceleration changes toward home, it moves toward home, or it is home."""
        home_mdeg = self.home_deg * 1000
        prev_acc = rows[i - 1][R_ACCEL] if i > 0 else 0
        k0 = rows[i][R_TICK]
        # home as the command sees it: from where the setpoint is
        toward = -1 if rows[i - 1 if i else 0][R_SETPOINT] >= home_mdeg else 1
        for j in range(i, len(rows)):
            r = rows[j]
            if r[R_TICK] > k0 + within:
                return False
            if ((r[R_ACCEL] - prev_acc) * toward > 0 or r[R_RATE] * toward > 0
                    or abs(r[R_SETPOINT] - home_mdeg) <= 500):
                return True
            prev_acc = r[R_ACCEL]
        # the run ended before the rows that would decide it
        return True

    def _reversal(self, row, k):
        duty = row[R_DUTY]
        sign = (duty > 0) - (duty < 0)
        if sign == 0:
            return
        if self.last_sign and sign != self.last_sign:
            zero_ticks = k - self.last_drive_tick - 1
            if zero_ticks < REVERSAL_DEAD_TICKS:
                self._fail(row, "R4 reversal", "the drive reversed after %.2f s at zero"
                           % (zero_ticks * TICK_S))
        self.last_sign = sign
        self.last_drive_tick = k

    def _return_time(self, row, k):
        if not self.has_actuator:
            return
        if (row[R_TRIGGER] and row[R_FW_EVENT] in ("stop", "heartbeat_lost")
                and row[R_THETA] > 0.5 and not self.faults and not self.pending):
            bound = ideal_return_s(row[R_THETA], self.home_deg, self.rate_mdeg_s * 0.001)
            self.pending.append((k, row[R_THETA], bound + EMERGENCY_EXTRA_S))
        if not self.pending:
            return
        k0, theta0, bound = self.pending[0]
        if self.disturbed_tick >= k0 or self.faults:
            self.pending = []
            return
        at_home = (row[R_STATE] in ("idle", "halted") and row[R_BRAKE_ACTUAL]
                   and abs(row[R_THETA] - self.home_deg) < HOME_TOLERANCE_DEG)
        took_s = (k - k0) * TICK_S
        if at_home:
            self.pending = []
        elif took_s > bound + TICK_S:
            self._fail(row, "R5 return time", "not home %.2f s after the trigger at %.1f deg "
                       "(bound %.2f s)" % (took_s, theta0, bound))

    def _holds(self, row, k, contiguous):
        theta = row[R_THETA]
        excused = (not contiguous or row[R_STATE] == "halted"
                   or bool(self.faults & set(MOTION_FAULTS)))
        if excused or theta <= 0.0:
            self.band = -1
        else:
            band = 0 if theta <= 30.0 else (1 if theta <= 60.0 else 2)
            if self.band >= 0:
                blo = (0.0, 30.0, 60.0)[self.band]
                bhi = HOLD_CEILINGS_S[self.band][0]
                if theta > bhi + 1.0 or theta < blo - 1.0:
                    self.band = -1
            if self.band < 0:
                self.band = band
                self.band_start = k
            ceiling = min(HOLD_CEILINGS_S[self.band][1], self.hold_s) + TRAVEL_ALLOWANCE_S
            if (k - self.band_start) * TICK_S > ceiling:
                self._fail(row, "R2 hold", "held in band %d for %.1f s (ceiling %.0f s with the "
                           "travel)" % (self.band, (k - self.band_start) * TICK_S, ceiling))
        # the session: inverted time since the table was last at rest below horizontal
        if excused or (row[R_STATE] == "idle" and theta <= INVERTED_DEG):
            self.inverted_ticks = 0
        elif theta > INVERTED_DEG:
            self.inverted_ticks += 1
            ceiling = self.session_s + TRAVEL_ALLOWANCE_S
            if self.inverted_ticks * TICK_S > ceiling:
                self._fail(row, "R2 session", "inverted %.1f s in one session (ceiling %.0f s "
                           "with the travel)" % (self.inverted_ticks * TICK_S, ceiling))
