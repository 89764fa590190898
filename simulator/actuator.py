"""Linear actuator between the frame and the bed: geometry, motor, sensors.

Geometry. The frame anchor is a = pivot_to_frame_anchor_mm from the pivot,
the bed anchor b = pivot_to_bed_anchor_mm from it along the bed. The bed
anchor turns with the bed, so the angle between the two anchors seen from
the pivot is

    phi = anchor_angle_offset_deg + theta

(extending the actuator turns the table head-down). The actuator length is
L = sqrt(a^2 + b^2 - 2ab cos phi) and its stroke x = L - retracted_mm. L
rises monotonically with phi on (0, 180) deg, so the geometry is valid
when phi stays inside (0, 180) over [mech_min_deg, mech_max_deg] and x
inside [0, stroke_mm]. The lever arm dL/dtheta = a b sin(phi) / L (mm/rad)
turns actuator speed into angular rate and actuator force into torque.

The shipped board numbers (a=560, b=330, offset 80) fail that check: over
the 164 deg of travel L would run from 238 to 888 mm, a 650 mm swing for
a 300 mm stroke (x from -212 to +438), and the no-load rate mid-range would
be 3.2 deg/s rather than the board's 12 deg/s. When the board geometry
fails, Geometry keeps a and the offset (re-centring the offset only if phi
leaves (0, 180)) and derives b from rate_deg_s_full_duty at the middle of
the range: b = 77 mm for the shipped numbers (12.0 deg/s at theta=+10,
stroke 33.9 .. 186.3 mm). `Geometry.derived` and `.note` say so.

Motor (DC, through the H-bridge, electrical time constant neglected):
speed follows the torque-speed line v = v0 (duty - F/F_max), F the load
force against the motion; F beyond duty x F_max stalls it. The lead screw
is self-locking: the load never back-drives it, and with zero drive the
bed is held (an overhauling load does not speed it up either). Speed
follows its target with a first-order mechanical time constant
(mech_time_constant_s, default 0.05 s). The bed angle is kinematic: it is
the angle the stroke sets.

Current: no-load current while driven, plus (stall - no-load) x F/F_max;
a stalled motor draws |duty| x stall current. Defaults (actuator keys):
no_load_current_ma 800, stall_current_ma 10000.

Position sensor: a potentiometer on the stroke, linear in x, mounted so
that x at mech_min_deg reads the board's first cal raw and x at
mech_max_deg its last (the board's "cal" endpoints). The angle is not
linear in x, so a two-point table is wrong in between;
calibration_table(board) gives the multi-point table that maps raw to
angle within 0.05 deg for the geometry in use.
"""
import math

from .physics import DEG, RAD

DEFAULT_TAU_MECH_S = 0.05
DEFAULT_NO_LOAD_MA = 800.0
DEFAULT_STALL_MA = 10000.0
ADC_MAX = 4095


def _get(cfg, key, default):
    v = cfg.get(key)
    return default if v is None else v


def _length(a, b, phi_deg):
    return math.sqrt(a * a + b * b - 2.0 * a * b * math.cos(phi_deg * DEG))


def _lever(a, b, phi_deg):
    return a * b * math.sin(phi_deg * DEG) / _length(a, b, phi_deg)


def check_geometry(a, b, offset_deg, retracted_mm, stroke_mm, lo_deg, hi_deg):
    """None if valid over [lo_deg, hi_deg], else the reason."""
    if a <= 0 or b <= 0:
        return "anchor distances must be positive"
    if offset_deg + lo_deg <= 0.0 or offset_deg + hi_deg >= 180.0:
        return ("anchor angle %.1f .. %.1f deg leaves (0, 180): stroke not monotonic"
                % (offset_deg + lo_deg, offset_deg + hi_deg))
    x_lo = _length(a, b, offset_deg + lo_deg) - retracted_mm
    x_hi = _length(a, b, offset_deg + hi_deg) - retracted_mm
    if x_lo < 0.0 or x_hi > stroke_mm:
        return ("stroke %.1f .. %.1f mm leaves [0, %s]" % (x_lo, x_hi, stroke_mm))
    return None


class Geometry:
    def __init__(self, board):
        act = board["actuator"]
        lo = float(board["mech_min_deg"])
        hi = float(board["mech_max_deg"])
        self.lo_deg = lo
        self.hi_deg = hi
        a = float(act["pivot_to_frame_anchor_mm"])
        b = float(act["pivot_to_bed_anchor_mm"])
        off = float(act["anchor_angle_offset_deg"])
        self.retracted = float(act["retracted_mm"])
        self.stroke_max = float(act["stroke_mm"])
        why = check_geometry(a, b, off, self.retracted, self.stroke_max, lo, hi)
        self.derived = why is not None
        self.note = ""
        if why is not None:
            if off + lo <= 0.0 or off + hi >= 180.0:
                off = 90.0 - (lo + hi) / 2.0
            rate = float(_get(act, "rate_deg_s_full_duty", 12.0)) * DEG
            lever = float(act["no_load_speed_mm_s"]) / rate
            phi_mid = off + (lo + hi) / 2.0
            b_lo = 1.0
            b_hi = a * 0.95
            for _ in range(60):
                mid = (b_lo + b_hi) / 2.0
                if _lever(a, mid, phi_mid) < lever:
                    b_lo = mid
                else:
                    b_hi = mid
            b = float(int(b_lo + 0.5))
            why2 = check_geometry(a, b, off, self.retracted, self.stroke_max, lo, hi)
            if why2 is not None:
                raise ValueError("actuator geometry: %s; derived b=%d mm also fails: %s"
                                 % (why, b, why2))
            self.note = ("board geometry invalid (%s); using pivot_to_bed_anchor_mm=%d, "
                         "anchor_angle_offset_deg=%g" % (why, b, off))
        self.a = a
        self.b = b
        self.offset_deg = off
        self._ab2 = 2.0 * a * b
        self._a2b2 = a * a + b * b
        self.x_lo = self.stroke_of(lo)
        self.x_hi = self.stroke_of(hi)

    def stroke_of(self, theta_deg):
        return _length(self.a, self.b, self.offset_deg + theta_deg) - self.retracted

    def theta_of(self, x_mm):
        L = x_mm + self.retracted
        c = (self._a2b2 - L * L) / self._ab2
        if c > 1.0:
            c = 1.0
        elif c < -1.0:
            c = -1.0
        return math.acos(c) * RAD - self.offset_deg

    def lever_mm(self, theta_deg):
        """dL/dtheta in mm per radian."""
        return _lever(self.a, self.b, self.offset_deg + theta_deg)


class Actuator:
    """Motor + lead screw + geometry; state: x (stroke mm), v (mm/s)."""

    def __init__(self, board, theta_deg):
        act = board["actuator"]
        self.geom = Geometry(board)
        self.v0 = float(act["no_load_speed_mm_s"])
        self.fmax = float(act["max_force_n"])
        self.self_locking = bool(_get(act, "self_locking", True))
        self.tau_mech = float(_get(act, "mech_time_constant_s", DEFAULT_TAU_MECH_S))
        self.i_nl = float(_get(act, "no_load_current_ma", DEFAULT_NO_LOAD_MA))
        self.i_stall = float(_get(act, "stall_current_ma", DEFAULT_STALL_MA))
        self._k_dt = -1.0
        self._k = 0.0
        g = self.geom
        self._a2b2 = g._a2b2
        self._ab2 = g._ab2
        self._ab = g.a * g.b
        self._ret = g.retracted
        self._off = g.offset_deg
        self.x = 0.0
        self.v = 0.0
        self.current_ma = 0.0
        self.stalled = False
        self.at_stop = False
        self.set_theta(theta_deg)

    def set_theta(self, theta_deg):
        g = self.geom
        if theta_deg < g.lo_deg:
            theta_deg = g.lo_deg
        elif theta_deg > g.hi_deg:
            theta_deg = g.hi_deg
        self.x = g.stroke_of(theta_deg)
        self.v = 0.0
        self._kinematics()

    def _kinematics(self):
        L = self.x + self._ret
        c = (self._a2b2 - L * L) / self._ab2
        if c > 1.0:
            c = 1.0
        elif c < -1.0:
            c = -1.0
        self.theta_deg = math.acos(c) * RAD - self._off
        s = 1.0 - c * c
        # metres of stroke per radian; the floor keeps F = tau / lever finite
        # at a singular pose (never reached inside a valid geometry).
        lev = self._ab * math.sqrt(s if s > 0.0 else 0.0) / L / 1000.0
        self.lever_m = lev if lev > 1e-6 else 1e-6

    def step(self, dt, duty, tau_g, resist_nm, stall_fault):
        """Advance by dt seconds.

        duty: motor duty, -1..1, positive extends (already 0 when the
        H-bridge has no power). tau_g: gravity torque on the bed, N m,
        positive head-down. resist_nm: Coulomb-type torque (friction,
        engaged brake, obstruction) opposing any motion.
        """
        if duty == 0.0 and self.self_locking:
            # Self-locking screw: no drive, no motion, no current.
            self.v = 0.0
            self.current_ma = 0.0
            self.stalled = False
            return
        lev = self.lever_m
        fmax = self.fmax
        v0 = self.v0
        if self.self_locking:
            if duty > 0.0:
                need = (resist_nm - tau_g) / lev
                if need < 0.0:
                    need = 0.0
                vt = v0 * (duty - need / fmax)
                stall = vt <= 0.0
                if stall:
                    vt = 0.0
                mag = duty
            else:
                need = (resist_nm + tau_g) / lev
                if need < 0.0:
                    need = 0.0
                vt = v0 * (duty + need / fmax)
                stall = vt >= 0.0
                if stall:
                    vt = 0.0
                mag = -duty
        else:
            # Back-drivable screw: gravity adds to the drive, friction is a dead band.
            vf = v0 * (duty + tau_g / (lev * fmax))
            band = v0 * resist_nm / (lev * fmax)
            if vf > band:
                vt = vf - band
            elif vf < -band:
                vt = vf + band
            else:
                vt = 0.0
            mag = duty if duty >= 0.0 else -duty
            need = (resist_nm + (tau_g if duty < 0.0 else -tau_g)) / lev
            if need < 0.0:
                need = 0.0
            stall = vt == 0.0 and mag > 0.0
        if stall_fault:
            vt = 0.0
            stall = mag > 0.0
        if dt != self._k_dt:
            self._k_dt = dt
            self._k = 1.0 - math.exp(-dt / self.tau_mech)
        v = self.v
        v = v + (vt - v) * self._k
        if stall_fault:
            v = 0.0
        x_old = self.x
        x = x_old + v * dt
        g = self.geom
        self.at_stop = False
        if x > g.x_hi:
            x = g.x_hi
            v = 0.0
            self.at_stop = True
            stall = stall or duty > 0.0
        elif x < g.x_lo:
            x = g.x_lo
            v = 0.0
            self.at_stop = True
            stall = stall or duty < 0.0
        self.x = x
        self.v = v
        self.stalled = stall
        if stall:
            self.current_ma = mag * self.i_stall
        elif mag > 0.0:
            f = need if need < mag * fmax else mag * fmax
            self.current_ma = self.i_nl + (self.i_stall - self.i_nl) * f / fmax
        else:
            self.current_ma = 0.0
        if x != x_old:
            self._kinematics()


def pot_raw_exact(board, geom, x_mm):
    """Potentiometer reading (12-bit counts, float) for stroke x_mm."""
    cal = board["position_sensor"]["cal"]
    r0 = float(cal[0][0])
    r1 = float(cal[-1][0])
    return r0 + (x_mm - geom.x_lo) * (r1 - r0) / (geom.x_hi - geom.x_lo)


def calibration_table(board, max_err_mdeg=50):
    """[[raw, angle_mdeg], ...] for the geometry in use: integer raws from the
    board's first to last cal raw, chosen so that piecewise-linear
    interpolation between them is within max_err_mdeg of the true angle
    at every integer raw."""
    geom = Geometry(board)
    cal = board["position_sensor"]["cal"]
    r0 = int(cal[0][0])
    r1 = int(cal[-1][0])
    span_x = geom.x_hi - geom.x_lo

    def mdeg(raw):
        x = geom.x_lo + (raw - r0) * span_x / (r1 - r0)
        return geom.theta_of(x) * 1000.0

    exact = [mdeg(r) for r in range(r0, r1 + 1)]
    exact[0] = geom.lo_deg * 1000.0
    exact[-1] = geom.hi_deg * 1000.0
    table = [[r0, int(math.floor(exact[0] + 0.5))]]
    start = 0
    n = r1 - r0
    while start < n:
        best = start + 1
        end = start + 1
        while end <= n:
            y0 = table[-1][1]
            y1 = int(math.floor(exact[end] + 0.5))
            ok = True
            for k in range(start + 1, end):
                # the firmware interpolates with floor division, as here
                yi = y0 + (k - start) * (y1 - y0) // (end - start)
                if abs(yi - exact[k]) > max_err_mdeg:
                    ok = False
                    break
            if not ok:
                break
            best = end
            end += 1
        table.append([r0 + best, int(math.floor(exact[best] + 0.5))])
        start = best
    return table


def main(argv):
    """python -m simulator.actuator [BOARD [MAX_ERR_MDEG]]: geometry and cal table."""
    import json
    name = argv[1] if len(argv) > 1 else "esp32-devkitc-actuator"
    err = int(argv[2]) if len(argv) > 2 else 50
    with open("boards/%s.json" % name) as f:
        board = json.load(f)
    g = Geometry(board)
    print("geometry: a=%g mm, b=%g mm, offset=%g deg, stroke %.1f..%.1f mm%s"
          % (g.a, g.b, g.offset_deg, g.x_lo, g.x_hi, (" (" + g.note + ")") if g.note else ""))
    print('"cal": ' + json.dumps(calibration_table(board, err)))


if __name__ == "__main__":
    import sys
    main(sys.argv)
