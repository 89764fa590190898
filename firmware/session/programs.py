"""Programs (SPEC R7) as lists of steps: built in, or custom files.

A step is (target_mdeg, hold_ms, cue): move to the target, hold it, and show
the cue when the step begins. Every target is clipped to the cap in force and
every hold to the R2 ceiling of its band, here and again by the supervisor
while it runs.

A custom program is JSON: a list of 1-32 steps, each an object
{"target_deg": number in [-90, 90], "hold_s": number in [0, 600],
"cue": optional text of at most 48 characters}. validate_custom() refuses
anything else with a ProgramError naming the step and the field; custom()
then clips it like a built-in and says what it clipped. Custom programs are
stored as checksummed records "prog.<name>" (session/storage.py).
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import json

from safety import spec
from safety.limits import band_of

_CUE_NONE = const("")


def _swings(count, low_mdeg, high_mdeg):
    steps = []
    for i in range(count):
        steps.append((high_mdeg, 0, "swing %d of %d" % (i + 1, count)))
        steps.append((low_mdeg, 0, ""))
    return steps


def _preferred(limits):
    # The decompression hold is taken at 20, 40 or 60 degrees: the preset at
    # or below the profile's preferred angle (then clipped to the cap, so a
    # beginner asking for 60 gets their 30).
    pref = limits.asked_mdeg
    for preset in (60000, 40000, 20000):
        if pref >= preset:
            return preset
    return 20000


def builtin(name, limits):
    """Steps of a built-in program, or None if no program has that name."""
    if name == "beginner":
        steps = [(20000, 90000, "breathe slowly; press STOP if you feel unwell")]
    elif name == "warm-up":
        steps = _swings(10, 0, 20000)
    elif name == "decompression":
        steps = _swings(5, 0, 20000)
        steps.append((_preferred(limits), 120000, "hold: ten slow breaths"))
    elif name == "rotation":
        steps = [(30000, 30000, "arms relaxed"),
                 (30000, 30000, "turn gently to the left"),
                 (30000, 30000, "turn gently to the right"),
                 (30000, 30000, "back to centre")]
    elif name == "overhead-stretch":
        steps = [(40000, 30000, "arms by your sides"),
                 (40000, 45000, "raise your arms overhead and stretch"),
                 (40000, 30000, "lower your arms")]
    elif name == "full-inversion":
        steps = [(90000, 120000, "full inversion: ten slow breaths")]
    else:
        return None
    return clip_steps(steps, limits)


def clip_steps(steps, limits):
    out = []
    for target, hold, cue in steps:
        if target > limits.cap_mdeg:
            target = limits.cap_mdeg
        if target > 0:
            ceiling = limits.hold_limit_ms(band_of(target))
            if hold > ceiling:
                hold = ceiling
        out.append((target, hold, cue))
    return out


NAMES = ("beginner", "decompression", "rotation", "overhead-stretch",
         "full-inversion", "warm-up")


# -- custom programs ----------------------------------------------------------------

_STEPS_MAX = const(32)
_CUE_MAX = const(48)
NAME_MAX = 24
_RECORD_PREFIX = const("prog.")
_STEP_KEYS = const(("target_deg", "hold_s", "cue"))
_TARGET_MAX_DEG = spec.HARD_CAP_MDEG // 1000
# No single hold may be longer than a whole session may be inverted; the
# band ceilings then cut it further.
_HOLD_MAX_S = spec.SESSION_INVERTED_CEILING_MS // 1000
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"


class ProgramError(ValueError):
    """An invalid custom program; str() names the step and the field."""


def _number(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def validate_custom(steps):
    """Unclipped steps [(target_mdeg, hold_ms, cue)] of a custom program."""
    if not isinstance(steps, list):
        raise ProgramError("program: must be a list of steps")
    if not 1 <= len(steps) <= _STEPS_MAX:
        raise ProgramError("program: must have 1-%d steps, has %d" % (_STEPS_MAX, len(steps)))
    out = []
    for i, step in enumerate(steps):
        where = "step %d" % (i + 1)
        if not isinstance(step, dict):
            raise ProgramError(where + ": must be an object")
        for key in step:
            if key not in _STEP_KEYS:
                raise ProgramError("%s: unknown field %r" % (where, key))
        for key in ("target_deg", "hold_s"):
            if key not in step:
                raise ProgramError("%s: %s is missing" % (where, key))
        target = step["target_deg"]
        if not _number(target) or not -_TARGET_MAX_DEG <= target <= _TARGET_MAX_DEG:
            raise ProgramError("%s: target_deg: must be a number in [-%d, %d], got %r"
                               % (where, _TARGET_MAX_DEG, _TARGET_MAX_DEG, target))
        hold = step["hold_s"]
        if not _number(hold) or not 0 <= hold <= _HOLD_MAX_S:
            raise ProgramError("%s: hold_s: must be a number in [0, %d], got %r"
                               % (where, _HOLD_MAX_S, hold))
        cue = step.get("cue", _CUE_NONE)
        if not isinstance(cue, str) or len(cue) > _CUE_MAX:
            raise ProgramError("%s: cue: must be text of at most %d characters" % (where, _CUE_MAX))
        for ch in cue:
            if ch < " " or ch == "\x7f":
                raise ProgramError(where + ": cue: control characters are not allowed")
        out.append((int(round(target * 1000)), int(round(hold * 1000)), cue))
    return out


def custom(steps, limits):
    """(clipped steps, notes) of a custom program; notes say what was clipped."""
    raw = validate_custom(steps)
    clipped = clip_steps(raw, limits)
    notes = []
    for i in range(len(raw)):
        if clipped[i][0] != raw[i][0]:
            notes.append("step %d: target clipped to %d mdeg (cap)" % (i + 1, clipped[i][0]))
        if clipped[i][1] != raw[i][1]:
            notes.append("step %d: hold clipped to %d ms (R2)" % (i + 1, clipped[i][1]))
    return clipped, notes


def parse(text, limits):
    """A custom program from JSON text: (clipped steps, notes)."""
    try:
        steps = json.loads(text)
    except ValueError:
        raise ProgramError("program: not valid JSON")
    return custom(steps, limits)


def check_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        raise ProgramError("name: must be 1-%d characters" % NAME_MAX)
    for ch in name:
        if ch not in _NAME_CHARS:
            raise ProgramError("name: only a-z, 0-9, - and _ are allowed")
    if name in NAMES:
        raise ProgramError("name: %r is a built-in program" % name)


def save_custom(storage, name, steps):
    """Validate and store a custom program (the JSON list of steps)."""
    check_name(name)
    validate_custom(steps)
    storage.write(_RECORD_PREFIX + name, json.dumps(steps).encode())


def load_custom(storage, name, limits):
    """(clipped steps or None, message) of a stored custom program."""
    try:
        check_name(name)
    except ProgramError as exc:
        return None, str(exc)
    payload, reason = storage.read(_RECORD_PREFIX + name)
    if payload is None:
        return None, "program %s: %s" % (name, reason)
    try:
        steps, notes = parse(payload.decode(), limits)
    except (ProgramError, UnicodeError) as exc:
        return None, "program %s: %s" % (name, exc)
    return steps, "; ".join(notes)


def find(name, limits, storage=None):
    """(steps or None, message): a built-in program, else a stored custom one."""
    steps = builtin(name, limits)
    if steps is not None:
        return steps, ""
    if storage is None:
        return None, "unknown program " + repr(name)
    return load_custom(storage, name, limits)
