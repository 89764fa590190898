"""The fault campaign: every fault kind at every phase of a session, on every board.

Usage::

    python -m simulator.campaign [--out docs/fault-campaign.md] [--jobs N]

For each board in BOARDS a fault-free session is run first (the dry run) to
find when its phases happen; then every fault kind of the contract is
injected once in each phase (PHASES) and the run is judged from its trace:
detected or not and how fast, what the firmware did, how far past the cap
the table went, where and how it ended, and whether that end is safe
(SAFE_RULE, which the document's header repeats). A fault the board cannot
have (the plant does not model it there) gets a row saying so, without a run.

Everything is fixed (seeds, times, parameters), so the document is the same
byte for byte on every machine; the time the campaign took goes to stdout.

Use from code::

    jobs = campaign_jobs()                       # [(board, fault, phase)], document order
    times, results = run_campaign(jobs, n_jobs=2)
    text = render_doc(times, results)            # the markdown
    render_row(results[0])                       # one table line of it
"""
import argparse
import multiprocessing
import os
import sys
import time

from .plant import Plant
from .runner import Runner, run
from .scenario import parse_scenario, load_board_checked
from .trace import (R_TICK, R_THETA, R_STATE, R_FAULT, R_FW_EVENT, R_TRUE_RATE,
                    R_BRAKE_ACTUAL, R_TRIGGER)

DEFAULT_OUT = os.path.join("docs", "fault-campaign.md")
DEFAULT_JOBS = 2
TICK_S = 0.01

PROGRAM_T_S = 1.0
START_T_S = 1.5
ARMS_UP_T_S = 2.0
HEARTBEAT_PERIOD_S = 0.25
PERSON = {"mass_kg": 80, "height_cm": 178}

# One session per board: the profile, the program, the seed, and whether the
# person's arms move the table (a gravity-balanced brake table).
BOARDS = (
    ("esp32-devkitc-actuator", {
        "seed": 10,
        "profile": {"level": 3, "age": 45, "full_inversion": False, "contraindications": [],
                    "preferred_angle": 60},
        "program": "decompression",
        "arms": False,
    }),
    ("esp32s3-brake", {
        "seed": 10,
        "profile": {"level": 1, "age": 50, "full_inversion": False, "contraindications": [],
                    "preferred_angle": 20},
        "program": "beginner",
        "arms": True,
    }),
)
SESSIONS = dict(BOARDS)

# Fault kinds in the contract's order, with the parameters used (the
# scenario's own keys). Every fault stays for the rest of the run, except the
# pinch's obstruction (PINCH_CLEAR_* below).
FAULTS = (
    ("imu_bus_error", {}),
    ("imu_missing", {}),
    ("imu_freeze", {}),
    ("imu_spike", {"rate": 0.2}),
    ("imu_bias", {"value": 8}),
    ("position_sensor_open", {"rail": "high"}),
    ("actuator_stall", {}),
    ("actuator_runaway", {"duty": 0.6}),
    ("brake_slip", {"torque_nm": 20}),
    ("pinch", {"torque_nm": 300}),
    ("link_noise", {"rate": 0.5}),
)
FAULT_PARAMS = dict(FAULTS)
FAULT_NOTES = {
    "imu_bus_error": "every I2C transaction with the IMU fails",
    "imu_missing": "the IMU stops answering (absent from the bus)",
    "imu_freeze": "the IMU's data registers stop changing",
    "imu_spike": "one sample in five carries a gross outlier",
    "imu_bias": "the IMU reads 8 deg more than the bed's angle (a slipped bracket)",
    "position_sensor_open": "the potentiometer wire breaks (reads the top rail)",
    "actuator_stall": "the actuator stops moving under drive (a dead motor or gearbox)",
    "actuator_runaway": "the H-bridge drives head-down at duty 0.6 whatever is commanded",
    "brake_slip": "the brake holds only 20 N m",
    "pinch": "an obstruction resists any motion with 300 N m (the actuator's most is "
             "about 460 N m; the brake table's arms about 50 N m)",
    "link_noise": "half of the bytes the host sends are corrupted (most heartbeats lost)",
}

PHASES = ("rising", "holding", "returning", "paused", "at boot")

# When each phase's fault starts, from the dry run's trace:
# rising: the last tick before the hold at which the final climb passes
# RISE_FRACTION of the hold angle;
RISE_FRACTION = 0.5
# holding: this long into the hold at the program's angle;
HOLD_INJECT_S = 20.0
# returning: this long after the normal return began (still inverted);
RETURN_INJECT_S = 2.0
# paused: START pressed this long into the hold, the fault this long after;
PAUSE_PRESS_S = 15.0
PAUSE_INJECT_S = 5.0
# at boot: the power fails this long into the hold, the fault appears this
# long into the off time, and power is back after BOOT_OFF_S.
BOOT_POWER_OFF_S = 20.0
BOOT_INJECT_S = 2.5
BOOT_OFF_S = 3.0
# The run goes on at most this long after the fault starts (a pause runs
# until the R2 hold ceiling, 5 min on the brake table, then the return) ...
TAIL_S = 400.0
# ... and ends early once the table has been at rest (idle or halted, brake
# engaged, still) for SETTLE_S, not before the fault; checked every CHECK_S.
SETTLE_S = 20.0
CHECK_S = 1.0
DRY_RUN_S = {"esp32-devkitc-actuator": 260.0, "esp32s3-brake": 160.0}
# On a brake table the person is scripted: arms up to start the climb, arms
# down this long after the firmware's cue (the normal return, or the alarm
# of a fault, an emergency return or a halt) or after they feel the table
# turn on its own (faster than FELT_RATE_DEG_S for FELT_S with the brake
# engaged).
ARMS_REACTION_S = 1.0
FELT_RATE_DEG_S = 0.5
FELT_S = 0.3
# The obstruction of a pinch is taken away this long after the firmware
# reports a fault (its alarm brings someone to clear it), or, if it never
# reports one, this long after it appeared (someone sees the table stuck).
PINCH_CLEAR_AFTER_REPORT_S = 10.0
PINCH_CLEAR_UNREPORTED_S = 30.0
# Each reaction changes the trace only after it, so a run is repeated with
# the reactions found until no new one appears; at most this many runs.
MAX_RUNS = 6

# --- judging a run ---------------------------------------------------------------
CAP_TOLERANCE_DEG = 1.0        # SPEC R1
HOME_TOLERANCE_DEG = 1.0
DETECT_LIMIT_S = 0.3           # SPEC R10
# The fault is injected between two ticks: the first tick that can see it
# is the next one.
DETECT_SLACK_S = TICK_S
REST_WINDOW_S = 5.0            # "at rest": the last seconds of the run...
REST_RATE_DEG_S = 0.2          # ...never faster than this
# Codes with which the SPEC has the table stay braked: a failed self-check at
# boot (R10), a runaway (R10: cut power, brake), an actuator that would not
# move after the slow retries, a brake that does not hold, the hardware
# e-stop; and a lost angle sensor when the board has no second one to steer
# by (R5: the emergency return is for faults that still allow controlled
# motion).
STAY_BRAKED_CODES = ("selfcheck_failed", "runaway", "stall_repeated", "brake_slip", "estop")
ANGLE_SENSOR_CODES = ("imu_no_data", "imu_frozen", "imu_implausible", "position_sensor",
                      "sensor_disagree")
AT_REST_STATES = ("idle", "halted")
# Rows known not to end safe, and why (shown under the summary while they
# stay so; the test expects exactly these).
KNOWN_NOT_SAFE = {}
IMU_FAULTS = ("imu_bus_error", "imu_missing", "imu_freeze", "imu_spike")

SAFE_RULE = (
    "A run **ends safe** when all of these hold: (1) the true bed angle never went more "
    "than %.1f deg past the cap in force (SPEC R1), the stretches with the board "
    "unpowered included; (2) the firmware never raised an exception; (3) at the end the "
    "table is either home or head-up (state `idle`, brake engaged, true angle within %.1f "
    "deg of home or at most 0: the person is upright and can get off) or halted (state `halted`, brake engaged) with a fault code in force for "
    "which the SPEC has it stay braked: `selfcheck_failed` (R10: a failed self-check at "
    "boot stays braked and alarms), `runaway` (R10: cut the actuator's power, brake), "
    "`stall_repeated` (the slow retries of R10 failed: the actuator cannot move the "
    "table), `brake_slip` (the brake is all there is to hold it), `estop`, or a lost "
    "angle sensor on a board that has no second one (R5: the emergency return is for "
    "faults that still allow controlled motion); (4) the table is not moving without "
    "command: over the last %.0f s of the run it never turned faster than %.1f deg/s."
    % (CAP_TOLERANCE_DEG, HOME_TOLERANCE_DEG, REST_WINDOW_S, REST_RATE_DEG_S))


# --- scenarios ---------------------------------------------------------------------

def _r2(t):
    """A time on the 10 ms tick grid."""
    return round(t, 2)


def _tick(t_s):
    return int(round(t_s / TICK_S))


def base_events(board):
    s = SESSIONS[board]
    ev = [{"t": PROGRAM_T_S, "do": "program", "name": s["program"]},
          {"t": START_T_S, "do": "press", "button": "start"}]
    if s["arms"]:
        ev.append({"t": ARMS_UP_T_S, "do": "arms", "position": "up"})
    return ev


def scenario_dict(board, name, duration_s, events):
    s = SESSIONS[board]
    return {"name": name, "board": board, "seed": s["seed"], "duration_s": duration_s,
            "person": dict(PERSON), "profile": dict(s["profile"]),
            "heartbeat": {"source": "host", "period_s": HEARTBEAT_PERIOD_S},
            "events": sorted(events, key=lambda e: e["t"])}


def dry_run_times(board):
    """Phase anchors of the fault-free session, seconds: {"rise", "hold",
    "return"}, and its highest angle "peak_deg"."""
    sc = parse_scenario(scenario_dict(board, "dry-run-" + board, DRY_RUN_S[board],
                                      base_events(board)))
    rows = run(sc).rows
    peak = max(r[R_THETA] for r in rows)
    hold = next(r for r in rows if r[R_STATE] == "holding" and r[R_THETA] >= 0.9 * peak)
    level = RISE_FRACTION * peak
    rise = None
    prev = None
    for r in rows:
        if r[R_TICK] >= hold[R_TICK]:
            break
        if r[R_THETA] >= level and (prev is None or prev < level):
            rise = r
        prev = r[R_THETA]
    ret = next(r for r in rows if r[R_STATE] == "returning")
    return {"rise": _r2(rise[R_TICK] * TICK_S), "hold": _r2(hold[R_TICK] * TICK_S),
            "return": _r2(ret[R_TICK] * TICK_S), "peak_deg": round(peak, 1)}


def fault_event(t, fault):
    ev = {"t": _r2(t), "do": "fault", "kind": fault}
    ev.update(FAULT_PARAMS[fault])
    return ev


def phase_plan(board, fault, phase, times):
    """(events, t_inject_s, t_watch_s): the run's events, when the fault
    starts, and from when the firmware can see it (power-on for at boot)."""
    ev = base_events(board)
    if phase == "rising":
        t = _r2(times["rise"])
    elif phase == "holding":
        t = _r2(times["hold"] + HOLD_INJECT_S)
    elif phase == "returning":
        t = _r2(times["return"] + RETURN_INJECT_S)
        if SESSIONS[board]["arms"]:
            # the return's cue
            ev.append({"t": _r2(times["return"] + ARMS_REACTION_S), "do": "arms",
                       "position": "down"})
    elif phase == "paused":
        ev.append({"t": _r2(times["hold"] + PAUSE_PRESS_S), "do": "press", "button": "start"})
        t = _r2(times["hold"] + PAUSE_PRESS_S + PAUSE_INJECT_S)
    elif phase == "at boot":
        t_off = _r2(times["hold"] + BOOT_POWER_OFF_S)
        ev.append({"t": t_off, "do": "power_cycle", "off_s": BOOT_OFF_S})
        t = _r2(t_off + BOOT_INJECT_S)
        ev.append(fault_event(t, fault))
        return ev, t, _r2(t_off + BOOT_OFF_S)
    else:
        raise ValueError("unknown phase %r" % (phase,))
    ev.append(fault_event(t, fault))
    return ev, t, t


_BOARD_CACHE = {}


def _board(board):
    if board not in _BOARD_CACHE:
        _BOARD_CACHE[board] = load_board_checked(board)
    return _BOARD_CACHE[board]


def has_position_sensor(board):
    return _board(board).get("position_sensor") is not None


def applicable(board, fault):
    """(True, "") if the plant models this fault on this board, else (False, why)."""
    if fault == "link_noise":
        return True, ""          # the host link's, on every board
    plant = Plant(_board(board), PERSON, seed=0)
    if plant.inject_fault(fault, **FAULT_PARAMS[fault]):
        return True, ""
    if fault.startswith("actuator_"):
        return False, "no actuator: the person's arms move this table, its brake governs it"
    if fault == "position_sensor_open":
        return False, "no position sensor on this board"
    return False, "not modelled on this board"


def r10_applies(board, fault, phase):
    """True where SPEC R10's 0.3 s applies: the fault shows in what the
    firmware reads from the moment it starts."""
    if phase == "at boot":
        # braked and driveless until the self-check is done: nothing to act on
        return False
    if fault in IMU_FAULTS or fault in ("position_sensor_open", "actuator_runaway"):
        return True
    if fault == "imu_bias":
        # a steady offset is plausible data: it shows only against a second sensor
        return has_position_sensor(board)
    if fault in ("actuator_stall", "pinch"):
        # current and speed show it only while the actuator is driven
        return SESSIONS[board]["arms"] is False and phase in ("rising", "returning")
    if fault == "brake_slip":
        # only a brake that holds the table can slip; the self-locking
        # actuator holds the other board whatever its brake does
        return SESSIONS[board]["arms"] is True and phase in ("holding", "paused")
    return False     # link_noise: R6's heartbeat timeout, not a fault code


# --- reading a trace ------------------------------------------------------------------

def first_detection(rows, k_watch, phase):
    """(row, what) of the first tick from k_watch on where the firmware showed
    it saw something: a fault code, an emergency trigger, a halt or an
    emergency return (at boot, the slow return every inverted boot makes and
    its trigger do not count)."""
    for r in rows:
        if r[R_TICK] < k_watch:
            continue
        if r[R_FAULT]:
            return r, r[R_FAULT]
        if r[R_TRIGGER] and not (phase == "at boot" and r[R_FW_EVENT] == "boot_inverted"):
            return r, r[R_FW_EVENT] or "trigger"
        if r[R_STATE] == "halted":
            return r, "halted"
        if r[R_STATE] == "emergency_return" and phase != "at boot":
            return r, "emergency_return"
    return None, ""


def _cue_row(rows, k_watch):
    """What first makes the person on a brake table lower their arms, from
    k_watch on: a cue from the firmware (a return, a halt, a fault code or an
    emergency trigger), or the table turning on its own with the brake
    engaged for FELT_S."""
    felt_ticks = _tick(FELT_S)
    felt = 0
    for r in rows:
        if r[R_TICK] < k_watch:
            continue
        if (r[R_FAULT] or r[R_TRIGGER]
                or r[R_STATE] in ("returning", "emergency_return", "halted")):
            return r
        if r[R_BRAKE_ACTUAL] and abs(r[R_TRUE_RATE]) > FELT_RATE_DEG_S:
            felt += 1
            if felt >= felt_ticks:
                return r
        else:
            felt = 0
    return None


def _report_row(rows, k_watch):
    """The first tick from k_watch with a fault code."""
    for r in rows:
        if r[R_TICK] >= k_watch and r[R_FAULT]:
            return r
    return None


def _has(events, do, key, value):
    return any(e["do"] == do and e.get(key) == value for e in events)


def reactions(board, fault, rows, events, t_inject, k_watch, finished):
    """Events the person (and whoever clears an obstruction) adds in answer to
    what the trace shows. finished: the run went to its end, so "never
    happened" is known."""
    out = []
    end_s = rows[-1][R_TICK] * TICK_S if rows else 0.0
    if SESSIONS[board]["arms"] and not _has(events, "arms", "position", "down"):
        cue = _cue_row(rows, k_watch)
        if cue is not None:
            out.append({"t": _r2(cue[R_TICK] * TICK_S + ARMS_REACTION_S), "do": "arms",
                        "position": "down"})
    if fault == "pinch" and not _has(events, "clear", "kind", "pinch"):
        rep = _report_row(rows, k_watch)
        if rep is not None:
            t = _r2(rep[R_TICK] * TICK_S + PINCH_CLEAR_AFTER_REPORT_S)
        elif finished:
            t = _r2(t_inject + PINCH_CLEAR_UNREPORTED_S)
        else:
            t = None
        if t is not None and t < end_s:
            out.append({"t": t, "do": "clear", "kind": "pinch"})
    return out


def describe_action(rows, k_watch):
    """What the firmware did from k_watch on: its states in order, in words."""
    steps = []
    retries = 0
    prev_state = None
    for r in rows:
        st = r[R_STATE]
        if r[R_TICK] < k_watch:
            prev_state = st
            continue
        if st != prev_state:
            if st == "emergency_return":
                if r[R_FW_EVENT] == "boot_inverted":
                    steps.append("slow return")
                elif steps and steps[-1] == "halt braked":
                    steps.append("slow return after acknowledge")
                else:
                    steps.append("emergency return")
            elif st == "halted":
                steps.append("halt braked")
            elif st == "returning":
                steps.append("normal return")
            elif st == "boot":
                steps.append("boot self-check")
        prev_state = st
        if r[R_FW_EVENT] == "stall":
            # each stop for a stall or pinch, then a slow retry
            retries += 1
            if retries > 1 and steps and steps[-1].startswith("stop and slow retry"):
                steps.pop()
            steps.append("stop and slow retry x%d" % retries)
    out = []
    for s in steps:
        if not out or out[-1] != s:
            out.append(s)
    return ", ".join(out) if out else "none (program went on)"


def judge(rows, s, board, fault, phase, t_inject, t_watch):
    """The result dict of one run from its trace and summary."""
    home = s["home_deg"]
    k_watch = _tick(t_watch)
    det_row, what = first_detection(rows, k_watch, phase)
    last = rows[-1]
    crashes = [x for x in s["resets"] if x["cause"].startswith("firmware_exception")]
    home_row = None
    for r in rows:
        if (r[R_TICK] >= k_watch and r[R_BRAKE_ACTUAL] and r[R_STATE] in AT_REST_STATES
                and abs(r[R_THETA] - home) < HOME_TOLERANCE_DEG):
            home_row = r
            break
    k_end = last[R_TICK]
    max_rate = max(abs(r[R_TRUE_RATE]) for r in rows
                   if r[R_TICK] > k_end - _tick(REST_WINDOW_S))
    final_code = last[R_FAULT]
    why_not = []
    if s["max_over_cap_deg"] > CAP_TOLERANCE_DEG:
        why_not.append("%.2f deg past the cap" % s["max_over_cap_deg"])
    if crashes:
        why_not.append("the firmware raised %s" % crashes[0]["cause"].split(":")[-1])
    st = last[R_STATE]
    if st == "idle":
        if not last[R_BRAKE_ACTUAL]:
            why_not.append("idle with the brake released")
        if abs(last[R_THETA] - home) >= HOME_TOLERANCE_DEG and last[R_THETA] > 0.0:
            # short of home head-up is at rest (the person can get off);
            # idle while inverted is not
            why_not.append("idle inverted, %.1f deg from home" % (last[R_THETA] - home))
    elif st == "halted":
        if not last[R_BRAKE_ACTUAL]:
            why_not.append("halted with the brake released")
        if not (final_code in STAY_BRAKED_CODES
                or (final_code in ANGLE_SENSOR_CODES and not has_position_sensor(board))):
            why_not.append("halted with %s, from which the SPEC returns home"
                           % (final_code or "no fault code"))
    else:
        why_not.append("ends in %s with the brake %s" % (
            st, "engaged" if last[R_BRAKE_ACTUAL] else "released"))
    if max_rate > REST_RATE_DEG_S:
        why_not.append("still turning at %.2f deg/s" % max_rate)
    detect_s = None if det_row is None else round((det_row[R_TICK] - k_watch) * TICK_S, 2)
    r10 = r10_applies(board, fault, phase)
    return {
        "board": board, "fault": fault, "phase": phase, "applicable": True,
        "t_inject_s": t_inject, "t_watch_s": t_watch,
        "detected": det_row is not None, "detect_s": detect_s, "detected_as": what,
        "r10_applies": r10,
        "r10_ok": (None if not r10 else
                   detect_s is not None and detect_s <= DETECT_LIMIT_S + DETECT_SLACK_S),
        "action": describe_action(rows, k_watch),
        "max_over_cap_deg": s["max_over_cap_deg"],
        "home_s": None if home_row is None else round((home_row[R_TICK] - k_watch) * TICK_S, 2),
        "final_state": st, "final_brake": bool(last[R_BRAKE_ACTUAL]),
        "final_theta_deg": round(last[R_THETA], 1), "final_fault": final_code,
        "end_s": round(k_end * TICK_S, 2),
        "safe": not why_not, "why_not_safe": "; ".join(why_not),
    }


# --- running ------------------------------------------------------------------------

def simulate(sc, stop_when=None, t_min_s=0.0):
    """Run a scenario; stop early, from t_min_s on, once stop_when(rows) says
    so (it is asked once per CHECK_S of virtual time). (rows, summary)."""
    runner = Runner(sc)
    n = int(round(sc.duration_s * 1000.0 / runner.tick_ms))
    step = int(round(CHECK_S * 1000.0 / runner.tick_ms))
    k_min = _tick(t_min_s)
    try:
        runner.open()
        k = 0
        while k < n:
            k = min(n, k + step)
            runner.advance(k)
            if stop_when is not None and k >= k_min and stop_when(runner.rows):
                break
    finally:
        runner.close()
    return runner.rows, runner.summary()


def settled(rows):
    """At rest for the last SETTLE_S: idle or halted, brake engaged, still."""
    if not rows:
        return False
    k_from = rows[-1][R_TICK] - _tick(SETTLE_S)
    if rows[0][R_TICK] > k_from:
        return False
    for r in reversed(rows):
        if r[R_TICK] < k_from:
            return True
        if (r[R_STATE] not in AT_REST_STATES or not r[R_BRAKE_ACTUAL]
                or abs(r[R_TRUE_RATE]) > REST_RATE_DEG_S):
            return False
    return True


def campaign_jobs(boards=None, faults=None, phases=None):
    """[(board, fault, phase)] in the document's order."""
    out = []
    for board, _ in BOARDS:
        if boards is not None and board not in boards:
            continue
        for fault, _ in FAULTS:
            if faults is not None and fault not in faults:
                continue
            for phase in PHASES:
                if phases is None or phase in phases:
                    out.append((board, fault, phase))
    return out


def run_one(job, times):
    """One (board, fault, phase), with that board's phase anchors: its result dict."""
    board, fault, phase = job
    ok, why = applicable(board, fault)
    if not ok:
        return {"board": board, "fault": fault, "phase": phase, "applicable": False,
                "why_not_applicable": why}
    events, t_inject, t_watch = phase_plan(board, fault, phase, times)
    name = "campaign-%s-%s-%s" % (board, fault, phase.replace(" ", "-"))
    duration = _r2(t_inject + TAIL_S)
    k_watch = _tick(t_watch)
    # Reactions in force, in time order. Each was found on a trace that had
    # every earlier one; a new one earlier than some of them changes what
    # follows it, so those are dropped and found again.
    added = []
    n_runs = 0
    while True:
        now = sorted(events + added, key=lambda e: e["t"])
        sc = parse_scenario(scenario_dict(board, name, duration, now))
        got = []
        seen = [0]

        def stop(rs):
            if settled(rs):
                return True
            # A reaction found: the rest of this run would change anyway.
            # Only the rows since the last look (and enough before them for
            # a felt motion) need reading.
            recent = rs[max(0, seen[0] - _tick(FELT_S)):]
            seen[0] = len(rs)
            got[:] = reactions(board, fault, recent, now, t_inject, k_watch, False)
            return bool(got)

        rows, summary = simulate(sc, stop, t_watch)
        n_runs += 1
        new = got or reactions(board, fault, rows, now, t_inject, k_watch, True)
        if not new or n_runs >= MAX_RUNS:
            break
        first = min(new, key=lambda e: e["t"])
        added = [e for e in added if e["t"] <= first["t"]] + [first]
    out = judge(rows, summary, board, fault, phase, t_inject, t_watch)
    out["reactions"] = [_event_text(e) for e in added]
    out["runs"] = n_runs
    return out


def _event_text(e):
    if e["do"] == "arms":
        return "arms %s at %.2f s" % (e["position"], e["t"])
    return "%s %s at %.2f s" % (e["do"], e.get("kind", ""), e["t"])


def _run_indexed(args):
    i, job, times = args
    return i, run_one(job, times)


def _cost(job):
    """Rough relative run time: the long jobs are handed out first, so the
    workers finish together."""
    _, fault, phase = job
    return (3 if fault == "pinch" else 1) + (1 if phase == "paused" else 0)


def run_campaign(jobs, n_jobs=DEFAULT_JOBS):
    """(times, results): each board's phase anchors, and the results of jobs
    in the same order."""
    boards = [b for b, _ in BOARDS if any(j[0] == b for j in jobs)]
    if n_jobs <= 1:
        times = {b: dry_run_times(b) for b in boards}
        return times, [run_one(j, times[j[0]]) for j in jobs]
    results = [None] * len(jobs)
    with multiprocessing.Pool(n_jobs) as pool:
        times = dict(zip(boards, pool.map(dry_run_times, boards)))
        order = sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i]))
        work = [(i, jobs[i], times[jobs[i][0]]) for i in order]
        for i, res in pool.imap_unordered(_run_indexed, work):
            results[i] = res
    return times, results


# --- the document ---------------------------------------------------------------------

COLUMNS = ("board", "fault", "phase", "detected", "detect s", "R10 0.3 s", "action",
           "max over cap deg", "home", "final", "safe")


def _cell(text):
    return str(text).replace("|", "\\|")


def render_row(r):
    """One result as a line of the document's table."""
    if not r["applicable"]:
        cells = (r["board"], r["fault"], r["phase"], "n/a", "-", "-",
                 "not applicable: " + r["why_not_applicable"], "-", "-", "-", "n/a")
    else:
        detected = "yes (%s)" % r["detected_as"] if r["detected"] else "no"
        detect_s = "-" if r["detect_s"] is None else "%.2f" % r["detect_s"]
        r10 = "-" if r["r10_ok"] is None else ("yes" if r["r10_ok"] else "**no**")
        home = "no" if r["home_s"] is None else "yes, %.1f s" % r["home_s"]
        final = "%s, brake %s, %.1f deg" % (r["final_state"],
                                             "on" if r["final_brake"] else "off",
                                             r["final_theta_deg"])
        if r["final_fault"]:
            final += ", " + r["final_fault"]
        safe = "yes" if r["safe"] else "**no**: " + r["why_not_safe"]
        over = round(r["max_over_cap_deg"], 2) or 0.0      # no "-0.00"
        cells = (r["board"], r["fault"], r["phase"], detected, detect_s, r10, r["action"],
                 "%+.2f" % over, home, final, safe)
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def counts(results):
    app = [r for r in results if r["applicable"]]
    req = [r for r in app if r["r10_applies"]]
    return {"rows": len(results), "applicable": len(app),
            "detected": sum(1 for r in app if r["detected"]),
            "safe": sum(1 for r in app if r["safe"]),
            "r10_rows": len(req), "r10_ok": sum(1 for r in req if r["r10_ok"])}


def summary_line(c):
    """The summary sentence of counts() c."""
    return ("%d rows, %d applicable; %d detected, %d end safe; %d of the %d rows where "
            "R10's 0.3 s applies detected within it."
            % (c["rows"], c["applicable"], c["detected"], c["safe"], c["r10_ok"],
               c["r10_rows"]))


def render_header(times):
    """The document down to the summary (it does not depend on the results)."""
    L = []
    a = L.append
    a("# Fault campaign")
    a("")
    a("Every fault kind of the simulator contract, injected at every phase of a session, "
      "on both boards, against the real firmware in the simulator. Generated; do not edit. "
      "To regenerate (about two minutes of CPU, shared among `--jobs` processes, 2 by "
      "default):")
    a("")
    a("    make campaign")
    a("    # or: .venv/bin/python -m simulator.campaign --out docs/fault-campaign.md --jobs 2")
    a("")
    a("## How each run is built")
    a("")
    for board, s in BOARDS:
        p = s["profile"]
        t = times[board]
        a("- `%s`: seed %d, person %d kg / %d cm, profile level %d (preferred angle %d deg), "
          "program `%s` armed at %.1f s and started with START at %.1f s%s; heartbeats "
          "from the host every %.2f s. Fault-free, it holds at %.1f deg from %.2f s; its "
          "final climb passes half that at %.2f s; the normal return starts at %.2f s."
          % (board, s["seed"], PERSON["mass_kg"], PERSON["height_cm"], p["level"],
             p["preferred_angle"], s["program"], PROGRAM_T_S, START_T_S,
             ", arms up at %.1f s" % ARMS_UP_T_S if s["arms"] else "",
             HEARTBEAT_PERIOD_S, t["peak_deg"], t["hold"], t["rise"], t["return"]))
    a("- Phases, when the fault starts: `rising` as the final climb passes half the hold "
      "angle; `holding` %.0f s into the hold; `returning` %.0f s after the normal return "
      "began (still inverted); `paused` %.0f s after START paused the hold (pressed %.0f s "
      "into it); `at boot` the power fails %.0f s into the hold for %.0f s and the fault "
      "appears %.1f s into the off time, so the board boots inverted with it present."
      % (HOLD_INJECT_S, RETURN_INJECT_S, PAUSE_INJECT_S, PAUSE_PRESS_S, BOOT_POWER_OFF_S,
         BOOT_OFF_S, BOOT_INJECT_S))
    a("- Faults (parameters as in a scenario file); each stays to the end of the run "
      "except the pinch's obstruction:")
    for fault, params in FAULTS:
        ps = ", ".join("`%s` %s" % (k, v) for k, v in sorted(params.items()))
        a("  - `%s`%s: %s." % (fault, " (%s)" % ps if ps else "", FAULT_NOTES[fault]))
    a("- The pinch's obstruction is taken away %.0f s after the firmware reports a fault "
      "(its alarm brings someone), or %.0f s after it appeared if the firmware never "
      "reports one (someone sees the table stuck)."
      % (PINCH_CLEAR_AFTER_REPORT_S, PINCH_CLEAR_UNREPORTED_S))
    a("- On the brake table the person lowers their arms %.1f s after the firmware cues "
      "them (a normal or emergency return, a halt, a fault code) or after they feel the "
      "table turn on its own (faster than %.1f deg/s for %.1f s with the brake engaged). "
      "The run is repeated with these reactions until none changes."
      % (ARMS_REACTION_S, FELT_RATE_DEG_S, FELT_S))
    a("- A run lasts until the table has been at rest (idle or halted, brake engaged, "
      "slower than %.1f deg/s) for %.0f s, or %.0f s after the fault."
      % (REST_RATE_DEG_S, SETTLE_S, TAIL_S))
    a("")
    a("## Columns")
    a("")
    a("- **detected**: the firmware reported a fault code, flagged an emergency trigger, "
      "halted or began an emergency return after the fault appeared (what it showed "
      "first in brackets). At boot the slow return every inverted boot makes does not "
      "count.")
    a("- **detect s**: from the fault's start (at boot: from power-on) to that first tick.")
    a("- **R10 0.3 s**: whether it came within SPEC R10's 0.3 s (plus the %.2f s tick in "
      "which the fault appears), where that applies: from the fault's start, sensor "
      "faults, a runaway, a stall or pinch while the actuator is driven, a slipping brake "
      "that holds the brake table. `-` where it does not: at boot (braked and driveless "
      "until the self-check is done), a stall or pinch while nothing moves, a steady IMU "
      "offset on a board with no second angle sensor, a brake slip under a self-locking "
      "actuator, link noise (R6's heartbeat timeout)." % DETECT_SLACK_S)
    a("- **action**: the states the firmware went through after the fault, in order "
      "(a normal return is the program's own, at the end of its hold).")
    a("- **max over cap deg**: the largest true angle minus the cap in force over the "
      "whole run; negative means it stayed below.")
    a("- **home**: whether the table got home with the brake engaged, and how long after "
      "the fault (at boot: after power-on).")
    a("- **final**: state, brake, true angle and fault code in force on the last tick.")
    a("- **safe**: whether the run ends safe, as defined below; if not, why.")
    a("")
    a("## Ends safe")
    a("")
    a(SAFE_RULE)
    a("")
    return L


def render_doc(times, results):
    """The whole markdown document."""
    L = render_header(times)
    a = L.append
    a("## Summary")
    a("")
    a(summary_line(counts(results)))
    a("")
    unsafe = [r for r in results if r["applicable"] and not r["safe"]]
    if unsafe:
        a("Not safe:")
        a("")
        for r in unsafe:
            a("- `%s` %s on `%s`: %s." % (r["fault"], r["phase"], r["board"],
                                          r["why_not_safe"]))
            why = KNOWN_NOT_SAFE.get((r["board"], r["fault"], r["phase"]))
            if why:
                a("  Why: %s." % why)
        a("")
    a("## Results")
    a("")
    a("| " + " | ".join(COLUMNS) + " |")
    a("|" + "---|" * len(COLUMNS))
    for r in results:
        a(render_row(r))
    a("")
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m simulator.campaign",
                                 description="Run the fault campaign and write its report.")
    ap.add_argument("--out", default=DEFAULT_OUT, help="markdown file to write (%(default)s)")
    ap.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                    help="processes to run in parallel (%(default)s)")
    args = ap.parse_args(argv)
    t0 = time.time()
    jobs = campaign_jobs()
    times, results = run_campaign(jobs, max(1, args.jobs))
    text = render_doc(times, results)
    folder = os.path.dirname(args.out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    c = counts(results)
    print("fault campaign: %d rows (%d applicable, %d detected, %d safe) written to %s "
          "in %.1f s with %d jobs"
          % (c["rows"], c["applicable"], c["detected"], c["safe"], args.out,
             time.time() - t0, max(1, args.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
