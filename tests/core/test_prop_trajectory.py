"""CPython only (hypothesis): the trajectory under random moves and random
mid-course changes of target and limits.

A change is only asked for when it is physically possible without breaking a
limit: a new target behind the direction of travel, or ahead by more than a
generous stopping distance; new limits that keep the current target
reachable and do not cut the acceleration limit below the acceleration in
progress. Within that, on every tick: |a| <= accel, |delta a| <= jerk * dt,
the speed changes only by the acceleration (no step), |v| <= rate + 1 mdeg/s
(right after a change of limits: no more than the speed then plus the a^2/2J
the acceleration in progress still adds under the new jerk limit), the
setpoint never passes its final target, and it lands on it exactly, in
bounded time.
"""
from hypothesis import HealthCheck, given, settings, strategies as st

from control.trajectory import Trajectory
from safety.spec import TICK_MS

DT = TICK_MS
ANGLE = st.integers(-72000, 92000)
RATE = st.integers(500, 10000)
ACCEL = st.integers(1000, 10000)
JERK = st.integers(20000, 100000)


def stop_distance_mdeg(v, a, amax, jerk):
    """Generous distance to come to rest from speed v, acceleration a (both
    toward the direction of travel), with the generator's braking plan
    (7/8 of the acceleration, half the jerk)."""
    v = abs(v)
    ab = amax * 7 / 8
    jb = jerk / 2
    ramp = max(a, 0) / jerk
    s = v + max(a, 0) * ramp / 2
    d = v * ramp + s * s / (2 * ab) + s * ab / jb + v * DT / 1000
    return 2 * d + 200


def feasible(t, target, amax, jerk):
    v = t.velocity_mdeg_s
    a = t.accel_mdeg_s2
    ahead = target - t.position_mdeg()
    if v == 0 and a == 0:
        return True
    direction = 1 if (v > 0 or (v == 0 and a > 0)) else -1
    if ahead * direction < 0:
        return True                                   # behind: brake, come back
    return ahead * direction > stop_distance_mdeg(v, a * direction, amax, jerk)


CHANGE = st.tuples(st.integers(1, 2500), st.sampled_from(("target", "limits", "both")),
                   ANGLE, RATE, ACCEL, JERK)


def check_step(t, lim, prev_v, prev_a, done, v_cap):
    rate, amax, jerk = lim
    v = t.velocity_mdeg_s
    a = t.accel_mdeg_s2
    assert -amax <= a <= amax, (a, amax)
    j_step = jerk * DT // 1000
    dv_bound = max(abs(a), abs(prev_a)) * DT // 1000 + 1
    if done and -20 <= prev_v <= 20:
        # The landing onto the target (see test_trajectory.Watch).
        j_step *= 2
        dv_bound = max(dv_bound, 20)
    assert abs(a - prev_a) <= j_step, (prev_a, a, j_step)
    assert abs(v - prev_v) <= dv_bound, (prev_v, v, prev_a, a)
    # One unit of slack: the speed loop can settle up to 1 mdeg/s (0.001
    # deg/s) over the rate when limits change mid-move.
    assert abs(v) <= v_cap + 1, (prev_v, v, rate, v_cap)


def speed_cap(t, rate, jerk):
    """The rate, or just after the limits changed, the speed in progress plus
    what the acceleration still adds while the jerk limit ramps it to zero."""
    v = abs(t.velocity_mdeg_s)
    a = t.accel_mdeg_s2 if t.velocity_mdeg_s >= 0 else -t.accel_mdeg_s2
    # a^2/2J, plus half a tick of a: the ramp is in 10 ms steps.
    grow = a * a // (2 * jerk) + a * DT // 2000 + 1 if a > 0 else 0
    return max(rate, v + grow)


@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(start=ANGLE, target=ANGLE, rate=RATE, accel=ACCEL, jerk=JERK,
       changes=st.lists(CHANGE, max_size=5))
def test_random_moves_and_changes_stay_within_limits_and_land_exactly(
        start, target, rate, accel, jerk, changes):
    t = Trajectory()
    t.reset(start)
    lim = (rate, accel, jerk)
    t.set_limits(*lim)
    t.set_target(target)
    plan = {}
    for at, kind, new_target, new_rate, new_accel, new_jerk in changes:
        plan[at] = (kind, new_target, (new_rate, new_accel, new_jerk))
    last_change = 0
    approach = None                      # sign of (target - pos) after the last change
    prev_v = prev_a = 0
    v_cap = rate
    tick = 0
    while True:
        tick += 1
        if tick in plan:
            kind, new_target, new_lim = plan[tick]
            want_target = new_target if kind != "limits" else t.target_mdeg()
            want_lim = lim
            if kind != "target":
                # Never ask the acceleration in progress to jump down.
                want_lim = (new_lim[0], max(new_lim[1], abs(t.accel_mdeg_s2)), new_lim[2])
            if feasible(t, want_target, want_lim[1], want_lim[2]):
                lim = want_lim
                v_cap = speed_cap(t, lim[0], lim[2])
                t.set_limits(*lim)
                t.set_target(want_target)
                last_change = tick
                approach = None
        done = t.step(DT)
        check_step(t, lim, prev_v, prev_a, done, v_cap)
        v, a = t.velocity_mdeg_s, t.accel_mdeg_s2
        if (v >= 0 and a <= 0) or (v <= 0 and a >= 0):
            # Not speeding up: the allowance of the last change is used up.
            v_cap = max(lim[0], min(v_cap, abs(v)))
        prev_v, prev_a = t.velocity_mdeg_s, t.accel_mdeg_s2
        if tick >= last_change:
            gap = t.target_udeg - t.pos_udeg
            sign = (gap > 0) - (gap < 0)
            if approach is None:
                approach = sign
            elif sign != 0:
                assert sign == approach, "passed the target"
        if done and tick > max(plan or [0]):
            break
        # Bounded: the longest move (164 deg at 0.5 deg/s) is 330 s.
        assert tick < last_change + 40000, "never arrived"
    assert t.pos_udeg == t.target_udeg and t.vel_udeg_s == 0 and t.accel_mdeg_s2 == 0
    assert t.step(DT) and t.pos_udeg == t.target_udeg
