"""MPU-6050 driver against the fake register map."""
import pytest

from drivers.mpu6050 import MPU6050


@pytest.fixture
def part(machine):
    device = machine.FakeMPU6050()
    machine.i2c_devices[0x68] = device
    return device


@pytest.fixture
def imu(machine, part):
    return MPU6050(machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21)), 0x68)


def test_check_accepts_mpu6050(imu):
    imu.check()
    assert imu.who_am_i == 0x68


def test_check_missing_part_names_the_address(machine):
    imu = MPU6050(machine.I2C(0), 0x69)
    with pytest.raises(OSError, match="not answering at I2C 0x69"):
        imu.check()


def test_check_refuses_lookalike(machine):
    machine.i2c_devices[0x68] = machine.FakeMPU6050(who_am_i=0x70)
    imu = MPU6050(machine.I2C(0))
    with pytest.raises(OSError, match="WHO_AM_I 0x70"):
        imu.check()


def test_configure_wakes_and_sets_scales(imu, part, no_sleep):
    imu.configure(dlpf_cfg=3, sample_rate_hz=100)
    regs = part.regs
    assert regs[0x6B] == 0x01          # awake, PLL on gyro X
    assert regs[0x1A] == 3             # DLPF 44 Hz
    assert regs[0x19] == 9             # 1 kHz / (1 + 9) = 100 Hz
    assert regs[0x1B] == 0x00          # +-250 deg/s
    assert regs[0x1C] == 0x00          # +-2 g


@pytest.mark.parametrize("dlpf_cfg", [0, 7])
def test_configure_refuses_unfiltered_modes(imu, dlpf_cfg, no_sleep):
    with pytest.raises(ValueError):
        imu.configure(dlpf_cfg=dlpf_cfg)


def test_read_decodes_signed_counts(imu, part):
    part.set_accel(-16384, 32767, -32768)
    part.set_gyro(-131, 1, -1)
    part.temp = -521
    part._refresh()
    imu.read()
    assert (imu.accel_x, imu.accel_y, imu.accel_z) == (-16384, 32767, -32768)
    assert (imu.gyro_x, imu.gyro_y, imu.gyro_z) == (-131, 1, -1)
    assert imu.temp_raw == -521


def test_conversions_are_symmetric_integers(imu):
    assert imu.accel_mg(16384) == 1000
    assert imu.accel_mg(-16384) == -1000
    assert imu.accel_mg(8192) == 500
    assert imu.accel_mg(-8192) == -500
    assert imu.gyro_mdeg_s(131) == 1000
    assert imu.gyro_mdeg_s(-131) == -1000
    assert imu.gyro_mdeg_s(-32768) == -imu.gyro_mdeg_s(32768)
    assert isinstance(imu.accel_mg(12345), int)


def test_self_test_passes_healthy_part_and_restores_config(imu, part, no_sleep):
    imu.configure()
    assert imu.self_test() is True
    assert all(abs(d) <= 140 for d in imu.self_test_deviation_permille)
    assert part.regs[0x1B] == 0x00 and part.regs[0x1C] == 0x00


def test_self_test_fails_weak_response(imu, part, no_sleep):
    imu.configure()
    part.self_test_scale = 0.5
    assert imu.self_test() is False
    assert imu.self_test_deviation_permille[0] < -140


def test_self_test_fails_without_factory_trim(imu, part, no_sleep):
    part.set_trim(accel=(16, 16, 16), gyro=(16, 0, 16))
    imu.configure()
    assert imu.self_test() is False


def test_self_test_fails_on_stuck_output(imu, part, no_sleep):
    # A part whose outputs never move: no self-test deflection at all.
    imu.configure()
    part.self_test_scale = 0.0
    assert imu.self_test() is False
