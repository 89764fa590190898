"""The bed, its moving frame and the person as one rigid body about the pivot.

Angles: theta = bed angle from horizontal, positive head-down (SPEC 2).
Bed frame, fixed to the bed: `along` points along the bed toward the head
end, `normal` points out of the lying surface. In a vertical plane with
world x horizontal toward the head end (at theta = 0) and world y up:

    along  = ( cos theta, -sin theta)
    normal = ( sin theta,  cos theta)

A point mass m at s along + h normal from the pivot feels gravity (0, -m g);
its torque in the direction of increasing theta (head-down) is

    tau = m g (s cos theta + h sin theta)

so a centre of mass on the head side (s > 0) turns the table head-down, and
one above the pivot (h > 0) is an inverted pendulum, one below it (h < 0)
a self-righting pendulum. Body.gravity_torque sums this over the table's
own mass and the person's segments.

The person is a chain of segments lying along the bed (Winter's
anthropometric tables: mass fraction, centre height as a fraction of
stature from the soles). Arms at the sides put the arm mass beside the
thighs; arms overhead put it beyond the head, which moves the whole body's
centre ~0.034 x stature toward the head (61 mm for 178 cm). A table's
`arms_shift_mm` (board file) sets that shift for a 178 cm person instead.

Placement of the person along the bed (the table's height setting):
`table.person_com_mm` = the person's centre of mass with arms down, mm from
the pivot toward the head. Default: brake tables are set up as the makers
advise, slightly foot-heavy (-20 mm), so arms down brings the table back
and arms up turns it head-down; actuator tables put the hip joints over
the pivot (the centre of mass then sits ~0.048 x stature toward the head).
`table.person_normal_mm` (default 0): the person's centre of mass above
(+) or below (-) the pivot axis, normal to the bed; inversion tables put
the pivot at that height.

Other table parameters (board "table" section, with the defaults used when
a key is absent): mass_kg, com_offset_mm (the table's own centre of mass
along the bed, head side positive), com_normal_mm (0), inertia_kg_m2 (the
table's own, about the pivot), friction_nm (Coulomb friction at the pivot),
viscous_nm_s_per_rad (60: pivot, bushings and the person's own damping;
with the shipped brake table it makes a free swing with arms up run at
~30 deg/s rather than accelerate without bound), brake_torque_nm (400 when
absent), arms_move_s (1.0: time to raise or lower the arms).
"""
import math

G = 9.80665
DEG = math.pi / 180.0
RAD = 180.0 / math.pi

# name, mass fraction, centre (fraction of stature from the soles), length fraction
_SEGMENTS = (
    ("feet", 0.029, 0.030, 0.060),
    ("shanks", 0.093, 0.178, 0.246),
    ("thighs", 0.200, 0.424, 0.245),
    ("trunk", 0.497, 0.674, 0.288),
    ("head", 0.081, 0.935, 0.130),
)
_ARMS_MASS = 0.100
_ARMS_DOWN = 0.6465   # upper arm, forearm and hand hanging beside the body
_ARMS_UP = 0.9895     # the same three overhead
_ARMS_LEN = 0.440
_HIP = 0.530
_REF_HEIGHT_M = 1.78

DEFAULT_VISCOUS_NM_S = 60.0
DEFAULT_BRAKE_TORQUE_NM = 400.0
DEFAULT_ARMS_MOVE_S = 1.0
DEFAULT_BRAKE_PERSON_COM_MM = -20.0


def _table_get(table, key, default):
    v = table.get(key) if table else None
    return default if v is None else v


class Person:
    """A person of mass_kg and height_cm lying on the bed (see module doc)."""

    def __init__(self, mass_kg=80.0, height_cm=178.0):
        if mass_kg <= 0 or height_cm <= 0:
            raise ValueError("person mass and height must be positive")
        self.mass_kg = float(mass_kg)
        self.height_m = height_cm / 100.0

    def com_fraction_arms_down(self):
        acc = _ARMS_MASS * _ARMS_DOWN
        for seg in _SEGMENTS:
            acc += seg[1] * seg[2]
        return acc

    def segments(self, com_mm, normal_mm, arms_shift_mm):
        """[(mass_kg, s_m, h_m, own_inertia_kg_m2)] for arms down, and the
        arm travel in metres (arm segment centre, down -> up)."""
        H = self.height_m
        m = self.mass_kg
        if com_mm is None:
            ref = _HIP * H
        else:
            ref = self.com_fraction_arms_down() * H - com_mm / 1000.0
        h = normal_mm / 1000.0
        out = []
        for seg in _SEGMENTS:
            mi = m * seg[1]
            li = seg[3] * H
            out.append((mi, seg[2] * H - ref, h, mi * li * li / 12.0))
        ma = m * _ARMS_MASS
        la = _ARMS_LEN * H
        out.append((ma, _ARMS_DOWN * H - ref, h, ma * la * la / 12.0))
        if arms_shift_mm is None:
            travel = (_ARMS_UP - _ARMS_DOWN) * H
        else:
            travel = arms_shift_mm / 1000.0 * (H / _REF_HEIGHT_M) / _ARMS_MASS
        return out, travel


class Body:
    """Mass properties and, for a brake table, the free dynamics.

    theta (rad) and omega (rad/s) are the state; gs and gh are g * sum(m s)
    and g * sum(m h) in N m, so gravity_torque = gs cos + gh sin.
    """

    def __init__(self, board, person):
        table = board.get("table") or {}
        self.min_rad = board["mech_min_deg"] * DEG
        self.max_rad = board["mech_max_deg"] * DEG
        self.table_mass = float(_table_get(table, "mass_kg", 0.0))
        self.table_s = _table_get(table, "com_offset_mm", 0.0) / 1000.0
        self.table_h = _table_get(table, "com_normal_mm", 0.0) / 1000.0
        self.table_j = float(_table_get(table, "inertia_kg_m2", 0.0))
        self.friction_nm = float(_table_get(table, "friction_nm", 0.0))
        self.viscous = float(_table_get(table, "viscous_nm_s_per_rad", DEFAULT_VISCOUS_NM_S))
        self.brake_torque_nm = float(_table_get(table, "brake_torque_nm", DEFAULT_BRAKE_TORQUE_NM))
        self.arms_rate = 1.0 / float(_table_get(table, "arms_move_s", DEFAULT_ARMS_MOVE_S))
        default_com = DEFAULT_BRAKE_PERSON_COM_MM if board.get("drive") == "brake" else None
        com_mm = _table_get(table, "person_com_mm", default_com)
        normal_mm = _table_get(table, "person_normal_mm", 0.0)
        self.person = person
        self._segs, self._arm_travel = person.segments(
            com_mm, normal_mm, table.get("arms_shift_mm"))
        self.arms_frac = 0.0
        self.arms_target = 0.0
        self.theta = board["home_deg"] * DEG
        self.omega = 0.0
        self._mass_props()

    def _mass_props(self):
        ms = self.table_mass * self.table_s
        mh = self.table_mass * self.table_h
        j = self.table_j
        segs = self._segs
        last = len(segs) - 1
        for i in range(len(segs)):
            mi, s, h, own = segs[i]
            if i == last:
                s = s + self._arm_travel * self.arms_frac
            ms += mi * s
            mh += mi * h
            j += own + mi * (s * s + h * h)
        self.ms = ms
        self.mh = mh
        self.gs = G * ms
        self.gh = G * mh
        self.inertia = j
        self.inv_inertia = 1.0 / j

    def set_arms(self, up):
        self.arms_target = 1.0 if up else 0.0

    def update_arms(self, dt):
        """Move the arms toward their target; True while they are moving."""
        f = self.arms_frac
        tgt = self.arms_target
        if f == tgt:
            return False
        step = self.arms_rate * dt
        if f < tgt:
            f = f + step
            if f > tgt:
                f = tgt
        else:
            f = f - step
            if f < tgt:
                f = tgt
        self.arms_frac = f
        self._mass_props()
        return True

    def com_mm(self):
        """(along, normal) of the whole body's centre of mass, mm from the pivot."""
        m = self.table_mass
        for seg in self._segs:
            m += seg[0]
        return 1000.0 * self.ms / m, 1000.0 * self.mh / m

    def gravity_torque(self, theta_rad):
        return self.gs * math.cos(theta_rad) + self.gh * math.sin(theta_rad)

    def step_free(self, dt, substeps, resist_nm):
        """Advance theta/omega by dt with no drive: gravity, viscous damping,
        and a Coulomb torque resist_nm (friction + brake + obstruction) that
        holds the table while the other torques stay below it (stiction) and
        opposes the motion with the same magnitude while it slides.
        Mechanical stops are hard: position clamped, velocity zeroed."""
        th = self.theta
        w = self.omega
        gs = self.gs
        gh = self.gh
        cos = math.cos
        sin = math.sin
        if w == 0.0:
            tg = gs * cos(th) + gh * sin(th)
            if -resist_nm <= tg <= resist_nm:
                return
        h = dt / substeps
        inv_j = self.inv_inertia
        c = self.viscous
        lo = self.min_rad
        hi = self.max_rad
        for _ in range(substeps):
            tg = gs * cos(th) + gh * sin(th)
            if w == 0.0:
                if tg > resist_nm:
                    w = (tg - resist_nm) * inv_j * h
                elif tg < -resist_nm:
                    w = (tg + resist_nm) * inv_j * h
                else:
                    continue
            elif w > 0.0:
                w2 = w + (tg - resist_nm - c * w) * inv_j * h
                w = w2 if w2 > 0.0 else 0.0
            else:
                w2 = w + (tg + resist_nm - c * w) * inv_j * h
                w = w2 if w2 < 0.0 else 0.0
            th += w * h
            if th > hi:
                th = hi
                w = 0.0
            elif th < lo:
                th = lo
                w = 0.0
        self.theta = th
        self.omega = w
