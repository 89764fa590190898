"""The summary of a run (CONTRACT.md, "Summary file"), computed from the trace rows.

Usage::

    s = summarize(rows, board, tick_ms=10, name="stop-at-60", board_name="...",
                  duration_s=300, extra={...})

Fields (all angles in degrees, times in seconds, of the true bed angle unless
said otherwise):
- max_theta_deg;
- max_over_cap_deg: the largest (theta - cap in force) over the run. It is
  the true maximum, so negative when the table always stayed below its cap;
  SPEC R1 asks for <= 1.0;
- longest_hold_s {"0-30", "30-60", "60-90"}: the longest continuous time the
  angle stayed in one band ((0,30], (30,60], above 60). A hold's band only
  changes when the angle leaves it by more than HOLD_HYSTERESIS_DEG, so
  sensor noise at 30.0 does not cut a hold in two; theta <= 0 ends a hold;
- inverted_s: total time with theta > 0;
- final_state: the firmware state on the last tick;
- emergencies: one per tick the firmware flagged an emergency trigger:
  {trigger, t_s, theta_deg (at the trigger), response_s, home_s}; a trigger
  flagged on consecutive ticks under one name counts once (flagged_ticks).
  response_s: trigger to the first tick whose command turns toward home:
  the setpoint's acceleration changed toward home since the previous tick,
  or the setpoint moves toward home, or the setpoint is at home.
  home_s: trigger to the first tick in state idle/halted with the brake
  really engaged (plant) and theta within HOME_TOLERANCE_DEG of home; null if
  that never happens;
- max_setpoint_rate_deg_s, max_setpoint_accel_deg_s2 (absolute values);
- faults: [{code, t_s}] each distinct fault code the firmware reported, first time;
- events: scenario events applied; firmware_events: ticks with a firmware event;
- name, board, duration_s, ticks, and what the runner adds (resets, commands ...).

Ticks the firmware did not run (power off, a crashed firmware waiting for the
watchdog) have no rows; times are taken from the tick index, so a gap counts
as the time it lasted (the table is held by its brake meanwhile).
"""
from .trace import (R_TICK, R_THETA, R_SETPOINT, R_CAP, R_STATE, R_BRAKE_ACTUAL, R_FAULT,
                    R_FW_EVENT, R_RATE, R_ACCEL, R_TRIGGER)

BANDS = ("0-30", "30-60", "60-90")
BAND_EDGES_DEG = (30.0, 60.0)
HOLD_HYSTERESIS_DEG = 1.0
HOME_TOLERANCE_DEG = 1.0
# A setpoint this close to home counts as "at home" for the response time.
SETPOINT_AT_HOME_DEG = 0.5
AT_REST_STATES = ("idle", "halted")
MAX_EMERGENCIES = 1000

# SPEC R5: the emergency return's limits above horizontal, and its slack.
EMERGENCY_RATE_DEG_S = 10.0
EMERGENCY_ACCEL_DEG_S2 = 10.0
NORMAL_ACCEL_DEG_S2 = 5.0
EMERGENCY_EXTRA_S = 2.0


def _band(theta):
    if theta <= BAND_EDGES_DEG[0]:
        return 0
    if theta <= BAND_EDGES_DEG[1]:
        return 1
    return 2


def _band_bounds(band):
    lo = 0.0 if band == 0 else BAND_EDGES_DEG[band - 1]
    hi = BAND_EDGES_DEG[band] if band < 2 else float("inf")
    return lo, hi


def longest_holds(rows, tick_s):
    """Longest continuous hold per band, seconds (see module doc)."""
    best = [0.0, 0.0, 0.0]
    band = -1
    start = 0
    lo = hi = 0.0
    last = 0
    for r in rows:
        th = r[1]
        k = r[0]
        if th <= 0.0:
            if band >= 0:
                d = last - start
                if d > best[band]:
                    best[band] = d
            band = -1
            continue
        if band >= 0 and (th > hi + HOLD_HYSTERESIS_DEG or th < lo - HOLD_HYSTERESIS_DEG):
            d = last - start
            if d > best[band]:
                best[band] = d
            band = -1
        if band < 0:
            band = _band(th)
            lo, hi = _band_bounds(band)
            start = k
        last = k
    if band >= 0:
        d = last - start
        if d > best[band]:
            best[band] = d
    return {name: round(b * tick_s, 3) for name, b in zip(BANDS, best)}


def inverted_s(rows, tick_s):
    """Time with theta > 0: each row counts from the previous row's tick."""
    total = 0
    prev = None
    for r in rows:
        k = r[0]
        if r[1] > 0.0:
            total += 1 if prev is None else k - prev
        prev = k
    return round(total * tick_s, 3)


def _response_tick(rows, i, home_mdeg, toward):
    """Index of the first row from i whose command turns toward home, or None."""
    prev_acc = rows[i - 1][R_ACCEL] if i > 0 else 0
    at_home = SETPOINT_AT_HOME_DEG * 1000
    for j in range(i, len(rows)):
        r = rows[j]
        acc = r[R_ACCEL]
        if ((acc - prev_acc) * toward > 0 or r[R_RATE] * toward > 0
                or abs(r[R_SETPOINT] - home_mdeg) <= at_home):
            return j
        prev_acc = acc
    return None


def _next_home(rows, home_deg):
    """nxt[i] = index of the first row >= i at home with the brake on, else None."""
    nxt = [None] * len(rows)
    found = None
    tol = HOME_TOLERANCE_DEG
    for i in range(len(rows) - 1, -1, -1):
        r = rows[i]
        if r[R_BRAKE_ACTUAL] and r[R_STATE] in AT_REST_STATES and abs(r[R_THETA] - home_deg) < tol:
            found = i
        nxt[i] = found
    return nxt


def _trigger_rows(rows):
    """[(index, ticks)]: rows where a trigger was flagged; a trigger the firmware
    keeps flagging on consecutive ticks under the same name counts once, with
    the number of ticks it was flagged."""
    out = []
    prev_i = -2
    prev_name = None
    for i, r in enumerate(rows):
        if not r[R_TRIGGER]:
            continue
        name = r[R_FW_EVENT]
        if i == prev_i + 1 and name == prev_name and out:
            out[-1][1] += 1
        else:
            out.append([i, 1])
        prev_i = i
        prev_name = name
    return out


def emergencies(rows, home_deg, tick_s):
    triggers = _trigger_rows(rows)[:MAX_EMERGENCIES]
    if not triggers:
        return []
    nxt = _next_home(rows, home_deg)
    home_mdeg = int(round(home_deg * 1000))
    out = []
    for i, flagged in triggers:
        r = rows[i]
        toward = -1 if r[R_THETA] >= home_deg else 1
        j = _response_tick(rows, i, home_mdeg, toward)
        h = nxt[i]
        k = r[R_TICK]
        out.append({
            "trigger": r[R_FW_EVENT] or "unknown",
            "t_s": round(k * tick_s, 3),
            "theta_deg": round(r[R_THETA], 3),
            "response_s": None if j is None else round((rows[j][R_TICK] - k) * tick_s, 3),
            "home_s": None if h is None else round((rows[h][R_TICK] - k) * tick_s, 3),
        })
        if flagged > 1:
            out[-1]["flagged_ticks"] = flagged
    return out


def _leg_s(dist, v0, v1_max, vmax, accel):
    """Time to cover dist starting at v0, at most vmax and accel, ending at a
    speed no higher than v1_max (as high as possible); (time, end speed)."""
    v1 = min(v1_max, vmax, (v0 * v0 + 2.0 * accel * dist) ** 0.5)
    # peak speed of the accelerate / cruise / decelerate profile
    vp = min(vmax, ((2.0 * accel * dist + v0 * v0 + v1 * v1) / 2.0) ** 0.5)
    vp = max(vp, v0, v1)
    ramps = (vp * vp - v0 * v0) / (2.0 * accel) + (vp * vp - v1 * v1) / (2.0 * accel)
    cruise = (dist - ramps) / vp if vp > 0.0 and dist > ramps else 0.0
    return (vp - v0) / accel + (vp - v1) / accel + cruise, v1


def ideal_return_s(from_deg, home_deg, normal_rate_deg_s):
    """Time the ideal rate/acceleration-limited emergency return needs (SPEC R5,
    no jerk limit): up to 10 deg/s and 10 deg/s^2 while theta > 0, slowing to
    the normal rate by horizontal, then at the normal rate and acceleration to
    a stop at home. The firmware must do it within this plus EMERGENCY_EXTRA_S."""
    if from_deg <= home_deg:
        return 0.0
    vn = float(normal_rate_deg_s)
    t = 0.0
    v = 0.0
    if from_deg > 0.0:
        t, v = _leg_s(float(from_deg), 0.0, vn, EMERGENCY_RATE_DEG_S, EMERGENCY_ACCEL_DEG_S2)
    below = min(float(from_deg), 0.0) - home_deg
    t_b, _ = _leg_s(below, v, 0.0, vn, NORMAL_ACCEL_DEG_S2)
    return round(t + t_b, 3)


def summarize(rows, board, tick_ms, name="", board_name="", duration_s=0.0, extra=None,
              gap=None):
    """The summary dict. gap: {"max_theta_deg", "max_over_cap_deg"} over the
    stretches with no rows (the runner tracks them), merged into the maxima."""
    tick_s = tick_ms / 1000.0
    home_deg = float(board["home_deg"])
    s = {"name": name, "board": board_name, "duration_s": duration_s, "ticks": len(rows)}
    if not rows:
        s.update({"max_theta_deg": None, "max_over_cap_deg": None,
                  "longest_hold_s": {b: 0.0 for b in BANDS}, "inverted_s": 0.0,
                  "final_state": None, "emergencies": [], "max_setpoint_rate_deg_s": 0.0,
                  "max_setpoint_accel_deg_s2": 0.0, "faults": [], "firmware_events": 0})
    else:
        max_theta = max(r[R_THETA] for r in rows)
        max_over = max(r[R_THETA] - r[R_CAP] * 0.001 for r in rows)
        max_rate = max(abs(r[R_RATE]) for r in rows) * 0.001
        max_acc = max(abs(r[R_ACCEL]) for r in rows) * 0.001
        faults = []
        seen = set()
        fw_events = 0
        for r in rows:
            f = r[R_FAULT]
            if f and f not in seen:
                seen.add(f)
                faults.append({"code": f, "t_s": round(r[R_TICK] * tick_s, 3)})
            if r[R_FW_EVENT]:
                fw_events += 1
        s.update({
            "max_theta_deg": round(max_theta, 3),
            "max_over_cap_deg": round(max_over, 3),
            "longest_hold_s": longest_holds(rows, tick_s),
            "inverted_s": inverted_s(rows, tick_s),
            "final_state": rows[-1][R_STATE],
            "final_theta_deg": round(rows[-1][R_THETA], 3),
            "emergencies": emergencies(rows, home_deg, tick_s),
            "max_setpoint_rate_deg_s": round(max_rate, 3),
            "max_setpoint_accel_deg_s2": round(max_acc, 3),
            "faults": faults,
            "firmware_events": fw_events,
        })
    if gap and rows:
        for key in ("max_theta_deg", "max_over_cap_deg"):
            if gap.get(key) is not None:
                s[key] = round(max(s[key], gap[key]), 3)
    if extra:
        s.update(extra)
    return s
