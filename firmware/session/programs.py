"""Built-in programs (SPEC R7) as lists of steps.

A step is (target_mdeg, hold_ms, cue): move to the target, hold it, and show
the cue when the step begins. Every target is clipped to the cap in force and
every hold to the R2 ceiling of its band, here and again by the supervisor
while it runs.
"""
from safety.limits import band_of

CUE_NONE = ""


def _swings(count, low_mdeg, high_mdeg):
    steps = []
    for i in range(count):
        steps.append((high_mdeg, 0, "swing %d of %d" % (i + 1, count)))
        steps.append((low_mdeg, 0, ""))
    return steps


def _preferred(limits):
    # The decompression hold is taken at 20, 40 or 60 degrees: the preset at
    # or below the profile's preferred angle.
    pref = limits.preferred_mdeg
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
