"""Our controller against what a builder would otherwise use, on the same plant.

Three controllers run the same scenarios on the simulated
`esp32-devkitc-actuator` board (same plant model, person and seed):

- `ours`: the firmware's App, built by the simulator's default factory;
- `pid`: a plain PID (the `simple-pid` library) on angle error -> duty,
  behind a rate-limited setpoint;
- `bang_bang`: full duty toward the target outside a +-1 degree deadband,
  zero inside: the usual do-it-yourself approach.

The two baselines are app factories for simulator.runner.Runner. They use
the firmware's own drivers from `devices` (the same MPU-6050, H-bridge
driver, brake and buttons) and the firmware's own angle estimate
(control/estimator.py, less the IMU's level offset, as core.py does), so
only the controller differs. They get the limits a careful builder would
add: every target is clamped to the person's cap, and STOP sends the
setpoint home. They drive the H-bridge as app.py does (enable, then the
signed duty; all off at rest) and keep the brake released while a program
runs. They do not implement the SPEC's acceleration and jerk limits, the
bang-bang not even its rate limits, nor the 0.2 s reversal dead time.

The program, the same for all three: rise from home to the profile's target
(60 degrees at level 3, its cap), hold 120 s, then the normal return: to
horizontal, a 30 s dwell, home. The firmware runs it as a custom program
stored on its flash, as a clinician would store one; the baselines run the
same steps with a minimal sequencer of their own (a step is reached when
the estimate is within ARRIVED_DEG of it; its hold then starts).

Runs: the session (the whole program, START pressed at START_T_S), and one
run per time in STOP_TIMES_S with STOP pressed then, during the hold at 60.

Metrics (the true angle from the plant throughout; t0 = the START press):

- overshoot_target_deg: max true angle minus the target, from t0 until the
  controller starts its return (clipped at 0: stopping short is not better);
- overshoot_cap_deg: max true angle minus the cap over every run, whole
  runs (clipped at 0). The target is the cap here, so the two rows differ
  only if a STOP run went higher than the session;
- settling_s: from t0 until the true angle stays within SETTLE_BAND_DEG of
  the target for the rest of the window [t0, t_end), t_end being the earlier
  of t0 + reference move time + hold and the controller's own start of its
  return. None if it is outside the band at the end of the window. The
  ideal R4 move (the ruckig reference below, sampled like a trace) settles
  in settling_reference_s; a controller inside R4's limits cannot settle
  sooner, so a time more than one tick below it means those limits were
  broken and is not counted as best (as for home_ratio);
- rms_tracking_deg: RMS of (true angle - reference) over the same window,
  one sample per tick. The reference is the time-optimal jerk-limited profile
  (`ruckig`) from the true start angle to the target under R4 (6 deg/s,
  5 deg/s^2, the firmware's normal jerk), starting at t0, then the target.
  The same ideal for all three: neither a setpoint that lags nor one that
  does not exist (bang-bang) is favoured;
- emergency_latency_s: STOP press to the first control tick whose drive, as
  it reaches the motor (the H-bridge output behind the enable line, read on
  the plant's side), points toward home. A reaction computed in the tick
  that first sees the press gives 0.0; the resolution is one tick (0.01 s).
  The worst over the STOP presses;
- emergency_motion_s (context): the same, to the first tick the bed really
  moves toward home (any true speed that way); it includes the brake's
  release time and how hard the drive starts;
- home_s (context): STOP press to the first tick with the true angle within
  HOME_TOL_DEG of home, the bed at rest and the brake really engaged; the
  worst of the presses that got home;
- home_ratio: home_s over the reference return time, the worst of those
  presses. The reference is the time-optimal jerk-limited profile from the
  true angle at the press, at rest, to home at rest, under SPEC R5, composed
  of two ruckig segments: theta to 0 under 10 deg/s, 10 deg/s^2 and the
  firmware's emergency jerk, ending at horizontal at the normal rate
  (-6 deg/s) with zero acceleration; then 0 to home under 6 deg/s,
  5 deg/s^2 and the normal jerk. That crossing is the fastest legal one:
  slower only costs time, faster breaks the normal rate below horizontal,
  and a non-zero acceleration there would take the speed past or below
  6 deg/s just after it. A controller inside R5's limits cannot beat the
  reference, so a ratio below 1.0 means those limits were broken, and is
  not counted as best;
- home_reached: how many of the STOP presses ended at home;
- reversals: sign changes of the motor drive over the session run, zero
  stretches ignored; dead_time_violations: those of them with less than
  R4's 0.2 s at zero drive in between;
- brake_releases (context): times the brake went from engaged to released
  in the session run (wear of the brake; the baselines keep it released);
- peak_rate_deg_s, peak_accel_deg_s2 (context): the largest true angular
  speed and acceleration (the speed differenced over ACCEL_WINDOW_S) in the
  session run, beside R4's ceilings (6 deg/s, 5 deg/s^2).

PID tuning (`python bench/peers.py --tune-pid`, a few minutes): the grid
PID_TUNE_GRID (Kp, Ki, Kd; 216 points) on the session run. Kept: the lowest
RMS tracking error among the gains that keep the overshoot within the
1 degree R1 allows, do not hunt (fewer than PID_TUNE_MAX_REVERSALS
reversals) and finish the program at home. That is P alone, Kp = 0.3 duty
per degree. A softer Kp tracks the ideal more closely (its lag resembles the
reference's acceleration phase) but stalls short of horizontal or home
under load; any Ki winds up over the 20 s ramp (0.6 to 8 degrees of
overshoot, and worse tracking wherever it stays within 1 degree); Kd on the
estimate's noise makes the drive chatter (tens to hundreds of reversals).

Usage::

    .venv/bin/python bench/peers.py            # the table (about 20 s)
    .venv/bin/python bench/peers.py --json     # one JSON object (bench.py reads it)
    .venv/bin/python bench/peers.py --tune-pid # the PID grid
"""
import json
import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
for _path in (ROOT, FIRMWARE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from ruckig import InputParameter, Result, Ruckig, Trajectory  # noqa: E402
from simple_pid import PID  # noqa: E402

from simulator.runner import Runner  # noqa: E402
from simulator.scenario import parse_scenario  # noqa: E402
from simulator.trace import R_TICK, R_STATE  # noqa: E402
from safety import spec  # noqa: E402

BOARD_NAME = "esp32-devkitc-actuator"
SEED = 7
PERSON = {"mass_kg": 80, "height_cm": 178}
PROFILE = {"level": 3, "age": 45, "full_inversion": False, "contraindications": [],
           "preferred_angle": 60}
PROGRAM_NAME = "peers-rise-hold"
TARGET_DEG = 60.0
HOLD_S = 120.0
PROGRAM_AT_S = 1.0
START_T_S = 1.5
# STOP presses, one run each, spread over the time all three controllers hold
# at 60 (bang-bang from about 10 s to 130 s, the others from about 25 s to 145 s).
STOP_TIMES_S = (35.0, 50.0, 65.0, 80.0, 95.0, 110.0, 125.0)
STOP_HOLD_S = 0.5
SESSION_S = 215.0
STOP_RUN_AFTER_S = 30.0

NORMAL_RATE_DEG_S = spec.RATE_CEILING_MDEG_S / 1000.0
NORMAL_ACCEL_DEG_S2 = spec.ACCEL_CEILING_MDEG_S2 / 1000.0
NORMAL_JERK_DEG_S3 = spec.JERK_MDEG_S3 / 1000.0
EMERGENCY_RATE_DEG_S = spec.EMERGENCY_RATE_MDEG_S / 1000.0
EMERGENCY_ACCEL_DEG_S2 = spec.EMERGENCY_ACCEL_MDEG_S2 / 1000.0
EMERGENCY_JERK_DEG_S3 = spec.EMERGENCY_JERK_MDEG_S3 / 1000.0
REVERSAL_DEAD_S = spec.REVERSAL_DEAD_MS / 1000.0
DWELL_S = spec.DWELL_DEFAULT_MS / 1000.0

SETTLE_BAND_DEG = 1.0
HOME_TOL_DEG = 1.0
# The bed counts as at rest below this true speed (the plant's own rate is
# exactly 0 once a self-locking actuator has stopped).
REST_RATE_DEG_S = 0.01
# Acceleration is the true speed differenced over this window: long enough
# that one tick's rounding is not an acceleration a person feels.
ACCEL_WINDOW_S = 0.1
HOME_RATIO_TARGET = 1.05

# The DIY baselines' own numbers.
ARRIVED_DEG = 1.0
BANG_BANG_DEADBAND_DEG = 1.0
# Kp: duty per degree of error; Ki: per degree-second; Kd: per deg/s (on the
# measurement). Chosen by tune_pid(); see the module docstring.
PID_GAINS = (0.3, 0.0, 0.0)
PID_TUNE_GRID = {"kp": (0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8, 1.2),
                 "ki": (0.0, 0.01, 0.02, 0.05, 0.1, 0.2),
                 "kd": (0.0, 0.01, 0.02, 0.05)}
PID_TUNE_MAX_REVERSALS = 10

CONTROLLERS = ("ours", "pid", "bang_bang")
# (metric, unit, better): "low", "high", "ratio" (see home_ratio) and "r4"
# (see settling_s) are scored; None is context only.
METRICS = (
    ("overshoot_target_deg", "deg", "low"),
    ("overshoot_cap_deg", "deg", "low"),
    ("settling_s", "s", "r4"),
    ("rms_tracking_deg", "deg", "low"),
    ("emergency_latency_s", "s", "low"),
    ("emergency_motion_s", "s", None),
    ("home_s", "s", None),
    ("home_ratio", "", "ratio"),
    ("home_reached", "", "high"),
    ("reversals", "", "low"),
    ("dead_time_violations", "", "low"),
    ("brake_releases", "", None),
    ("peak_rate_deg_s", "deg/s", None),
    ("peak_accel_deg_s2", "deg/s^2", None),
)


# --- reference profiles (ruckig) ------------------------------------------------------

def _segment(p0, v0, p1, v1, vmax, amax, jmax):
    """Time-optimal 1-DOF jerk-limited trajectory, zero acceleration at both ends."""
    otg = Ruckig(1)
    inp = InputParameter(1)
    inp.current_position = [p0]
    inp.current_velocity = [v0]
    inp.current_acceleration = [0.0]
    inp.target_position = [p1]
    inp.target_velocity = [v1]
    inp.target_acceleration = [0.0]
    inp.max_velocity = [vmax]
    inp.max_acceleration = [amax]
    inp.max_jerk = [jmax]
    traj = Trajectory(1)
    result = otg.calculate(inp, traj)
    if result not in (Result.Working, Result.Finished):
        raise RuntimeError("ruckig: %s" % result)
    return traj


def move_reference(from_deg, to_deg):
    """(duration_s, position_at(t_s)) of the R4 move from rest to rest."""
    if abs(to_deg - from_deg) < 1e-9:
        return 0.0, lambda t_s: to_deg
    traj = _segment(from_deg, 0.0, to_deg, 0.0, NORMAL_RATE_DEG_S, NORMAL_ACCEL_DEG_S2,
                    NORMAL_JERK_DEG_S3)
    duration_s = traj.duration

    def at(t_s):
        if t_s <= 0.0:
            return from_deg
        if t_s >= duration_s:
            return to_deg
        return traj.at_time(t_s)[0][0]
    return duration_s, at


def emergency_reference_s(from_deg, home_deg):
    """The time-optimal jerk-limited return under SPEC R5 (see the docstring)."""
    if from_deg <= home_deg:
        return 0.0
    if from_deg <= 0.0:
        return _segment(from_deg, 0.0, home_deg, 0.0, NORMAL_RATE_DEG_S, NORMAL_ACCEL_DEG_S2,
                        NORMAL_JERK_DEG_S3).duration
    above = _segment(from_deg, 0.0, 0.0, -NORMAL_RATE_DEG_S, EMERGENCY_RATE_DEG_S,
                     EMERGENCY_ACCEL_DEG_S2, EMERGENCY_JERK_DEG_S3)
    below = _segment(0.0, -NORMAL_RATE_DEG_S, home_deg, 0.0, NORMAL_RATE_DEG_S,
                     NORMAL_ACCEL_DEG_S2, NORMAL_JERK_DEG_S3)
    return above.duration + below.duration


# --- metrics on a trace (plain lists, one entry per control tick) ----------------------

def count_reversals(drive, tick_s, dead_s=REVERSAL_DEAD_S):
    """(reversals, dead-time violations): sign changes of the drive, zero
    stretches between them ignored; a violation is a reversal with less
    than dead_s at zero drive in between."""
    reversals = 0
    violations = 0
    last_sign = 0
    zero_ticks = 0
    for d in drive:
        sign = 1 if d > 0 else (-1 if d < 0 else 0)
        if sign == 0:
            zero_ticks += 1
            continue
        if last_sign != 0 and sign != last_sign:
            reversals += 1
            if zero_ticks * tick_s < dead_s - 1e-9:
                violations += 1
        last_sign = sign
        zero_ticks = 0
    return reversals, violations


def overshoot_deg(theta_deg, limit_deg):
    """How far the angle went past limit_deg (0 if never)."""
    if not theta_deg:
        return None
    return max(0.0, max(theta_deg) - limit_deg)


def settling_time_s(theta_deg, target_deg, k0, k1, tick_s, band_deg=SETTLE_BAND_DEG):
    """From tick k0 until the angle stays within band of the target through
    tick k1 (exclusive); None if it is outside on the last tick of the window."""
    last_out = None
    for k in range(k0, k1):
        if abs(theta_deg[k] - target_deg) > band_deg:
            last_out = k
    if last_out is None:
        return 0.0
    if last_out >= k1 - 1:
        return None
    return (last_out + 1 - k0) * tick_s


def rms_error_deg(theta_deg, reference_deg):
    n = len(theta_deg)
    if n == 0:
        return None
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(theta_deg, reference_deg)) / n)


def response_latency_s(drive, k_press, toward, tick_s):
    """Ticks from k_press to the first drive pointing `toward` (+1/-1), in s."""
    for k in range(k_press, len(drive)):
        if drive[k] * toward > 0:
            return (k - k_press) * tick_s
    return None


def home_time_s(theta_deg, rate_deg_s, brake, k_press, home_deg, tick_s, tol_deg=HOME_TOL_DEG):
    for k in range(k_press, len(theta_deg)):
        if (brake[k] and abs(theta_deg[k] - home_deg) < tol_deg
                and abs(rate_deg_s[k]) < REST_RATE_DEG_S):
            return (k - k_press) * tick_s
    return None


def count_releases(brake):
    """Times the brake went from engaged to released."""
    return sum(1 for a, b in zip(brake, brake[1:]) if a and not b)


def peak_accel_deg_s2(rate_deg_s, tick_s, window_s=ACCEL_WINDOW_S):
    n = max(1, int(round(window_s / tick_s)))
    best = 0.0
    for k in range(n, len(rate_deg_s)):
        a = abs(rate_deg_s[k] - rate_deg_s[k - n]) / (n * tick_s)
        if a > best:
            best = a
    return best


# --- the baselines ------------------------------------------------------------------------

class _Telemetry:
    """What the runner reads from app.core every tick (runner.TELEMETRY)."""

    def __init__(self, cap_mdeg):
        self.state = "boot"
        self.theta_mdeg = 0
        self.setpoint_mdeg = 0
        self.setpoint_rate_mdeg_s = 0
        self.setpoint_accel_mdeg_s2 = 0
        self.cap_mdeg = cap_mdeg
        self.duty_permille = 0
        self.brake_engaged = True
        self.heartbeat_ok = True
        self.fault = ""
        self.event = ""
        self.trigger_tick = False


class _BangBang:
    name = "bang_bang"

    def start(self, theta_deg):
        pass

    def update(self, theta_deg, target_deg, emergency, dt_s):
        err = target_deg - theta_deg
        if err > BANG_BANG_DEADBAND_DEG:
            return 1000, target_deg
        if err < -BANG_BANG_DEADBAND_DEG:
            return -1000, target_deg
        return 0, target_deg

    def arrived(self, theta_deg, target_deg):
        return abs(target_deg - theta_deg) <= ARRIVED_DEG


class _Pid:
    """simple_pid.PID on the angle error, its setpoint slewed toward the target
    at the normal rate; on STOP at R5's 10 deg/s while above horizontal (a
    builder who read R5 would), the normal rate below."""
    name = "pid"

    def __init__(self, gains=PID_GAINS):
        kp, ki, kd = gains
        self.pid = PID(kp, ki, kd, setpoint=0.0, sample_time=None, output_limits=(-1.0, 1.0))
        self.setpoint_deg = 0.0

    def start(self, theta_deg):
        self.setpoint_deg = theta_deg
        self.pid.reset()

    def update(self, theta_deg, target_deg, emergency, dt_s):
        rate = EMERGENCY_RATE_DEG_S if emergency and self.setpoint_deg > 0.0 else NORMAL_RATE_DEG_S
        step = rate * dt_s
        sp = self.setpoint_deg
        if target_deg > sp:
            sp = min(target_deg, sp + step)
        else:
            sp = max(target_deg, sp - step)
        self.setpoint_deg = sp
        self.pid.setpoint = sp
        u = self.pid(theta_deg, dt=dt_s)
        return int(round(u * 1000)), sp

    def arrived(self, theta_deg, target_deg):
        return self.setpoint_deg == target_deg and abs(target_deg - theta_deg) <= ARRIVED_DEG


# DIY sequencer phases (the names are the trace's states).
_IDLE = "idle"
_MOVING = "moving"
_HOLDING = "holding"
_RETURNING = "returning"
_EMERGENCY = "emergency_return"


class DiyApp:
    """A baseline controller on the firmware's drivers and angle estimate."""

    def __init__(self, board, devices, profile, controller):
        # Imported here: the runner loads the firmware afresh for every boot.
        from control.estimator import AngleEstimator
        from safety.limits import compute_limits
        self.dev = devices
        self.ctl = controller
        self.limits = compute_limits(profile, board)
        self.cap_deg = self.limits.cap_mdeg / 1000.0
        self.home_deg = self.limits.home_mdeg / 1000.0
        self.est = AngleEstimator()
        self.offset_mdeg = devices.level_offset_mdeg
        self.core = _Telemetry(self.limits.cap_mdeg)
        self.now_ms = 0
        self.phase = _IDLE
        self.armed = False
        self.steps = []
        self.step_i = 0
        self.target_deg = self.home_deg
        self.timer_s = 0.0
        self.stop_prev = True
        devices.hbridge.off()
        devices.brake.engage()
        try:
            devices.imu.check()
            devices.imu.configure()
        except OSError:
            pass

    def start_program(self, name):
        if name != PROGRAM_NAME:
            return False, "unknown program"
        # The cap clamp a careful builder adds to every target.
        self.steps = [(min(TARGET_DEG, self.cap_deg), HOLD_S), (0.0, DWELL_S),
                      (self.home_deg, 0.0)]
        self.step_i = 0
        self.armed = True
        return True, "ready: press START"

    def _go(self, i):
        self.step_i = i
        self.target_deg = self.steps[i][0]
        self.timer_s = 0.0
        self.phase = _MOVING if i == 0 else _RETURNING

    def tick(self, dt_ms=10):
        self.now_ms += dt_ms
        dev = self.dev
        core = self.core
        core.event = ""
        core.trigger_tick = False
        dt_s = dt_ms / 1000.0
        try:
            dev.imu.read()
            dev.bedframe.update()
            ok = True
        except OSError:
            ok = False
        b = dev.bedframe
        self.est.update(ok, b.along_mg, b.normal_mg, b.pitch_rate_mdeg_s, dt_ms)
        theta_mdeg = self.est.theta_udeg // 1000 - self.offset_mdeg
        theta = theta_mdeg / 1000.0
        dev.buttons.update(self.now_ms)
        stop = dev.buttons.stop.pressed
        start = dev.buttons.start.just_pressed
        core.theta_mdeg = theta_mdeg
        if not self.est.seated:
            core.state = "boot"
            self._apply(0, False)
            self.stop_prev = stop
            return

        if stop and not self.stop_prev:
            # STOP drives the setpoint home, from wherever it is.
            if self.phase == _IDLE:
                self.ctl.start(theta)
            self.phase = _EMERGENCY
            self.armed = False
            self.target_deg = self.home_deg
            core.event = "stop"
            core.trigger_tick = True
        self.stop_prev = stop
        if start and self.armed and self.phase == _IDLE and not stop:
            self.armed = False
            self.ctl.start(theta)
            self._go(0)

        if self.phase == _IDLE:
            core.state = _IDLE
            core.setpoint_mdeg = theta_mdeg
            self._apply(0, False)
            return
        duty, sp = self.ctl.update(theta, self.target_deg, self.phase == _EMERGENCY, dt_s)
        arrived = self.ctl.arrived(theta, self.target_deg)
        if self.phase == _MOVING and arrived:
            self.phase = _HOLDING
            self.timer_s = 0.0
        elif self.phase == _HOLDING:
            self.timer_s += dt_s
            if self.timer_s >= self.steps[self.step_i][1]:
                self._go(self.step_i + 1)
        elif self.phase == _RETURNING and arrived:
            hold_s = self.steps[self.step_i][1]
            if self.step_i + 1 < len(self.steps):
                # The dwell at horizontal, then home.
                self.timer_s += dt_s
                if self.timer_s >= hold_s:
                    self.timer_s = 0.0
                    self._go(self.step_i + 1)
            else:
                self.phase = _IDLE
        elif self.phase == _EMERGENCY and arrived:
            self.phase = _IDLE
        if self.phase == _IDLE:
            duty = 0
            core.event = "home"
        core.state = self.phase
        core.setpoint_mdeg = int(round(sp * 1000))
        self._apply(duty, self.phase != _IDLE)

    def _apply(self, duty_permille, run):
        """As app.py drives the outputs: enable and duty, or all off; the brake
        released while a program runs, engaged at rest."""
        dev = self.dev
        core = self.core
        if run:
            dev.brake.release()
            dev.hbridge.enable(True)
            dev.hbridge.set_duty(duty_permille)
        else:
            dev.hbridge.off()
            dev.brake.engage()
        core.duty_permille = dev.hbridge.duty_permille
        core.brake_engaged = not run


def pid_factory(gains=PID_GAINS):
    def factory(board, devices, profile):
        return DiyApp(board, devices, profile, _Pid(gains))
    return factory


def bang_bang_factory(board, devices, profile):
    return DiyApp(board, devices, profile, _BangBang())


# --- running ------------------------------------------------------------------------------

def scenario(stop_t_s=None):
    """The session (stop_t_s None) or a run with STOP pressed at stop_t_s."""
    events = [{"t": PROGRAM_AT_S, "do": "program", "name": PROGRAM_NAME},
              {"t": START_T_S, "do": "press", "button": "start"}]
    if stop_t_s is not None:
        events.append({"t": stop_t_s, "do": "press", "button": "stop", "hold_s": STOP_HOLD_S})
    return parse_scenario({
        "name": "peers-session" if stop_t_s is None else "peers-stop-%g" % stop_t_s,
        "board": BOARD_NAME, "seed": SEED,
        "duration_s": SESSION_S if stop_t_s is None else stop_t_s + STOP_RUN_AFTER_S,
        "person": PERSON, "profile": PROFILE,
        "heartbeat": {"source": "host", "period_s": 0.25},
        "events": events})


class _PeerRunner(Runner):
    """The runner as it is, except that the board's flash also holds the
    program (a custom program, as a clinician stores one)."""

    def _format_flash(self):
        Runner._format_flash(self)
        from session.storage import Storage
        from session import programs
        programs.save_custom(Storage(self.flash), PROGRAM_NAME,
                             [{"target_deg": TARGET_DEG, "hold_s": HOLD_S}])


class _PlantTap:
    """Wraps plant.step: after each tick's physics, what the plant really did."""

    def __init__(self, plant):
        self.plant = plant
        self._step = plant.step
        self.theta_deg = []
        self.rate_deg_s = []
        self.motor_duty = []
        self.brake = []
        plant.step = self

    def __call__(self, dt_ms=None):
        self._step(dt_ms)
        p = self.plant
        self.theta_deg.append(p.theta_deg)
        self.rate_deg_s.append(p.rate_deg_s)
        self.motor_duty.append(p.motor_duty)
        self.brake.append(p.brake_engaged)


class Trace:
    """Per tick k: theta_deg[k], rate_deg_s[k] and brake[k] after the physics
    up to tick k (what the controller reads at tick k); drive[k] the duty the
    motor gets from the controller's tick k (the plant applies it over the
    next tick); state[k] the controller's state name."""

    def __init__(self, tap, rows, tick_s, n):
        self.tick_s = tick_s
        self.theta_deg = tap.theta_deg[:n]
        self.rate_deg_s = tap.rate_deg_s[:n]
        self.brake = tap.brake[:n]
        self.drive = tap.motor_duty[1:n + 1]
        while len(self.drive) < len(self.theta_deg):
            self.drive.append(self.drive[-1] if self.drive else 0.0)
        self.state = [""] * n
        for r in rows:
            if r[R_TICK] < n:
                self.state[r[R_TICK]] = r[R_STATE]


def _factory(controller):
    if controller == "pid":
        return pid_factory()
    if controller == "bang_bang":
        return bang_bang_factory
    raise ValueError("unknown controller %r" % (controller,))


def run_trace(controller, stop_t_s=None, factory=None):
    """One run of one controller; `ours` is the firmware's App as the
    simulator's default factory builds it."""
    sc = scenario(stop_t_s)
    if controller == "ours":
        runner = _PeerRunner(sc)
    else:
        runner = Runner(sc, factory or _factory(controller))
    n = int(round(sc.duration_s * 1000.0 / runner.tick_ms))
    try:
        runner.open()
        tap = _PlantTap(runner.plant)
        runner.advance(n)
    finally:
        runner.close()
    return Trace(tap, runner.rows, runner.tick_ms / 1000.0, n + 1)


def _tick_of(t_s, tick_s):
    return int(math.ceil(t_s / tick_s - 1e-6))


def session_metrics(tr, target_deg=TARGET_DEG, cap_deg=TARGET_DEG):
    tick_s = tr.tick_s
    home_deg = _board_home_deg()
    k0 = _tick_of(START_T_S, tick_s)
    n = len(tr.theta_deg)
    k_return = next((k for k in range(k0, n) if tr.state[k] in ("returning", "emergency_return")), n)
    move_s, ref = move_reference(tr.theta_deg[k0], target_deg)
    k_end = min(k0 + int(round((move_s + HOLD_S) / tick_s)), k_return)
    window = tr.theta_deg[k0:k_end]
    reference = [ref((k - k0) * tick_s) for k in range(k0, k_end)]
    reversals, violations = count_reversals(tr.drive, tick_s)
    return {
        "overshoot_target_deg": overshoot_deg(tr.theta_deg[k0:k_return], target_deg),
        "overshoot_cap_deg": overshoot_deg(tr.theta_deg, cap_deg),
        "settling_s": settling_time_s(tr.theta_deg, target_deg, k0, k_end, tick_s),
        "rms_tracking_deg": rms_error_deg(window, reference),
        "reversals": reversals,
        "dead_time_violations": violations,
        "brake_releases": count_releases(tr.brake),
        "completed": (tr.state[-1] == "idle" and tr.brake[-1]
                      and abs(tr.theta_deg[-1] - home_deg) < HOME_TOL_DEG),
        "peak_rate_deg_s": max(abs(r) for r in tr.rate_deg_s),
        "peak_accel_deg_s2": peak_accel_deg_s2(tr.rate_deg_s, tick_s),
    }


def stop_metrics(tr, stop_t_s, home_deg, cap_deg=TARGET_DEG):
    tick_s = tr.tick_s
    k_press = _tick_of(stop_t_s, tick_s)
    theta0 = tr.theta_deg[k_press]
    ref_s = emergency_reference_s(theta0, home_deg)
    home_s = home_time_s(tr.theta_deg, tr.rate_deg_s, tr.brake, k_press, home_deg, tick_s)
    return {
        "stop_t_s": stop_t_s,
        "stop_theta_deg": theta0,
        "emergency_latency_s": response_latency_s(tr.drive, k_press, -1, tick_s),
        "emergency_motion_s": response_latency_s(
            [r + REST_RATE_DEG_S for r in tr.rate_deg_s], k_press, -1, tick_s),
        "home_s": home_s,
        "home_reference_s": ref_s,
        "home_ratio": None if home_s is None else home_s / ref_s,
        "overshoot_cap_deg": overshoot_deg(tr.theta_deg, cap_deg),
    }


def _board_home_deg():
    return float(scenario().board["home_deg"])


def _worst(values):
    """The largest, or None if any run never got there."""
    if any(v is None for v in values):
        return None
    return max(values)


def measure(controller, factory=None, stop_times_s=STOP_TIMES_S, with_session=True):
    """Every metric of one controller: the session, and one run per STOP press
    time (the emergency rows are the worst over those presses)."""
    home_deg = _board_home_deg()
    out = {}
    if with_session:
        out.update(session_metrics(run_trace(controller, None, factory)))
    stops = [stop_metrics(run_trace(controller, t, factory), t, home_deg) for t in stop_times_s]
    if stops:
        for key in ("emergency_latency_s", "emergency_motion_s"):
            out[key] = _worst([s[key] for s in stops])
        # The home rows are the worst of the presses that got home; how many
        # did is a row of its own.
        home = [s for s in stops if s["home_s"] is not None]
        out["home_reached"] = len(home)
        for key in ("home_s", "home_ratio"):
            out[key] = max(s[key] for s in home) if home else None
        over = max(s["overshoot_cap_deg"] for s in stops)
        out["overshoot_cap_deg"] = max(out.get("overshoot_cap_deg", over), over)
    out["stops"] = stops
    return out


def _round(v):
    if isinstance(v, float):
        return round(v, 3)
    if isinstance(v, dict):
        return {k: _round(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def run_peers():
    """Every controller, every run: the dict bench.py stores under "peers"."""
    t0 = time.monotonic()
    per = {c: measure(c) for c in CONTROLLERS}
    home_deg = _board_home_deg()
    move_s, ref = move_reference(home_deg, TARGET_DEG)
    # The ideal move sampled like a trace, on the board's tick.
    tick_s = scenario().board["tick_ms"] / 1000.0
    ref_trace = [ref(k * tick_s) for k in range(int(move_s / tick_s) + 2)]
    peers = {}
    for c in CONTROLLERS:
        m = per[c]
        peers[c] = {key: _round(m.get(key)) for key, _unit, _better in METRICS}
        peers[c]["stops"] = _round(m["stops"])
    peers["reference"] = {
        "home_reference_s_from_target": round(emergency_reference_s(TARGET_DEG, home_deg), 3),
        "move_reference_s": round(move_s, 3),
        # What the ideal R4 move itself scores on the settling row.
        "settling_reference_s": round(settling_time_s(ref_trace, TARGET_DEG, 0, len(ref_trace),
                                                      tick_s), 3),
        "tick_s": tick_s,
        "target_deg": TARGET_DEG,
        "cap_deg": TARGET_DEG,
        "home_deg": home_deg,
        "hold_s": HOLD_S,
        "stop_times_s": list(STOP_TIMES_S),
        "home_ratio_target": HOME_RATIO_TARGET,
        "pid_gains_kp_ki_kd": list(PID_GAINS),
        "board": BOARD_NAME,
        "seed": SEED,
    }
    peers["best"] = best_of(peers)
    peers["run_s"] = round(time.monotonic() - t0, 1)
    return peers


def best_of(peers):
    """metric -> the controllers best on it (ties share). Lower is better,
    except home_ratio: the lowest at or above 1.0, since below 1.0 means R5's
    limits were broken, and settling_s: the lowest not below the ideal R4
    move's (less one tick), since a faster one broke R4's limits (neither
    is eligible)."""
    best = {}
    ref = peers["reference"]
    settle_floor_s = ref["settling_reference_s"] - ref["tick_s"] - 1e-9
    for key, _unit, better in METRICS:
        if better is None:
            continue
        vals = {c: peers[c][key] for c in CONTROLLERS if peers[c][key] is not None}
        if better == "ratio":
            vals = {c: v for c, v in vals.items() if v >= 1.0 - 1e-9}
        elif better == "r4":
            vals = {c: v for c, v in vals.items() if v >= settle_floor_s}
        if not vals:
            best[key] = []
            continue
        top = max(vals.values()) if better == "high" else min(vals.values())
        best[key] = [c for c, v in vals.items() if abs(v - top) <= 1e-9]
    return best


def format_table(peers):
    lines = []
    head = "%-24s %10s %10s %10s  %s" % ("metric", "ours", "pid", "bang_bang", "best")
    lines.append(head)
    lines.append("-" * len(head))
    ref = peers["reference"]
    notes = {"peak_rate_deg_s": "R4 ceiling %g" % NORMAL_RATE_DEG_S,
             "peak_accel_deg_s2": "R4 ceiling %g" % NORMAL_ACCEL_DEG_S2,
             "home_s": "reference %.3f from %g" % (ref["home_reference_s_from_target"],
                                                   ref["target_deg"])}
    extra = {"settling_s": "  (ideal R4 move: %.2f; sooner breaks R4)" % ref["settling_reference_s"]}
    for key, _unit, better in METRICS:
        cells = []
        for c in CONTROLLERS:
            v = peers[c][key]
            cells.append("-" if v is None else ("%.3f" % v if isinstance(v, float) else str(v)))
        if better is None:
            mark = notes.get(key, "")
        else:
            mark = ", ".join(peers["best"].get(key, [])) or "-"
            if key == "home_ratio":
                mark += "  (target <= %.2f; < 1 breaks R5)" % HOME_RATIO_TARGET
            elif key == "home_reached":
                mark += "  (of %d STOP presses)" % len(ref["stop_times_s"])
            mark += extra.get(key, "")
        lines.append("%-24s %10s %10s %10s  %s" % (key, cells[0], cells[1], cells[2], mark))
    return "\n".join(lines)


# --- PID tuning ------------------------------------------------------------------------------

def tune_pid(out=sys.stdout):
    """The grid of PID_TUNE_GRID on the session scenario; prints every point
    and returns the gains kept (see the module docstring)."""
    results = []
    for kp in PID_TUNE_GRID["kp"]:
        for ki in PID_TUNE_GRID["ki"]:
            for kd in PID_TUNE_GRID["kd"]:
                m = session_metrics(run_trace("pid", None, pid_factory((kp, ki, kd))))
                ok = (m["overshoot_target_deg"] <= spec.CAP_TOLERANCE_MDEG / 1000.0
                      and m["reversals"] < PID_TUNE_MAX_REVERSALS and m["completed"])
                results.append(((kp, ki, kd), m, ok))
                print("kp=%-5g ki=%-5g kd=%-5g rms=%.3f over=%.3f settle=%s rev=%d home=%s %s"
                      % (kp, ki, kd, m["rms_tracking_deg"], m["overshoot_target_deg"],
                         m["settling_s"], m["reversals"], m["completed"], "ok" if ok else ""),
                      file=out, flush=True)
    good = [r for r in results if r[2]]
    best = min(good or results, key=lambda r: r[1]["rms_tracking_deg"])
    print("kept:", best[0], file=out)
    return best[0]


def main(argv):
    if "--tune-pid" in argv:
        tune_pid()
        return 0
    peers = run_peers()
    if "--json" in argv:
        print(json.dumps(peers, sort_keys=True))
    else:
        print(format_table(peers))
        print("ran in %.1f s" % peers["run_s"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
