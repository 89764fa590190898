"""The actuator's position controller: reversal dead time (SPEC R4),
anti-windup and stall detection (SPEC R10).

Dual-runtime (pytest and tests/mpvm/run.py).
"""
from control.actuator_ctl import (ActuatorController, build_ff_table, DUTY_MAX,
                                  STALL_DUTY, STALL_MS)
from safety.spec import REVERSAL_DEAD_MS, TICK_MS

DT = TICK_MS
RATE_PER_PERMILLE = 12      # the bed turns 12 deg/s at full drive


def _ctl():
    return ActuatorController(build_ff_table(None, 12.0))


def _reversals(duties):
    """(zero ticks between, from sign, to sign) for every sign change."""
    out = []
    last_sign = 0
    zeros = 0
    for d in duties:
        if d == 0:
            zeros += 1
            continue
        sign = 1 if d > 0 else -1
        if last_sign != 0 and sign != last_sign:
            out.append((zeros, last_sign, sign))
        last_sign = sign
        zeros = 0
    return out


def test_the_drive_never_reverses_without_200_ms_at_zero():
    ctl = _ctl()
    theta = 0
    rate = 0
    sp = 0
    duties = []
    # A setpoint that sweeps up and down at 4 deg/s, flipping every 1.5 s,
    # then every 0.3 s, then every tick: each flip asks for a reversal.
    for period in (150, 30, 7, 1):
        for k in range(600):
            up = (k // period) % 2 == 0
            sp_rate = 4000 if up else -4000
            sp += sp_rate * DT // 1000
            duty = ctl.update(sp, sp_rate, theta, rate, 0, 0, DT)
            duties.append(duty)
            rate = duty * RATE_PER_PERMILLE
            theta += rate * DT // 1000
    flips = _reversals(duties)
    assert len(flips) >= 10                       # the setpoint really asked, often
    for zeros, a, b in flips:
        assert zeros * DT >= REVERSAL_DEAD_MS, (zeros, a, b)
    assert max(duties) > 0 and min(duties) < 0


def test_a_reversal_waits_exactly_the_dead_time_and_reports_it():
    ctl = _ctl()
    assert ctl.update(10000, 0, 0, 0, 0, 0, DT) > 0      # push head-down
    blocked = 0
    while True:
        duty = ctl.update(-10000, 0, 0, 0, 0, 0, DT)     # now the other way
        if duty != 0:
            break
        assert ctl.reversal_blocked
        blocked += 1
        assert blocked < 100
    assert duty < 0 and not ctl.reversal_blocked
    assert blocked * DT == REVERSAL_DEAD_MS


def test_the_integral_is_bounded_and_does_not_wind_up_while_saturated():
    ctl = _ctl()
    # A stuck bed 30 degrees behind the setpoint: the output saturates at once
    # and the integral must not grow behind it.
    for _ in range(1000):                         # 10 s
        duty = ctl.update(30000, 0, 0, 0, 0, 0, DT)
        assert duty == DUTY_MAX
        assert ctl.integ_permille == 0
    # A small persistent error (1 deg): P alone is 150, the integral grows to
    # its bound (700) and stops there, both ways.
    for sign in (1, -1):
        ctl = _ctl()
        peak = 0
        for _ in range(1000):
            duty = ctl.update(sign * 1000, 0, 0, 0, 0, 0, DT)
            peak = max(peak, abs(ctl.integ_permille))
            assert abs(ctl.integ_permille) <= 700
            assert abs(duty) <= DUTY_MAX
        assert peak == 700 and ctl.integ_permille == sign * 700
    # Released from a long saturation, the output follows the error at once:
    # no wound-up integral keeps pushing past the setpoint.
    ctl = _ctl()
    for _ in range(1000):
        ctl.update(30000, 0, 0, 0, 0, 0, DT)
    duty = ctl.update(30000, 0, 32000, 0, 0, 0, DT)   # the bed is 2 deg past it
    assert duty <= 0 and ctl.reversal_blocked          # wants to come back at once


def test_stall_after_300_ms_saturated_at_standstill_not_before():
    ctl = _ctl()
    for k in range(STALL_MS // DT - 1):           # 290 ms
        duty = ctl.update(40000, 0, 0, 0, 0, 0, DT)
        assert duty >= STALL_DUTY
        assert not ctl.stalled, k
    ctl.update(40000, 0, 0, 0, 0, 0, DT)          # 300 ms
    ctl.update(40000, 0, 0, 0, 0, 0, DT)          # 310 ms
    assert ctl.stalled


def test_no_stall_while_the_bed_turns_or_the_drive_is_moderate():
    ctl = _ctl()
    for _ in range(300):                          # 3 s saturated but turning
        ctl.update(40000, 6000, 0, 6000, 0, 0, DT)
    assert not ctl.stalled
    ctl = _ctl()
    for _ in range(300):                          # saturated and turning slowly
        duty = ctl.update(40000, 0, 0, 400, 0, 0, DT)
        assert duty >= STALL_DUTY
    assert not ctl.stalled
    ctl = _ctl()
    for _ in range(300):                          # standing still, moderate drive
        duty = ctl.update(500, 0, 0, 0, 0, 0, DT)
        assert duty < STALL_DUTY
    assert not ctl.stalled
    ctl = _ctl()
    # Saturated standstill that breaks free just before 300 ms, twice.
    for _ in range(2):
        for _ in range(29):
            ctl.update(40000, 0, 0, 0, 0, 0, DT)
        ctl.update(40000, 0, 0, 5000, 0, 0, DT)
    assert not ctl.stalled


def test_over_current_for_100_ms_is_a_stall():
    ctl = _ctl()
    for _ in range(9):
        ctl.update(2000, 0, 0, 1000, 9000, 7000, DT)
    assert not ctl.stalled
    ctl.update(2000, 0, 0, 1000, 9000, 7000, DT)
    assert ctl.stalled


def _run_move(ctl, breakaway_permille, ticks, rate_limit_mdeg_s):
    """A setpoint moving at 6 deg/s from rest, on a bed that does not move
    until the drive passes breakaway_permille (a load to lift), then turns
    RATE_PER_PERMILLE per permille above it. Returns the bed's peak speed."""
    ctl.rate_limit_mdeg_s = rate_limit_mdeg_s
    theta = sp = rate = 0
    peak = 0
    for _ in range(ticks):
        sp += 6000 * DT // 1000
        duty = ctl.update(sp, 6000, theta, rate, 0, 0, DT)
        rate = max(0, duty - breakaway_permille) * RATE_PER_PERMILLE
        theta += rate * DT // 1000
        peak = max(peak, rate)
    return peak, theta, sp


def test_a_bed_that_broke_away_late_catches_up_within_the_rate_in_force():
    # Without the governor it would catch up faster than the setpoint moves.
    peak, _, _ = _run_move(_ctl(), 200, 600, 0)
    assert peak > 6600
    peak, theta, sp = _run_move(_ctl(), 200, 600, 6000)
    assert peak <= 6060                         # it reacts a tick late
    assert sp - theta < 3000                    # and it still follows


def test_leaving_a_hold_the_drive_follows_the_setpoint_from_its_first_tick():
    # Settled with the bed 0.3 degree below the setpoint (stiction held it
    # there after a while of pushing), then a STOP turns the setpoint toward
    # home: the first moving tick already drives that way, not up toward
    # where the setpoint was.
    ctl = _ctl()
    for _ in range(300):
        duty = ctl.update(60000, 0, 59700, 0, 0, 0, DT)
    assert ctl.settled and duty == 0
    duty = ctl.update(59999, -4, 59700, 0, 0, 0, DT)
    assert duty < 0
