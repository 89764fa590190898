"""Integer maths for the control tick.

On the ESP32 every float operation allocates a heap object, so the tick works
in small integers only. These helpers keep every intermediate value below
2**30, the ESP32's small-int limit, for the input ranges documented on each.
"""
import math
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_ATAN_STEPS = const(256)
# atan(i/256) for i in 0..256, in millidegrees. Built once at import, into
# 16-bit entries (a list of ints takes twice that heap on the ESP32, four
# times on a 64-bit VM); the lookup with linear interpolation is within
# 0.001 degree of the true value.
_ATAN_MDEG = array("H", (int(round(math.degrees(math.atan(i / _ATAN_STEPS)) * 1000))
                         for i in range(_ATAN_STEPS + 1)))
_INPUT_LIMIT = const(16000)


def isqrt(n):
    """Floor square root of 0 <= n < 2**30, by Newton's method."""
    if n <= 0:
        return 0
    # A power-of-two first guess at or above the root keeps Newton to a few steps.
    x = 1
    while x * x < n:
        x <<= 1
    y = (x + n // x) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def atan2_mdeg(y, x):
    """Angle of the vector (x, y) in millidegrees, -180000 < result <= 180000.

    Inputs are clamped to +-16000 (16 g in milli-g), which keeps the fixed-point
    ratio below 2**30.
    """
    if y > _INPUT_LIMIT:
        y = _INPUT_LIMIT
    elif y < -_INPUT_LIMIT:
        y = -_INPUT_LIMIT
    if x > _INPUT_LIMIT:
        x = _INPUT_LIMIT
    elif x < -_INPUT_LIMIT:
        x = -_INPUT_LIMIT
    ay = y if y >= 0 else -y
    ax = x if x >= 0 else -x
    if ax == 0 and ay == 0:
        return 0
    if ay <= ax:
        ratio = (ay << 16) // ax
    else:
        ratio = (ax << 16) // ay
    idx = ratio >> 8
    frac = ratio & 255
    base = _ATAN_MDEG[idx]
    if idx < _ATAN_STEPS:
        base += ((_ATAN_MDEG[idx + 1] - base) * frac) >> 8
    # base is atan(min/max) in the first octant; unfold to the right quadrant.
    if ay > ax:
        base = 90000 - base
    if x < 0:
        base = 180000 - base
    if y < 0:
        base = -base
    return base
