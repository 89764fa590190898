"""Supervisor and core together, closed around a small integer table
(tablerig.py): the safety behaviours of SPEC R1, R2, R5, R6, R8 and R10 as
the person on the table would see them.

Dual-runtime (pytest and tests/mpvm/run.py).
"""
import math

from tablerig import TableRig

HOME = -70000
TOL = 1000          # SPEC R1: the true angle may exceed the cap by 1.0 degree


def _state(rig):
    c = rig.core
    return (c.setpoint_mdeg, c.setpoint_rate_mdeg_s, c.setpoint_accel_mdeg_s2, c.duty_permille)


def _settled_at_home(rig):
    """The return is over: within 0.5 s the drive is off and the brake on, and
    it stays so (the controller may still nudge the last 0.2 degree)."""
    c = rig.core
    assert c.state == "idle" and abs(rig.theta_mdeg - HOME) < 1500, (c.state, rig.theta_mdeg)
    rig.run_until(lambda r: r.core.brake_engaged and r.core.duty_permille == 0, 50)
    for _ in range(200):
        rig.tick()
        assert c.brake_engaged and c.duty_permille == 0 and c.state == "idle"


def _stop_at(cond, what):
    """Run a 60-degree program, press STOP at the first tick cond(rig) holds."""
    rig = TableRig(profile={"level": 3})
    rig.start([(60000, 60000, "hold")])
    rig.run_until(cond, 6000)
    before = _state(rig)
    rig.core.inputs.stop = True
    rig.tick()
    c = rig.core
    after = _state(rig)
    assert c.state == "emergency_return" and c.trigger_tick and c.event == "stop", (what, c.state)
    # The commanded motion turns toward home (negative) on this very tick.
    turned = after[2] < before[2] or after[1] < before[1]
    assert turned, (what, before, after)
    return rig, before, after


def test_stop_turns_the_setpoint_toward_home_on_the_same_tick():
    moments = (
        ("starting", lambda r: r.core.setpoint_accel_mdeg_s2 > 0 and r.core.setpoint_mdeg > -69000),
        ("accelerating", lambda r: r.core.setpoint_accel_mdeg_s2 == 5000),
        ("cruising", lambda r: r.core.setpoint_rate_mdeg_s == 6000 and r.core.setpoint_mdeg > 0),
        ("braking", lambda r: r.core.setpoint_accel_mdeg_s2 < 0 and r.core.setpoint_mdeg > 50000),
        ("landing", lambda r: (0 < r.core.setpoint_rate_mdeg_s < 200
                               and r.core.setpoint_mdeg > 59000)),
        ("holding", lambda r: r.core.state == "holding"),
    )
    for what, cond in moments:
        rig, before, after = _stop_at(cond, what)
        # The jerk toward home is the full one (80 deg/s^3 while inverted,
        # 40 below horizontal), or the acceleration is at its limit and the
        # speed drops.
        jerk_step = -800 if before[0] > 0 else -400
        assert after[2] - before[2] == jerk_step or after[1] < before[1], (what, before, after)
        # From here its acceleration only falls until it is on its way home.
        top = rig.core.setpoint_mdeg
        a = after[2]
        for _ in range(300):
            rig.tick()
            c = rig.core
            assert c.setpoint_accel_mdeg_s2 <= a or c.setpoint_rate_mdeg_s < 0, (what, a)
            a = c.setpoint_accel_mdeg_s2
            top = max(top, c.setpoint_mdeg)
        assert rig.core.setpoint_rate_mdeg_s < 0 or rig.core.state == "idle", what
        assert top - after[0] < 3000, (what, top, after)      # less than 3 deg of braking


def _ideal_return_s(theta0_deg, home_deg, rate_deg_s, accel_deg_s2):
    """Rate/acceleration-limited time, no jerk limit (SPEC R5): 10 deg/s and
    10 deg/s^2 down to horizontal, arriving there at the normal rate, then the
    normal rate and acceleration to home."""
    ve, ae = 10.0, 10.0
    vn, an = float(rate_deg_s), float(accel_deg_s2)
    d1 = float(theta0_deg)
    t1 = 0.0
    if d1 > 0:
        vp = min(ve, math.sqrt((2 * ae * d1 + vn * vn) / 2))
        t1 = vp / ae + (vp - vn) / ae
        d_ramps = vp * vp / (2 * ae) + (vp * vp - vn * vn) / (2 * ae)
        t1 += (d1 - d_ramps) / vp
    d2 = -float(home_deg)
    t2 = (d2 - vn * vn / (2 * an)) / vn + vn / an
    return t1 + t2


def test_emergency_return_from_60_reaches_home_within_the_ideal_time_plus_2_s():
    rig, before, after = _stop_at(lambda r: r.core.state == "holding", "holding")
    ticks = 1 + rig.run_until(lambda r: r.core.state == "idle", 4000)
    seconds = ticks / 100.0
    limit = _ideal_return_s(60, -70, 6, 5) + 2.0
    assert seconds <= limit, (seconds, limit)
    _settled_at_home(rig)
    # Releasing STOP never restarts the program.
    rig.core.inputs.stop = False
    rig.run(1000)
    assert rig.core.state == "idle" and abs(rig.theta_mdeg - HOME) < 1500


def test_a_missed_heartbeat_while_inverted_starts_the_emergency_return_that_tick():
    for timeout_s in (1.0, 0.3, 5.0):
        rig = TableRig(profile={"level": 3, "heartbeat_timeout_s": timeout_s})
        rig.start("beginner")                    # 20 degrees, 90 s
        rig.run_until(lambda r: r.core.state == "holding", 3000)
        rig.heartbeat = False
        timeout_ms = rig.limits.heartbeat_ms
        while True:
            rig.tick()
            c = rig.core
            late = c.heartbeat_age_ms > timeout_ms
            assert (c.state == "emergency_return") == late, (c.heartbeat_age_ms, c.state)
            if late:
                break
        assert c.event == "heartbeat_lost" and c.setpoint_accel_mdeg_s2 < 0
        assert c.heartbeat_age_ms <= timeout_ms + 10
        # It never pauses while inverted and ends at home with the brake on.
        moving_home = False
        while c.state != "idle":
            rig.tick()
            if c.setpoint_rate_mdeg_s < 0:
                moving_home = True
            elif moving_home and c.setpoint_mdeg > 0:
                raise AssertionError("paused while inverted at %d" % c.setpoint_mdeg)
            assert rig.ticks < 10000
        _settled_at_home(rig)


def test_without_a_heartbeat_the_table_refuses_to_invert():
    rig = TableRig(profile={"level": 3}, heartbeat=False)
    assert rig.cap == 0
    rig.core.inputs.up = True                      # hold UP for 30 s
    top = -90000
    for _ in range(3000):
        rig.tick()
        top = max(top, rig.theta_mdeg)
        assert rig.core.setpoint_mdeg <= 0
    assert top <= 0, top


def _check_cap(rig):
    c = rig.core
    assert c.setpoint_mdeg <= rig.cap, (c.setpoint_mdeg, rig.cap)
    assert rig.theta_mdeg <= rig.cap + TOL, (rig.theta_mdeg, rig.cap)


def test_the_setpoint_never_exceeds_the_cap():
    # Level 1 (cap 40) holding UP: the jog stops at the cap.
    rig = TableRig(profile={"level": 1})
    rig.core.inputs.up = True
    rig.run(12000, _check_cap)
    assert rig.cap == 40000 and rig.core.setpoint_mdeg == 40000
    rig.core.inputs.up = False
    rig.run(100, _check_cap)
    # A program step above the cap (here 90 without the full-inversion unlock).
    rig = TableRig(profile={"level": 4})
    assert rig.cap == 60000
    rig.start([(90000, 3000, "")])
    rig.run_until(lambda r: r.core.state == "holding", 4000, _check_cap)
    assert rig.core.setpoint_mdeg == 60000
    # The beginner cap (30) with the decompression program (its 60-degree
    # hold is clipped to 30).
    rig = TableRig(profile={"level": 0, "preferred_angle": 60})
    rig.start("decompression")
    rig.run(15000, _check_cap)


def test_the_hold_limit_returns_upright_with_a_dwell_at_horizontal():
    rig = TableRig(profile={"level": 3, "hold_s": 20, "dwell_s": 5})
    lim = rig.limits
    assert lim.hold_ms[0] == 20000 and lim.dwell_ms == 5000
    rig.start([(25000, 600000, "a long hold")])   # the program would hold 10 min
    inverted_at = None
    while rig.core.event != "hold_limit":
        rig.tick()
        if inverted_at is None and rig.core.theta_mdeg > 0:
            inverted_at = rig.ticks
        assert rig.ticks < 5000
    c = rig.core
    assert c.state == "returning" and not c.supervisor.alarm
    held_ms = (rig.ticks - inverted_at + 1) * 10
    assert 20000 <= held_ms <= 20010, held_ms
    # To horizontal at no more than the normal rate...
    rig.run_until(lambda r: r.core.setpoint_mdeg == 0 and r.core.setpoint_rate_mdeg_s == 0,
                  2000, lambda r: _check_rate(r, lim.rate_mdeg_s))
    # ...a dwell there...
    dwell = rig.run_until(lambda r: r.core.setpoint_mdeg < 0, 2000)
    assert 490 <= dwell <= 510, dwell
    # ...then home, and the table is free again.
    rig.run_until(lambda r: r.core.state == "idle", 3000, lambda r: _check_rate(r, lim.rate_mdeg_s))
    assert c.event == "home"
    _settled_at_home(rig)


def _check_rate(rig, rate):
    assert abs(rig.core.setpoint_rate_mdeg_s) <= rate


def test_start_skips_the_dwell():
    rig = TableRig(profile={"level": 3, "dwell_s": 180})
    rig.start([(15000, 1000, "")])
    rig.run_until(lambda r: r.core.state == "returning" and r.core.setpoint_mdeg == 0
                  and r.core.setpoint_rate_mdeg_s == 0, 3000)
    rig.run(100)
    assert rig.core.setpoint_mdeg == 0
    rig.press_start()
    rig.run(3)
    assert rig.core.setpoint_rate_mdeg_s < 0


def test_boot_while_inverted_warns_for_3_s_then_returns_slowly():
    rig = TableRig(theta_deg=40, profile={"level": 3}, boot=False)
    c = rig.core
    first_move = None
    alarm_from = None
    while c.state != "idle":
        rig.tick()
        if first_move is None:
            if c.state == "boot":
                # Braked and unpowered while the sensors are checked and the
                # warning sounds.
                assert not c.enable and c.brake_engaged and c.duty_permille == 0
                assert rig.theta_mdeg == 40000
                if c.supervisor.alarm and alarm_from is None:
                    alarm_from = rig.ticks
            else:
                first_move = rig.ticks
                assert c.state == "emergency_return" and c.event == "boot_inverted"
        else:
            assert abs(c.setpoint_rate_mdeg_s) <= 2000  # slow, SPEC R10
        assert rig.ticks < 10000
    assert alarm_from is not None
    assert 300 <= first_move - alarm_from <= 302, (alarm_from, first_move)  # 3 s of warning
    assert first_move <= 300 + 170, first_move     # after at most 1.7 s of self-check
    _settled_at_home(rig)


def test_boot_while_inverted_with_a_failed_self_check_stays_braked_and_alarms():
    rig = TableRig(theta_deg=40, profile={"level": 3}, boot=False)
    rig.core.inputs.selfcheck_ok = False
    rig.run(1000)
    c = rig.core
    assert c.state == "halted" and c.fault == "selfcheck_failed"
    assert not c.enable and c.brake_engaged and c.supervisor.alarm
    assert rig.theta_mdeg == 40000


def test_a_runaway_halts_the_drive_and_engages_the_brake_within_0_3_s():
    for where in ("idle at home", "holding at 20"):
        rig = TableRig(profile={"level": 3})
        if where != "idle at home":
            rig.start("beginner")
            rig.run_until(lambda r: r.core.state == "holding", 3000)
        rig.extra_rate_mdeg_s = 3000          # the bed moves head-down by itself
        start = rig.ticks
        rig.run_until(lambda r: r.core.state == "halted", 30)
        c = rig.core
        assert (rig.ticks - start) * 10 <= 300
        assert c.fault == "runaway" and not c.enable and c.brake_engaged
        assert c.duty_permille == 0
        # While powered down the bed stops, and nothing re-enables the drive.
        rig.extra_rate_mdeg_s = 0
        here = rig.theta_mdeg
        for _ in range(500):
            rig.tick()
            assert not c.enable and c.brake_engaged and c.state == "halted"
        assert rig.theta_mdeg == here


def test_a_contraindicated_profile_never_inverts():
    profile = {"level": 3, "contraindications": ["glaucoma"], "preferred_angle": 60}
    rig = TableRig(profile=profile)
    assert rig.limits.cap_mdeg == 0 and rig.limits.lock == "contraindication"
    top = -90000

    def watch(r):
        assert r.core.setpoint_mdeg <= 0, r.core.setpoint_mdeg
        assert r.cap <= 0 and r.core.cap_mdeg <= 0

    rig.start("decompression")                 # its steps clip to 0 degrees
    for _ in range(8000):
        rig.tick()
        watch(rig)
        top = max(top, rig.theta_mdeg)
    rig.core.inputs.stop = True
    rig.run_until(lambda r: r.core.state == "idle", 3000, watch)
    rig.core.inputs.stop = False
    rig.run(10)
    rig.start([(60000, 5000, "")])             # even an unclipped step
    rig.run(3000, watch)
    rig.core.inputs.stop = True
    rig.run_until(lambda r: r.core.state == "idle", 3000, watch)
    rig.core.inputs.stop = False
    rig.core.inputs.up = True                  # and holding UP
    for _ in range(3000):
        rig.tick()
        watch(rig)
        top = max(top, rig.theta_mdeg)
    assert top <= 300, top                     # at most the controller's settling at 0
