"""Integer maths of the tick: the angle and the square root are exact enough.

Dual-runtime: plain functions and bare asserts, run by pytest and by
tests/mpvm/run.py on the MicroPython VM.
"""
import math

from control.imath import atan2_mdeg, isqrt


def _true_mdeg(y, x):
    return math.degrees(math.atan2(y, x)) * 1000.0


def test_atan2_within_5_millidegrees_over_a_grid_in_all_quadrants():
    worst = 0.0
    values = list(range(-16000, 16001, 400)) + [-7, -3, -1, 1, 3, 7]
    for y in values:
        for x in values:
            if x == 0 and y == 0:
                continue
            got = atan2_mdeg(y, x)
            err = abs(got - _true_mdeg(y, x))
            if err > 180000:          # -180 and +180 are the same direction
                err = abs(err - 360000)
            if err > worst:
                worst = err
            assert err <= 5.0, (y, x, got, _true_mdeg(y, x))
    assert worst > 0.0                # the comparison really ran


def test_atan2_on_the_axes_and_diagonals_is_exact():
    assert atan2_mdeg(0, 1000) == 0
    assert atan2_mdeg(1000, 0) == 90000
    assert atan2_mdeg(0, -1000) == 180000
    assert atan2_mdeg(-1000, 0) == -90000
    assert atan2_mdeg(1000, 1000) == 45000
    assert atan2_mdeg(-1000, -1000) == -135000
    assert atan2_mdeg(0, 0) == 0


def test_atan2_of_bed_accelerations_gives_the_tilt_in_each_quadrant():
    # theta = atan2(-along, normal) with along = -1000 sin, normal = 1000 cos.
    for deg in (-170, -120, -90, -70, -30, -1, 0, 1, 30, 60, 90, 120, 170):
        along = int(round(-1000 * math.sin(math.radians(deg))))
        normal = int(round(1000 * math.cos(math.radians(deg))))
        got = atan2_mdeg(-along, normal)
        assert abs(got - _true_mdeg(-along, normal)) <= 5.0, (deg, got)
        assert abs(got - deg * 1000) <= 60, (deg, got)   # 1 mg rounding of the inputs


def test_atan2_result_range_is_minus_180_exclusive_to_plus_180():
    for y in (-1, 0, 1):
        got = atan2_mdeg(y, -16000)
        assert -180000 < got <= 180000, (y, got)


def _check_isqrt(n):
    r = isqrt(n)
    assert r * r <= n < (r + 1) * (r + 1), (n, r)


def test_isqrt_is_the_exact_floor_square_root():
    for n in range(0, 5000):
        _check_isqrt(n)
    for k in range(1, 32768, 97):          # around every kind of perfect square
        for n in (k * k - 1, k * k, k * k + 1):
            _check_isqrt(n)
    n = 1
    while n < (1 << 30):
        _check_isqrt(n - 1)
        _check_isqrt(n)
        _check_isqrt(n * 3 // 2)
        n <<= 1
    _check_isqrt((1 << 30) - 1)
    assert isqrt(0) == 0 and isqrt(-5) == 0
