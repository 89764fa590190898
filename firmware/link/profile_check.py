"""What a clinician may put in a profile sent with PROFILE SET.

Every key that safety/limits.py reads, each with its type and the range the
SPEC allows; anything else is refused with a reason, never silently
clamped or dropped, so the clinician knows exactly what the board holds.
limits.compute_limits still takes the tighter of each value and its SPEC
ceiling: this check is about telling a typo from a setting.

Usage::

    profile, why = check_profile(json.loads(text))   # (None, why) if refused
"""
from safety import spec
from safety.limits import CONTRAINDICATIONS

_INT = 0
_NUM = 1
_BOOL = 2
_LIST = 3

_AGE_MAX_YEARS = 120
_MASS_MAX_KG = 400        # above the board's rating is allowed: the board locks it

# key: (kind, low, high); numbers in the profile's own units (degrees, seconds).
RULES = {
    "level": (_INT, 0, len(spec.LEVEL_CAPS_MDEG) - 1),
    "age": (_INT, 0, _AGE_MAX_YEARS),
    "mass_kg": (_NUM, 1, _MASS_MAX_KG),
    "full_inversion": (_BOOL, 0, 0),
    "contraindications": (_LIST, 0, 0),
    "override_cap_deg": (_NUM, 0, spec.HARD_CAP_MDEG / 1000),
    "cap_deg": (_NUM, 0, spec.HARD_CAP_MDEG / 1000),
    "hold_s": (_NUM, 0, spec.HOLD_CEILINGS_MS[0] / 1000),
    "session_s": (_NUM, 0, spec.SESSION_INVERTED_CEILING_MS / 1000),
    "rate_deg_s": (_NUM, 0.5, spec.RATE_CEILING_MDEG_S / 1000),
    "dwell_s": (_NUM, 0, spec.DWELL_MAX_MS / 1000),
    "heartbeat_timeout_s": (_NUM, spec.HEARTBEAT_MIN_MS / 1000, spec.HEARTBEAT_MAX_MS / 1000),
    "preferred_angle": (_NUM, 0, spec.HARD_CAP_MDEG / 1000),
}


def _is_number(v):
    t = type(v)
    if t is int:
        return True
    # NaN and infinities compare false with every bound: refuse them here.
    return t is float and v == v and v - v == 0


def check_profile(data):
    """(profile dict, "") if acceptable, else (None, reason)."""
    if type(data) is not dict:
        return None, "profile must be a JSON object"
    out = {}
    for key in data:
        rule = RULES.get(key)
        if rule is None:
            return None, "unknown key %s" % key
        kind, low, high = rule
        v = data[key]
        if kind == _BOOL:
            if type(v) is not bool:
                return None, "%s must be true or false" % key
        elif kind == _LIST:
            if type(v) is not list:
                return None, "%s must be a list" % key
            for item in v:
                if item not in CONTRAINDICATIONS:
                    return None, "unknown contraindication %s" % item
            seen = []
            for item in v:
                if item not in seen:
                    seen.append(item)
            v = seen
        else:
            if kind == _INT and type(v) is not int:
                return None, "%s must be an integer" % key
            if not _is_number(v):
                return None, "%s must be a number" % key
            if v < low or v > high:
                return None, "%s out of range %s..%s" % (key, low, high)
        out[key] = v
    return out, ""
