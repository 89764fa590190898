"""Buzzer and LED pattern players."""
import pytest

from drivers.indicators import ALARM, Buzzer, Led


@pytest.fixture
def led(machine):
    return Led(machine.Pin(2, machine.Pin.OUT, value=1))


def levels(player, pin, times):
    out = []
    for now in times:
        player.update(now)
        out.append(pin.level)
    return out


def test_constructed_off(machine, led):
    assert machine.pins[2].level == 0
    pwm = machine.PWM(machine.Pin(23), freq=2700, duty_u16=30000)
    Buzzer(pwm)
    assert pwm.duty == 0


def test_pattern_plays_once(machine, led):
    led.play((30, 20, 30))
    assert levels(led, machine.pins[2], range(0, 120, 10)) == \
        [1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    assert not led.playing


def test_pattern_repeats_until_off(machine, led):
    led.play((20, 20), repeat=True)
    assert levels(led, machine.pins[2], range(0, 100, 10)) == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1]
    led.off()
    assert levels(led, machine.pins[2], range(100, 200, 10)) == [0] * 10


def test_late_tick_skips_whole_steps(machine, led):
    led.play((10, 10, 10, 10, 10), repeat=False)
    led.update(0)
    led.update(45)       # inside the fifth step (on)
    assert machine.pins[2].level == 1
    led.update(50)
    assert machine.pins[2].level == 0 and not led.playing


def test_buzzer_tone_on_off(machine):
    pwm = machine.PWM(machine.Pin(23), freq=2700, duty_u16=0)
    buzzer = Buzzer(pwm)
    buzzer.on()
    assert pwm.duty == 32768
    buzzer.play(ALARM)
    buzzer.update(0)
    buzzer.update(ALARM[0])
    assert pwm.duty == 0
    buzzer.off()
    assert pwm.duty == 0


@pytest.mark.parametrize("pattern", [(0,), (10, 0), (-5, 10)])
def test_non_positive_steps_refused(led, pattern):
    with pytest.raises(ValueError):
        led.play(pattern, repeat=True)
