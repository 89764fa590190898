"""The angle estimator: what the supervisor and the caps rely on.

Dual-runtime (pytest and tests/mpvm/run.py). Samples are what an ideal IMU
reads on a still bed, with a 1 mg dither so no two samples are identical.
"""
from control.estimator import AngleEstimator
from safety.spec import TICK_MS
from tablerig import cos_mg, sin_mg

DT = TICK_MS


def _sample(e, theta_mdeg, k, rate=0):
    e.update(True, -sin_mg(theta_mdeg) + (k & 1), cos_mg(theta_mdeg), rate, DT)


def _feed(e, theta_mdeg, ticks, rate=0, watch=None):
    worst = 0
    for k in range(ticks):
        _sample(e, theta_mdeg, k, rate)
        err = abs(e.theta_udeg - theta_mdeg * 1000)
        if err > worst:
            worst = err
    return worst


def test_static_tilt_from_the_accelerometer_at_every_angle_of_travel():
    for deg in (-72, -70, -45, -10, 0, 15, 30, 60, 75, 89):
        e = AngleEstimator()
        _feed(e, deg * 1000, 100)                     # 1 s, gyro reads zero
        assert e.seated
        assert abs(e.theta_mdeg() - deg * 1000) <= 60, (deg, e.theta_mdeg())


def test_converges_to_a_new_static_tilt_with_the_gyro_reading_zero():
    e = AngleEstimator()
    _feed(e, 0, 200)
    assert abs(e.theta_udeg) < 60000
    # The accelerometer now says 4 degrees, the gyro still says nothing moved.
    worst = _feed(e, 4000, 3000)                     # 30 s
    assert abs(e.theta_udeg - 4000000) < 100000, e.theta_udeg   # within 0.1 deg
    assert worst < 4100000                           # never further off than at the start
    _feed(e, 4000, 1000)                             # 40 s
    assert abs(e.theta_udeg - 4000000) < 50000, e.theta_udeg


def test_a_large_persistent_disagreement_reseats_the_estimate_within_half_a_second():
    e = AngleEstimator()
    _feed(e, 0, 200)
    _feed(e, 30000, 5)
    assert abs(e.theta_udeg) < 100000                # 50 ms: still taken for a spike
    _feed(e, 30000, 45)
    assert abs(e.theta_udeg - 30000000) < 100000     # reseated by 500 ms


def _spike_run(spike):
    """Steady at 30 deg, one bad sample, then steady again: worst deviation."""
    e = AngleEstimator()
    _feed(e, 30000, 300)
    before = e.theta_udeg
    along, normal, rate = spike
    e.update(True, along, normal, rate, DT)
    worst = abs(e.theta_udeg - before)
    for k in range(100):
        _sample(e, 30000, k)
        d = abs(e.theta_udeg - before)
        if d > worst:
            worst = d
    return worst


def test_a_single_huge_accelerometer_spike_moves_the_estimate_less_than_0_1_deg():
    at30 = (-sin_mg(30000), cos_mg(30000), 0)
    spikes = (
        (8000 + 500, at30[1], 0),          # beyond the accelerometer's plausible range
        (-7900, 7900, 0),                  # ~11 g: a knock, not gravity
        (-2000, 100, 0),                   # 2 g
        (-sin_mg(-60000), cos_mg(-60000), 0),   # 1 g but 90 degrees away
        (-sin_mg(36000), cos_mg(36000), 0),     # 1 g, 6 degrees away
        (at30[0], at30[1], 59000),         # a gyro spike (just under the range)
        (at30[0], at30[1], -45000),
    )
    for spike in spikes:
        worst = _spike_run(spike)
        assert worst < 100000, (spike, worst)


def _bias_run(e, ticks, start=0):
    worst_late = 0
    for k in range(ticks):
        _sample(e, 20000, start + k, rate=2000)       # the gyro reads 2 deg/s of bias
        if k >= ticks - 100:
            worst_late = max(worst_late, abs(e.theta_udeg - 20000000))
    return worst_late


def test_a_gyro_bias_of_2_deg_s_is_learned_within_a_minute():
    # Present from power-up, on a still bed.
    e = AngleEstimator()
    assert _bias_run(e, 6000) < 500000                # within 0.5 deg at 60 s
    assert abs(e.bias_udeg_s - 2000000) < 100000, e.bias_udeg_s
    assert abs(e.bed_rate_mdeg_s) <= 100              # the bed is known to be still
    # Appearing after start-up (a drifting part): learned within a minute too.
    e = AngleEstimator()
    _feed(e, 20000, 200)
    assert abs(e.bias_udeg_s) < 100000
    assert _bias_run(e, 6000, 200) < 500000, e.theta_udeg
    assert abs(e.bias_udeg_s - 2000000) < 100000, e.bias_udeg_s


def test_identical_samples_are_counted_as_frozen_and_a_change_clears_it():
    e = AngleEstimator()
    _feed(e, 10000, 50)
    for k in range(30):
        e.update(True, -174, 985, 3, DT)
    assert e.frozen_ms == 290                        # the first of them was a change
    e.update(True, -174, 985, 3, DT)
    assert e.frozen_ms == 300
    e.update(True, -175, 985, 3, DT)
    assert e.frozen_ms == 0


def test_failed_reads_are_counted_in_no_data_ms_until_a_good_one():
    e = AngleEstimator()
    _feed(e, -20000, 100)
    theta = e.theta_udeg
    for k in range(7):
        e.update(False, 0, 0, 0, DT)
    assert e.no_data_ms == 70
    assert abs(e.theta_udeg - theta) < 10000         # coasting on the last rate (zero)
    _sample(e, -20000, 1)
    assert e.no_data_ms == 0
