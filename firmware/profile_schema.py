"""The person's profile: every key, its kind and its range (SPEC R1-R4, R6, R8).

The one description of a profile. The board checks with it what PROFILE SET
brings and what it loads from flash (session/profiles.py), the simulator
checks a scenario's profile with it, and invertctl checks an edit with it
before signing; all three import this file (the PC ones from firmware/).

    key                  kind          range
    name                 text          1-32 printable characters, no comma
    level                integer       0-4
    age                  integer       0-120
    mass_kg              number        (0, 400]; above the board's rating locks inversion
    full_inversion       true/false
    contraindications    list          of CONTRAINDICATIONS, each at most once
    override_cap_deg     number/null   [0, 90]; null: no override (dropped)
    cap_deg              number        [0, 90]
    hold_s               number        (0, 300]  (the longest R2 hold ceiling)
    session_s            number        (0, 600]  (R2 session ceiling)
    rate_deg_s           number        [0.5, 6]  (R4 rate ceiling)
    dwell_s              number        [0, 180]  (R2 dwell)
    heartbeat_timeout_s  number        [0.2, 5]  (R6)
    preferred_angle      number        [0, 90]

Every key is optional: safety.limits.compute_limits reads a missing one as
the beginner default, and takes the tighter of each value and its SPEC
ceiling, so no profile widens a ceiling. Level 4 without full_inversion is
a valid profile: its cap stays 60 (R1: above 60 needs both).

    clean, bad = check(data)
    # clean: a new dict (the caller's is never touched), bad None; or
    # clean None, bad (key, item, message): item is the list index for a
    # bad list entry, else -1; message says what is wrong without the key.

Only needed while a profile arrives or is loaded: session/profiles.py
imports it for the check and drops it again, so on the board its code is
not resident while the table runs.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

from safety import spec
from safety.limits import CONTRAINDICATIONS

# Kinds of value.
_TEXT = const(0)
_INT = const(1)
_NUM = const(2)            # low <= v <= high
_NUM_ABOVE = const(3)      # low < v <= high
_NUM_OR_NULL = const(4)    # as _NUM, or null for "not set"
_BOOL = const(5)
_CHOICES = const(6)        # a list of distinct CONTRAINDICATIONS

NAME_MAX_CHARS = 32
_AGE_MAX_YEARS = const(120)
_MASS_MAX_KG = const(400)
# compute_limits never sets a rate below 0.5 deg/s; a profile asking for
# less would be silently widened, so it is refused instead.
_RATE_MIN_DEG_S = 0.5
_HARD_CAP_DEG = spec.HARD_CAP_MDEG // 1000

# key: (kind, low, high), in the profile's own units (degrees, seconds, kg,
# years; characters for text). One table: the kinds say how to read a value.
FIELDS = {
    "name": (_TEXT, 1, NAME_MAX_CHARS),
    "level": (_INT, 0, len(spec.LEVEL_CAPS_MDEG) - 1),
    "age": (_INT, 0, _AGE_MAX_YEARS),
    "mass_kg": (_NUM_ABOVE, 0, _MASS_MAX_KG),
    "full_inversion": (_BOOL, 0, 0),
    "contraindications": (_CHOICES, 0, 0),
    "override_cap_deg": (_NUM_OR_NULL, 0, _HARD_CAP_DEG),
    "cap_deg": (_NUM, 0, _HARD_CAP_DEG),
    "hold_s": (_NUM_ABOVE, 0, max(spec.HOLD_CEILINGS_MS) / 1000),
    "session_s": (_NUM_ABOVE, 0, spec.SESSION_INVERTED_CEILING_MS / 1000),
    "rate_deg_s": (_NUM, _RATE_MIN_DEG_S, spec.RATE_CEILING_MDEG_S / 1000),
    "dwell_s": (_NUM, 0, spec.DWELL_MAX_MS / 1000),
    "heartbeat_timeout_s": (_NUM, spec.HEARTBEAT_MIN_MS / 1000, spec.HEARTBEAT_MAX_MS / 1000),
    "preferred_angle": (_NUM, 0, _HARD_CAP_DEG),
}
KEYS = tuple(sorted(FIELDS))
# Two kinds by name, for the PC side: invertctl reads a KEY=VALUE edit of
# text as it is and of a list as comma-separated items.
TEXT = _TEXT
LIST = _CHOICES


def _json_kind(v):
    """A value's kind as JSON names it, for messages."""
    if v is None:
        return "null"
    t = type(v)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is list:
        return "list"
    if t is dict:
        return "object"
    return t.__name__


def _fmt(x):
    return ("%d" % x) if x == int(x) else ("%g" % x)


def _bad_number(kind, low, high, v):
    """Why v is not a number in range for this kind, "" if it is."""
    t = type(v)
    if t is not int and t is not float:
        return "expected a number, got %s" % _json_kind(v)
    # NaN and the infinities: every comparison below would be False.
    if v != v or v - v != 0:
        return "expected a finite number, got %s" % v
    if v > high or v < low or (kind == _NUM_ABOVE and v == low):
        return "%s is outside %s%s, %s]" % (_fmt(v), "(" if kind == _NUM_ABOVE else "[",
                                            _fmt(low), _fmt(high))
    return ""


def _bad_name(v, high):
    if type(v) is not str:
        return "expected text, got %s" % _json_kind(v)
    if not 1 <= len(v) <= high:
        return "expected 1-%d characters, got %d" % (high, len(v))
    for ch in v:
        # Printable only, and no comma: the name goes into the CSV session log.
        if ch < " " or ch == "\x7f" or ch == ",":
            return "control characters and commas are not allowed"
    return ""


def check(data):
    """(clean copy, None), or (None, (key, item, message)) for the first bad field."""
    if type(data) is not dict:
        return None, ("profile", -1, "expected an object, got %s" % _json_kind(data))
    out = {}
    for key in data:
        rule = FIELDS.get(key)
        if rule is None:
            return None, (key, -1, "unknown key")
        kind, low, high = rule
        v = data[key]
        why = ""
        if kind == _TEXT:
            why = _bad_name(v, high)
        elif kind == _INT:
            if type(v) is not int:
                why = "expected an integer, got %s" % (
                    v if type(v) is float else _json_kind(v))
            elif not low <= v <= high:
                why = "%d is outside %d-%d" % (v, low, high)
        elif kind == _BOOL:
            if type(v) is not bool:
                why = "expected true or false, got %s" % _json_kind(v)
        elif kind == _CHOICES:
            if type(v) is not list:
                why = "expected a list, got %s" % _json_kind(v)
            else:
                for i in range(len(v)):
                    item = v[i]
                    if type(item) is not str or item not in CONTRAINDICATIONS:
                        return None, (key, i, 'unknown contraindication "%s"' % (item,))
                    if item in v[:i]:
                        return None, (key, i, '"%s" listed twice' % item)
                v = list(v)
        elif kind == _NUM_OR_NULL and v is None:
            continue        # no override: compute_limits reads a present key as one
        else:
            why = _bad_number(kind, low, high, v)
        if why:
            return None, (key, -1, why)
        out[key] = v
    return out, None
