"""The person's profile: schema, validation, and storage (SPEC R1-R3, R8, R10, R12).

A profile is a dict; every key is optional (safety.limits.compute_limits
reads a missing key as the beginner default):

    key                  type        range
    name                 str         1-32 printable characters
    level                int         0-4 (4 needs full_inversion)
    age                  int         0-120
    mass_kg              number      (0, 400]; above the board's rating locks inversion
    full_inversion       bool
    contraindications    list of str from safety.limits.CONTRAINDICATIONS, no repeats
    override_cap_deg     number      0-90, or None (no override)
    cap_deg              number      0-90
    hold_s               number      (0, longest R2 hold ceiling]
    session_s            number      (0, R2 session ceiling]
    rate_deg_s           number      [0.5, R4 rate ceiling]
    dwell_s              number      0-180 (R2 dwell ceiling)
    heartbeat_timeout_s  number      0.2-5 (R6)
    preferred_angle      number      0-90

validate(profile) returns a clean copy (an override of None is dropped:
compute_limits reads a present key as an override) or raises ProfileError
naming the field; the caller's dict is never touched, so a refused profile
changes nothing. load() never returns anything more permissive than the
beginner profile when the stored copy is missing, corrupt or invalid.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import json

from safety import spec
from safety.limits import CONTRAINDICATIONS

RECORD = "profile"

NAME_MAX = 32
_AGE_MAX = const(120)
_MASS_MAX_KG = const(400)
# compute_limits never sets a rate below 0.5 deg/s; a profile asking for
# less would be silently widened, so it is refused instead.
_RATE_MIN_DEG_S = const(0.5)
_HARD_CAP_DEG = spec.HARD_CAP_MDEG / 1000

_NUMBERS = {
    # key: (low, high, low_inclusive)
    "mass_kg": (0, _MASS_MAX_KG, False),
    "override_cap_deg": (0, _HARD_CAP_DEG, True),
    "cap_deg": (0, _HARD_CAP_DEG, True),
    "hold_s": (0, max(spec.HOLD_CEILINGS_MS) / 1000, False),
    "session_s": (0, spec.SESSION_INVERTED_CEILING_MS / 1000, False),
    "rate_deg_s": (_RATE_MIN_DEG_S, spec.RATE_CEILING_MDEG_S / 1000, True),
    "dwell_s": (0, spec.DWELL_MAX_MS / 1000, True),
    "heartbeat_timeout_s": (spec.HEARTBEAT_MIN_MS / 1000, spec.HEARTBEAT_MAX_MS / 1000, True),
    "preferred_angle": (0, _HARD_CAP_DEG, True),
}
KEYS = ("name", "level", "age", "full_inversion", "contraindications") + tuple(sorted(_NUMBERS))


class ProfileError(ValueError):
    """An invalid profile; str() names the field."""


def beginner():
    """The beginner profile: level 0, no flags, every limit at its default."""
    return {"name": "beginner", "level": 0}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    # NaN is refused by the range check (every comparison with it is False).
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def _fmt(x):
    return ("%d" % x) if x == int(x) else ("%g" % x)


def _number(key, v):
    low, high, low_inclusive = _NUMBERS[key]
    if not _is_number(v):
        raise ProfileError("%s: must be a number, got %r" % (key, v))
    above_low = v >= low if low_inclusive else v > low
    if not (above_low and v <= high):
        raise ProfileError("%s: %r is outside %s%s, %s]" % (
            key, v, "[" if low_inclusive else "(", _fmt(low), _fmt(high)))


def validate(profile):
    """A clean copy of `profile`, or ProfileError naming the first bad field."""
    if not isinstance(profile, dict):
        raise ProfileError("profile: must be an object")
    for key in profile:
        if key not in KEYS:
            raise ProfileError("%s: unknown profile key" % key)
    out = {}
    if "name" in profile:
        v = profile["name"]
        if not isinstance(v, str) or not 1 <= len(v) <= NAME_MAX:
            raise ProfileError("name: must be text of 1-%d characters" % NAME_MAX)
        for ch in v:
            if ch < " " or ch == "\x7f" or ch == ",":
                raise ProfileError("name: control characters and commas are not allowed")
        out["name"] = v
    full = False
    if "full_inversion" in profile:
        full = profile["full_inversion"]
        if not isinstance(full, bool):
            raise ProfileError("full_inversion: must be true or false")
        out["full_inversion"] = full
    if "level" in profile:
        v = profile["level"]
        if not _is_int(v) or not 0 <= v <= spec.FULL_INVERSION_LEVEL:
            raise ProfileError("level: must be an integer 0-%d" % spec.FULL_INVERSION_LEVEL)
        if v == spec.FULL_INVERSION_LEVEL and not full:
            raise ProfileError("level: %d needs full_inversion" % v)
        out["level"] = v
    if "age" in profile:
        v = profile["age"]
        if not _is_int(v) or not 0 <= v <= _AGE_MAX:
            raise ProfileError("age: must be an integer 0-%d" % _AGE_MAX)
        out["age"] = v
    if "contraindications" in profile:
        v = profile["contraindications"]
        if not isinstance(v, list):
            raise ProfileError("contraindications: must be a list")
        seen = []
        for item in v:
            if item not in CONTRAINDICATIONS:
                raise ProfileError("contraindications: unknown %r (known: %s)"
                                   % (item, ", ".join(CONTRAINDICATIONS)))
            if item in seen:
                raise ProfileError("contraindications: %r listed twice" % item)
            seen.append(item)
        out["contraindications"] = seen
    for key in _NUMBERS:
        if key not in profile:
            continue
        v = profile[key]
        if key == "override_cap_deg" and v is None:
            continue
        _number(key, v)
        out[key] = v
    return out


def encode(profile):
    return json.dumps(validate(profile)).encode()


def decode(payload):
    """The profile in a stored payload; ProfileError if it is not one."""
    try:
        data = json.loads(payload.decode())
    except (ValueError, UnicodeError):
        raise ProfileError("profile: stored data is not JSON")
    return validate(data)


def load(storage):
    """(profile, note): the stored profile, or the beginner profile and why."""
    payload, reason = storage.read(RECORD)
    if payload is None:
        if reason == "missing":
            return beginner(), "no stored profile: beginner defaults"
        return beginner(), "stored profile corrupt: beginner defaults"
    try:
        profile = decode(payload)
    except ProfileError as exc:
        return beginner(), "stored profile invalid (%s): beginner defaults" % exc
    if reason == "recovered":
        return profile, "profile recovered from its completed pending copy"
    return profile, ""


def save(storage, profile):
    """Validate, then store atomically. Returns the clean copy stored."""
    clean = validate(profile)
    storage.write(RECORD, json.dumps(clean).encode())
    return clean
