"""The limits in force for one person, from their profile and the board.

Computed once when the profile or board changes (this may allocate), never
in the tick. Every value is the tighter of the profile's setting and the
SPEC ceiling: no profile can widen a ceiling.

Profile keys (all optional; missing means the beginner default):
level (0-4), age, mass_kg, full_inversion, contraindications (list),
override_cap_deg, cap_deg, hold_s, session_s, rate_deg_s, dwell_s,
heartbeat_timeout_s, preferred_angle.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

from safety import spec

CONTRAINDICATIONS = ("high_blood_pressure", "glaucoma", "heart_condition",
                     "pregnancy", "vertigo")

# Why inversion is locked, when it is.
_LOCK_NONE = const("")
_LOCK_CONTRAINDICATION = const("contraindication")
_LOCK_MASS = const("mass_over_rating")


def _ms(seconds):
    return int(seconds * 1000)


def _mdeg(degrees):
    return int(degrees * 1000)


class Limits:
    def __init__(self):
        self.cap_mdeg = spec.LEVEL_CAPS_MDEG[0]
        self.rate_mdeg_s = spec.BEGINNER_RATE_MDEG_S
        self.accel_mdeg_s2 = spec.ACCEL_CEILING_MDEG_S2
        self.jerk_mdeg_s3 = spec.JERK_MDEG_S3
        self.hold_ms = list(spec.HOLD_CEILINGS_MS)
        self.session_ms = spec.BEGINNER_SESSION_MS
        self.dwell_ms = spec.DWELL_DEFAULT_MS
        self.heartbeat_ms = spec.HEARTBEAT_DEFAULT_MS
        self.attended = False
        self.lock = _LOCK_NONE
        self.home_mdeg = -70000
        self.preferred_mdeg = 20000
        self.asked_mdeg = 20000
        self.level = 0

    def hold_limit_ms(self, band):
        return self.hold_ms[band]


def band_of(theta_mdeg):
    """Hold band index of an angle: 0 for (0,30], 1 for (30,60], 2 above."""
    edges = spec.HOLD_BAND_EDGES_MDEG
    if theta_mdeg <= edges[0]:
        return 0
    if theta_mdeg <= edges[1]:
        return 1
    return 2


def compute_limits(profile, board):
    """Limits for this profile on this board. Never wider than the SPEC."""
    p = profile or {}
    lim = Limits()
    level = int(p.get("level", 0))
    if level < 0 or level > 4:
        level = 0
    lim.level = level
    beginner = level == 0
    cap = spec.LEVEL_CAPS_MDEG[level]
    if cap > spec.FULL_INVERSION_ABOVE_MDEG and not p.get("full_inversion", False):
        cap = spec.FULL_INVERSION_ABOVE_MDEG
    if "cap_deg" in p:
        cap = min(cap, _mdeg(p["cap_deg"]))
    # Keep clear of the mechanical stop by the cap tolerance.
    mech_max = _mdeg(board.get("mech_max_deg", 90)) - spec.CAP_TOLERANCE_MDEG
    cap = min(cap, mech_max, spec.HARD_CAP_MDEG)

    if p.get("contraindications"):
        if "override_cap_deg" in p:
            cap = min(cap, _mdeg(p["override_cap_deg"]))
        else:
            cap = min(cap, 0)
            lim.lock = _LOCK_CONTRAINDICATION
    rated = board.get("rated_mass_kg", spec.RATED_MASS_DEFAULT_KG)
    if p.get("mass_kg", 0) > rated:
        cap = min(cap, 0)
        lim.lock = _LOCK_MASS
    lim.cap_mdeg = cap

    rate = spec.BEGINNER_RATE_MDEG_S if beginner else spec.RATE_CEILING_MDEG_S
    if "rate_deg_s" in p:
        rate = _mdeg(p["rate_deg_s"])
    lim.rate_mdeg_s = max(500, min(rate, spec.RATE_CEILING_MDEG_S))

    hold = [min(c, spec.BEGINNER_HOLD_MS) if beginner else c for c in spec.HOLD_CEILINGS_MS]
    if "hold_s" in p:
        hold = [min(c, _ms(p["hold_s"])) for c in hold]
    lim.hold_ms = hold
    session = spec.BEGINNER_SESSION_MS if beginner else spec.SESSION_INVERTED_CEILING_MS
    if "session_s" in p:
        session = _ms(p["session_s"])
    lim.session_ms = min(session, spec.SESSION_INVERTED_CEILING_MS)

    dwell = _ms(p.get("dwell_s", spec.DWELL_DEFAULT_MS // 1000))
    lim.dwell_ms = max(0, min(dwell, spec.DWELL_MAX_MS))
    hb = _ms(p.get("heartbeat_timeout_s", spec.HEARTBEAT_DEFAULT_MS / 1000))
    lim.heartbeat_ms = max(spec.HEARTBEAT_MIN_MS, min(hb, spec.HEARTBEAT_MAX_MS))
    age = p.get("age")
    lim.attended = age is not None and age < 14
    lim.home_mdeg = _mdeg(board.get("home_deg", -70))
    lim.asked_mdeg = _mdeg(p.get("preferred_angle", 20))
    lim.preferred_mdeg = min(lim.asked_mdeg, cap)
    return lim
