"""The person's profile on flash: load, save, validate (SPEC R10, R12).

What a profile may hold is described once, in profile_schema.py (the same
file the host link's PROFILE SET, the simulator's scenario check and
invertctl use). validate(profile) returns a clean copy (an override of None
is dropped: compute_limits reads a present key as an override) or raises
ProfileError, whose text starts with the field's name; the caller's dict is
never touched, so a refused profile changes nothing. load() never returns
anything more permissive than the beginner profile when the stored copy is
missing, corrupt or invalid.
"""
import json
import sys

RECORD = "profile"


class ProfileError(ValueError):
    """An invalid profile; str() is "<field>: <what is wrong>"."""


def beginner():
    """The beginner profile: level 0, no flags, every limit at its default."""
    return {"name": "beginner", "level": 0}


def validate(profile):
    """A clean copy of `profile`, or ProfileError naming the first bad field."""
    # The schema is needed only here, when a profile arrives or is loaded:
    # imported for the check and dropped again, so its code and table are
    # not resident on the board while the table runs (as main.py does with
    # the board file's validator).
    import profile_schema
    try:
        clean, bad = profile_schema.check(profile)
    finally:
        sys.modules.pop("profile_schema", None)
    if clean is None:
        raise ProfileError("%s: %s" % (bad[0], bad[2]))
    return clean


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
