"""IMU axes mapped to the bed frame."""
import pytest

from drivers.bedframe import BedFrame, parse_axis, pitch_axis
from drivers.mpu6050 import MPU6050


@pytest.fixture
def rig(machine):
    part = machine.FakeMPU6050()
    machine.i2c_devices[0x68] = part
    return part, MPU6050(machine.I2C(0))


def test_actuator_board_axes(rig):
    part, imu = rig
    frame = BedFrame(imu, "+x", "+z", "+y")
    part.set_accel(-8192, 123, 14189)    # ~ theta = +30: along -0.5 g, normal 0.866 g
    part.set_gyro(0, 1310, 0)
    imu.read()
    frame.update()
    assert frame.along_mg == -500
    assert frame.normal_mg == 866
    assert frame.pitch_rate_mdeg_s == 10000


def test_brake_board_axes_flip_sign(rig):
    part, imu = rig
    frame = BedFrame(imu, "-y", "+z", "+x")
    part.set_accel(0, 8192, 16384)
    part.set_gyro(-262, 0, 0)
    imu.read()
    frame.update()
    assert frame.along_mg == -500
    assert frame.normal_mg == 1000
    assert frame.pitch_rate_mdeg_s == -2000


def test_update_uses_latest_read(rig):
    part, imu = rig
    frame = BedFrame(imu, "+x", "+z", "+y")
    part.set_accel(16384, 0, 0)
    imu.read()
    frame.update()
    assert frame.along_mg == 1000
    part.set_accel(-16384, 0, 0)
    imu.read()
    frame.update()
    assert frame.along_mg == -1000


@pytest.mark.parametrize("axis", ["x", "+w", "++x", "", "+X"])
def test_bad_axis_string_refused(axis):
    with pytest.raises(ValueError):
        parse_axis(axis)


def test_repeated_axis_refused(rig):
    _, imu = rig
    with pytest.raises(ValueError, match="three different axes"):
        BedFrame(imu, "+x", "-x", "+y")


def test_pitch_axis_is_normal_cross_along():
    assert pitch_axis("+x", "+z") == "+y"    # esp32-devkitc-actuator
    assert pitch_axis("-y", "+z") == "+x"    # esp32s3-brake
    assert pitch_axis("+z", "+x") == "-y"
    assert pitch_axis("-x", "-z") == "+y"
