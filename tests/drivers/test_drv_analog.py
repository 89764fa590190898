"""Position sensor calibration and fault flags; current sense scaling."""
import pytest

from drivers.analog import RAIL_MARGIN_COUNTS, CurrentSense, PositionSensor

CAL = [[400, -72000], [3700, 92000]]
CAL3 = [[300, -70000], [2000, 0], [3800, 90000]]
FALLING = [[500, 90000], [3500, -70000]]


def sensor(machine, cal, raw=None):
    if raw is not None:
        machine.analog[34] = raw
    return PositionSensor(machine.ADC(machine.Pin(34), atten=machine.ADC.ATTN_11DB), cal)


@pytest.mark.parametrize("cal", [CAL, CAL3, FALLING])
def test_exact_at_calibration_points(machine, cal):
    position = sensor(machine, cal)
    for raw, mdeg in cal:
        machine.analog[34] = raw
        position.read()
        assert position.ok
        assert position.angle_mdeg == mdeg


@pytest.mark.parametrize("cal,step", [(CAL, 1), (CAL3, 1), (FALLING, -1)])
def test_monotonic_between_points(machine, cal, step):
    position = sensor(machine, cal)
    previous = None
    for raw in range(RAIL_MARGIN_COUNTS, 4096 - RAIL_MARGIN_COUNTS):
        angle = position.angle_of(raw)
        if previous is not None:
            assert (angle - previous) * step >= 0
        previous = angle


def test_midpoint_interpolates(machine):
    position = sensor(machine, CAL, raw=2050)
    position.read()
    assert position.angle_mdeg == 10000


def test_outside_table_clamps_to_ends(machine):
    position = sensor(machine, CAL)
    assert position.angle_of(300) == -72000
    assert position.angle_of(3900) == 92000


@pytest.mark.parametrize("raw", [0, 5, RAIL_MARGIN_COUNTS - 1, 4095, 4096 - RAIL_MARGIN_COUNTS])
def test_rail_readings_flag_not_ok_and_keep_last_angle(machine, raw):
    position = sensor(machine, CAL, raw=2050)
    position.read()
    machine.analog[34] = raw
    position.read()
    assert position.ok is False
    assert position.raw == raw
    assert position.angle_mdeg == 10000


def test_not_ok_before_first_read(machine):
    assert sensor(machine, CAL).ok is False


def test_calibration_must_increase(machine):
    with pytest.raises(ValueError):
        sensor(machine, [[400, 0], [400, 1000]])
    with pytest.raises(ValueError):
        sensor(machine, [[400, 0]])


def test_current_sense_scaling(machine):
    current = CurrentSense(machine.ADC(machine.Pin(35)), ma_per_count=4, offset_counts=2048)
    machine.analog[35] = 2548
    current.read()
    assert current.current_ma == 2000
    machine.analog[35] = 2000
    current.read()
    assert current.current_ma == -192
    assert current.raw == 2000
