"""Fail-safe brake: engaged from construction."""
from drivers.brake import Brake


def test_constructed_engaged(machine):
    pin = machine.Pin(32, machine.Pin.OUT, value=1)   # even if left releasing
    brake = Brake(pin, release_level=1, engage_ms=40)
    assert brake.engaged
    assert pin.level == 0
    assert brake.engage_ms == 40


def test_release_and_engage(machine):
    pin = machine.Pin(32, machine.Pin.OUT, value=0)
    brake = Brake(pin, release_level=1)
    brake.release()
    assert not brake.engaged and pin.level == 1
    brake.engage()
    assert brake.engaged and pin.level == 0


def test_active_low_release(machine):
    pin = machine.Pin(10, machine.Pin.OUT, value=1)
    brake = Brake(pin, release_level=0)
    assert brake.engaged and pin.level == 1
    brake.release()
    assert pin.level == 0
