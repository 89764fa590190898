"""Trace rows (one per control tick) and the CSV file of CONTRACT.md.

The runner keeps each tick as one tuple of raw values (firmware integers in
millidegrees and per-mille, plant floats), in the order of the R_* indices
below, and formats them all at the end: a 30-minute scenario is 180,000
rows, so nothing is converted or formatted while it runs.

CSV columns: the contract's (t_s, theta_deg, theta_est_deg, setpoint_deg,
cap_deg, state, actuator_duty, brake, heartbeat_ok, fault, event) and:
- trigger: the emergency trigger the firmware detected this tick, else empty;
- setpoint_rate_deg_s, setpoint_accel_deg_s2: the commanded motion;
- theta_rate_deg_s: the true angular rate (plant);
- current_a: the actuator's true current (plant; 0 on brake boards);
- arms: 1 while the person's arms are up (target position);
- brake_actual: 1 while the brake armature is really engaged (plant; `brake`
  is the firmware's command, the armature follows after engage_ms).
`brake` and `heartbeat_ok` are 1/0. `event` joins, with "; ", the scenario
events applied before the tick and the firmware's own event of the tick.
"""

R_TICK = 0          # tick index: t = tick * tick_ms
R_THETA = 1         # true angle, deg (float)
R_EST = 2           # firmware estimate, mdeg
R_SETPOINT = 3      # mdeg
R_CAP = 4           # mdeg
R_STATE = 5         # str
R_DUTY = 6          # per mille, signed
R_BRAKE = 7         # bool, firmware command
R_HB_OK = 8         # bool
R_FAULT = 9         # str
R_SC_EVENT = 10     # str: scenario events applied this tick
R_FW_EVENT = 11     # str: the firmware's event this tick
R_RATE = 12         # setpoint rate, mdeg/s
R_ACCEL = 13        # setpoint acceleration, mdeg/s^2
R_TRUE_RATE = 14    # true rate, deg/s (float)
R_CURRENT = 15      # true current, mA (float)
R_ARMS = 16         # arms target, 0.0 or 1.0
R_BRAKE_ACTUAL = 17  # bool
R_TRIGGER = 18      # bool: an emergency trigger was detected this tick
ROW_FIELDS = 19

COLUMNS = ("t_s", "theta_deg", "theta_est_deg", "setpoint_deg", "cap_deg", "state",
           "actuator_duty", "brake", "heartbeat_ok", "fault", "event", "trigger",
           "setpoint_rate_deg_s", "setpoint_accel_deg_s2", "theta_rate_deg_s",
           "current_a", "arms", "brake_actual")


def make_row(tick, theta_deg=0.0, est_mdeg=0, setpoint_mdeg=0, cap_mdeg=60000, state="idle",
             duty_permille=0, brake=True, heartbeat_ok=True, fault="", scenario_event="",
             fw_event="", rate_mdeg_s=0, accel_mdeg_s2=0, true_rate_deg_s=0.0,
             current_ma=0.0, arms=0.0, brake_actual=True, trigger=False):
    """One row tuple by name (tests and tools; the runner builds tuples directly)."""
    return (tick, theta_deg, est_mdeg, setpoint_mdeg, cap_mdeg, state, duty_permille, brake,
            heartbeat_ok, fault, scenario_event, fw_event, rate_mdeg_s, accel_mdeg_s2,
            true_rate_deg_s, current_ma, arms, brake_actual, trigger)


def row_event(row):
    """The `event` column of a row: scenario events, then the firmware's."""
    sc = row[R_SC_EVENT]
    fw = row[R_FW_EVENT]
    if sc and fw:
        return sc + "; " + fw
    return sc or fw


class _Quoted(dict):
    """str -> its CSV field, memoised (states, faults and events repeat)."""

    def __missing__(self, s):
        if any(c in s for c in ',"\r\n'):
            out = '"' + s.replace('"', '""') + '"'
        else:
            out = s
        self[s] = out
        return out


def _time_labels(rows, tick_ms):
    # t = tick * tick_ms exactly; formatted from integers so no float noise.
    if tick_ms % 10 == 0:
        step = tick_ms // 10
        return ["%d.%02d" % divmod(r[0] * step, 100) for r in rows]
    return ["%d.%03d" % divmod(r[0] * tick_ms, 1000) for r in rows]


class _Milli(dict):
    """int in thousandths -> "%.3f" text, memoised (most values repeat)."""

    def __missing__(self, x):
        out = "%.3f" % (x * 0.001)
        self[x] = out
        return out


class _Float(dict):
    """float -> "%.3f" text, memoised (a table at rest repeats its angle)."""

    def __missing__(self, x):
        out = "%.3f" % x
        self[x] = out
        return out


_BIT = ("0", "1")


def format_csv(rows, tick_ms):
    """The whole CSV text of rows (header first)."""
    q = _Quoted()
    q[""] = ""
    m = _Milli()
    f = _Float()
    b = _BIT
    times = _time_labels(rows, tick_ms)
    out = [",".join(COLUMNS) + "\n"]
    append = out.append
    fmt = "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n"
    for t, r in zip(times, rows):
        sc = r[10]
        fw = r[11]
        if sc:
            ev = q[sc + "; " + fw] if fw else q[sc]
        else:
            ev = q[fw]
        append(fmt % (t, f[r[1]], m[r[2]], m[r[3]], m[r[4]], q[r[5]], m[r[6]], b[r[7]],
                      b[r[8]], q[r[9]], ev, q[fw] if r[18] else "", m[r[12]], m[r[13]],
                      f[r[14]], m[int(r[15])], b[r[16] > 0.5], b[r[17]]))
    return "".join(out)


def write_trace(path, rows, tick_ms):
    with open(path, "w", newline="") as f:
        f.write(format_csv(rows, tick_ms))
