"""H-bridge drivers: fail-safe start, direction, clamping, no shoot-through."""
import pytest

from drivers.hbridge import In1In2Bridge, PwmDirBridge


@pytest.fixture
def pwm_dir(machine):
    enable = machine.Pin(27, machine.Pin.OUT, value=1)   # even if left high before
    direction = machine.Pin(26, machine.Pin.OUT, value=1)
    pwm = machine.PWM(machine.Pin(25), freq=20000, duty_u16=40000)
    return PwmDirBridge(pwm, direction, enable, True), pwm, direction, enable


@pytest.fixture
def in1_in2(machine):
    enable = machine.Pin(27, machine.Pin.OUT, value=1)
    in1 = machine.PWM(machine.Pin(25), freq=20000, duty_u16=1000)
    in2 = machine.PWM(machine.Pin(26), freq=20000, duty_u16=1000)
    return In1In2Bridge(in1, in2, enable, False), in1, in2, enable


def test_pwm_dir_starts_off(pwm_dir):
    bridge, pwm, _, enable = pwm_dir
    assert pwm.duty == 0
    assert enable.level == 0
    assert bridge.duty_permille == 0 and not bridge.enabled


def test_in1_in2_starts_off(in1_in2):
    bridge, in1, in2, enable = in1_in2
    assert in1.duty == 0 and in2.duty == 0
    assert enable.level == 0
    assert not bridge.enabled


def test_positive_and_negative_duty_set_dir(pwm_dir):
    bridge, pwm, direction, _ = pwm_dir
    bridge.enable(True)
    bridge.set_duty(500)
    assert direction.level == 1
    assert pwm.duty == 32767
    bridge.set_duty(-250)
    assert direction.level == 0
    assert pwm.duty == 16383
    assert bridge.duty_permille == -250


def test_duty_is_clamped(pwm_dir, in1_in2):
    bridge, pwm, direction, _ = pwm_dir
    bridge.set_duty(5000)
    assert pwm.duty == 65535 and bridge.duty_permille == 1000
    bridge.set_duty(-5000)
    assert pwm.duty == 65535 and direction.level == 0 and bridge.duty_permille == -1000
    bridge2, in1, in2, _ = in1_in2
    bridge2.set_duty(-1001)
    assert in2.duty == 65535 and in1.duty == 0


def test_dir_never_flips_under_drive(machine, pwm_dir):
    bridge, _, _, _ = pwm_dir
    bridge.set_duty(800)
    machine.recording = True
    bridge.set_duty(-800)
    assert machine.events == [("pwm", 25, 0), ("pin", 26, 0), ("pwm", 25, 52428)]


def test_zero_duty_keeps_dir(pwm_dir):
    bridge, pwm, direction, _ = pwm_dir
    bridge.set_duty(-300)
    bridge.set_duty(0)
    assert pwm.duty == 0 and direction.level == 0


def test_in1_in2_direction_and_no_overlap(machine, in1_in2):
    bridge, in1, in2, _ = in1_in2
    machine.recording = True
    bridge.set_duty(400)
    assert in1.duty == 26214 and in2.duty == 0
    bridge.set_duty(-400)
    assert in1.duty == 0 and in2.duty == 26214
    # Replay the writes: IN1 and IN2 are never both driven.
    duty = {25: 0, 26: 0}
    for kind, pin, value in machine.events:
        duty[pin] = value
        assert duty[25] == 0 or duty[26] == 0


def test_off_drops_drive_and_enable(pwm_dir, in1_in2):
    for bridge, first, _, enable in (pwm_dir, in1_in2):
        bridge.enable(True)
        bridge.set_duty(700)
        bridge.off()
        assert first.duty == 0
        assert enable.level == 0
        assert not bridge.enabled and bridge.duty_permille == 0


def test_positive_duty_extends_is_reported(pwm_dir, in1_in2):
    assert pwm_dir[0].positive_duty_extends is True
    assert in1_in2[0].positive_duty_extends is False
