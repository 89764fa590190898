"""MPU-6050 register model: axes and signs, noise, registers, faults."""
import importlib.util
import math
import os
import struct

import pytest

from simrig import ACTUATOR, BRAKE, REPO

ADDR_KEY = "address"


def open_imu(rig, wake=True, dlpf=3, div=9):
    cfg = rig.board["imu"]
    m = rig.m
    i2c = m.I2C(cfg["i2c_id"], scl=m.Pin(cfg["scl"]), sda=m.Pin(cfg["sda"]), freq=cfg["freq_hz"])
    addr = cfg[ADDR_KEY]
    if wake:
        i2c.writeto_mem(addr, 0x6B, b"\x01")
        i2c.writeto_mem(addr, 0x1A, bytes([dlpf]))
        i2c.writeto_mem(addr, 0x19, bytes([div]))
        rig.emul.advance(60)
    return i2c, addr


def read_words(i2c, addr):
    buf = bytearray(14)
    i2c.readfrom_mem_into(addr, 0x3B, buf)
    return struct.unpack(">7h", buf)


def axis(words, name, offset):
    return (1 if name[0] == "+" else -1) * words[offset + "xyz".index(name[1])]


def bed(board, words):
    """(along_g, normal_g, pitch_dps) through the board's axis mapping."""
    cfg = board["imu"]
    return (axis(words, cfg["along"], 0) / 16384.0, axis(words, cfg["normal"], 0) / 16384.0,
            axis(words, cfg["pitch"], 4) / 131.0)


def mean_bed(rig, i2c, addr, n=50):
    acc = [0.0, 0.0, 0.0]
    for _ in range(n):
        rig.emul.advance(10)
        v = bed(rig.board, read_words(i2c, addr))
        for i in range(3):
            acc[i] += v[i] / n
    return acc


@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
def test_level_reads_zero_along_one_g_normal(rig_factory, name):
    rig = rig_factory(name, theta_deg=0.0)
    i2c, addr = open_imu(rig)
    along, normal, _ = mean_bed(rig, i2c, addr)
    assert along == pytest.approx(0.0, abs=0.015)
    assert normal == pytest.approx(1.0, abs=0.015)


@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
@pytest.mark.parametrize("theta", [-60.0, 30.0, 75.0])
def test_head_down_sign_and_estimator(rig_factory, name, theta):
    """along reads -sin(theta) g: theta = atan2(-along, normal)."""
    rig = rig_factory(name, theta_deg=theta)
    i2c, addr = open_imu(rig)
    along, normal, _ = mean_bed(rig, i2c, addr)
    assert along == pytest.approx(-math.sin(math.radians(theta)), abs=0.015)
    assert normal == pytest.approx(math.cos(math.radians(theta)), abs=0.015)
    assert math.degrees(math.atan2(-along, normal)) == pytest.approx(theta, abs=0.5)


def test_at_plus_30_along_reads_minus_half_g(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=30.0)
    i2c, addr = open_imu(rig)
    along, _, _ = mean_bed(rig, i2c, addr)
    assert along == pytest.approx(-0.5, abs=0.01)


@pytest.mark.parametrize("name", [ACTUATOR, BRAKE])
def test_gyro_reads_the_rate(rig_factory, name):
    rig = rig_factory(name, theta_deg=0.0)
    i2c, addr = open_imu(rig)
    imu = rig.plant.imu
    pitch_axis = rig.board["imu"]["pitch"]
    bias = (1 if pitch_axis[0] == "+" else -1) * imu.gyro_bias["xyz".index(pitch_axis[1])]
    if rig.pwm is not None:
        rig.release_brake()
        rig.drive(1.0)
    else:
        rig.plant.set_arms(True)
        rig.release_brake()
    rig.run(1.5)
    errs = []
    for _ in range(30):
        rig.plant.step()
        rig.emul.advance(10)
        _, _, rate = bed(rig.board, read_words(i2c, addr))
        errs.append(rate - bias - rig.plant.rate_deg_s)
    assert rig.plant.rate_deg_s > 5.0
    assert abs(sum(errs) / len(errs)) < 0.5


def test_power_on_sleep_reads_zeros_until_woken(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=20.0)
    i2c, addr = open_imu(rig, wake=False)
    assert i2c.readfrom_mem(addr, 0x75, 1) == b"\x68"
    assert i2c.readfrom_mem(addr, 0x6B, 1) == b"\x40"
    rig.emul.advance(100)
    assert read_words(i2c, addr) == (0,) * 7
    i2c.writeto_mem(addr, 0x6B, b"\x01")
    assert read_words(i2c, addr) == (0,) * 7      # gyro start-up time
    rig.emul.advance(40)
    assert read_words(i2c, addr) != (0,) * 7
    # DEVICE_RESET: back to sleep, self-clearing
    i2c.writeto_mem(addr, 0x6B, b"\x80")
    assert i2c.readfrom_mem(addr, 0x6B, 1) == b"\x40"


def test_power_cycle_puts_the_imu_back_to_sleep(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig)
    rig.plant.power_off()
    rig.plant.power_on()
    assert i2c.readfrom_mem(addr, 0x6B, 1) == b"\x40"
    assert read_words(i2c, addr) == (0,) * 7


def test_config_registers_read_back_and_sample_rate(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig, dlpf=3, div=9)          # 100 Hz
    for reg, val in ((0x19, 9), (0x1A, 3), (0x1B, 0), (0x1C, 0), (0x6B, 1)):
        assert i2c.readfrom_mem(addr, reg, 1)[0] == val
    a = read_words(i2c, addr)
    rig.emul.advance(4)
    assert read_words(i2c, addr) == a                # same 10 ms sample period
    rig.emul.advance(6)
    assert read_words(i2c, addr) != a


def test_full_scale_changes_the_lsb(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    i2c, addr = open_imu(rig)
    i2c.writeto_mem(addr, 0x1C, b"\x10")              # +-8 g: 4096 LSB/g
    rig.emul.advance(10)
    normal = axis(read_words(i2c, addr), rig.board["imu"]["normal"], 0)
    assert normal == pytest.approx(4096, abs=60)


def test_freeze_gives_identical_bytes(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig)
    rig.plant.inject_fault("imu_freeze")
    first = read_words(i2c, addr)
    for _ in range(20):
        rig.emul.advance(10)
        assert read_words(i2c, addr) == first
    rig.plant.clear_fault("imu_freeze")
    rig.emul.advance(10)
    assert read_words(i2c, addr) != first


def test_missing_device_raises_enodev_and_leaves_the_scan(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig)
    assert addr in i2c.scan()
    rig.plant.inject_fault("imu_missing")
    with pytest.raises(OSError) as err:
        read_words(i2c, addr)
    assert err.value.args[0] == 19
    with pytest.raises(OSError):
        i2c.writeto_mem(addr, 0x6B, b"\x01")
    assert i2c.scan() == []
    rig.plant.clear_fault("imu_missing")
    read_words(i2c, addr)


def test_bus_error_raises_eio(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig)
    rig.plant.inject_fault("imu_bus_error")
    with pytest.raises(OSError) as err:
        read_words(i2c, addr)
    assert err.value.args[0] == 5
    rig.plant.inject_fault("imu_bus_error", rate=0.3)
    fails = 0
    for _ in range(200):
        try:
            read_words(i2c, addr)
        except OSError:
            fails += 1
    assert 30 < fails < 100


def test_spikes_are_occasional_huge_outliers(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=0.0)
    i2c, addr = open_imu(rig)
    rig.plant.inject_fault("imu_spike")
    outliers = 0
    for _ in range(400):
        rig.emul.advance(10)
        w = read_words(i2c, addr)
        if max(abs(v) for v in w[:3]) > 24000 and max(abs(v) for v in w[4:]) > 15000:
            outliers += 1
    assert 5 <= outliers <= 45


def test_bias_fault_offsets_the_tilt(rig_factory):
    rig = rig_factory(BRAKE, theta_deg=10.0)
    i2c, addr = open_imu(rig)
    rig.plant.inject_fault("imu_bias", value=6.0)
    rig.emul.advance(20)
    along, normal, _ = mean_bed(rig, i2c, addr)
    assert math.degrees(math.atan2(-along, normal)) == pytest.approx(16.0, abs=0.5)


def test_vibration_grows_with_motor_speed(rig_factory):
    rig = rig_factory(ACTUATOR, theta_deg=-20.0)
    i2c, addr = open_imu(rig, dlpf=0)

    def spread():
        vals = []
        for _ in range(100):
            rig.plant.step()
            rig.emul.advance(10)
            vals.append(bed(rig.board, read_words(i2c, addr))[1])
        m = sum(vals) / len(vals)
        return math.sqrt(sum((v - m) ** 2 for v in vals) / len(vals))

    still = spread()
    rig.release_brake()
    rig.drive(1.0)
    moving = spread()
    assert moving > 2.0 * still


def _datasheet_self_test(i2c, addr, rig):
    """Self-test response (on - off) against the factory trim, as the datasheet does."""
    def avg():
        acc = [0.0] * 6
        for _ in range(10):
            rig.emul.advance(10)
            w = read_words(i2c, addr)
            for i, v in enumerate(w[:3] + w[4:]):
                acc[i] += v / 10.0
        return acc

    i2c.writeto_mem(addr, 0x1B, b"\x00")
    i2c.writeto_mem(addr, 0x1C, b"\x10")
    rig.emul.advance(50)
    off = avg()
    i2c.writeto_mem(addr, 0x1B, b"\xe0")
    i2c.writeto_mem(addr, 0x1C, b"\xf0")
    rig.emul.advance(50)
    on = avg()
    t = i2c.readfrom_mem(addr, 0x0D, 4)
    codes_a = [((t[i] >> 3) & 0x1C) | ((t[3] >> (4 - 2 * i)) & 3) for i in range(3)]
    codes_g = [t[i] & 0x1F for i in range(3)]
    ft = [4096 * 0.34 * (0.92 / 0.34) ** ((c - 1) / 30.0) for c in codes_a]
    ft += [25 * 131 * 1.046 ** (c - 1) * (-1 if i == 1 else 1) for i, c in enumerate(codes_g)]
    return [(on[i] - off[i] - ft[i]) / abs(ft[i]) for i in range(6)]


def test_self_test_response_matches_factory_trim(rig_factory):
    rig = rig_factory(ACTUATOR)
    i2c, addr = open_imu(rig)
    for dev in _datasheet_self_test(i2c, addr, rig):
        assert abs(dev) < 0.05


def test_firmware_driver_self_test_passes(rig_factory):
    path = os.path.join(REPO, "firmware", "drivers", "mpu6050.py")
    if not os.path.exists(path):
        pytest.skip("no firmware MPU-6050 driver yet")
    rig = rig_factory(ACTUATOR, theta_deg=-70.0)
    cfg = rig.board["imu"]
    # loaded fresh, after install(), so its `import time` is the virtual one
    spec = importlib.util.spec_from_file_location("sim_test_mpu6050", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    i2c = rig.m.I2C(cfg["i2c_id"], scl=rig.m.Pin(cfg["scl"]), sda=rig.m.Pin(cfg["sda"]))
    imu = mod.MPU6050(i2c, cfg[ADDR_KEY])
    imu.check()
    imu.configure()
    assert imu.self_test(), imu.self_test_deviation_permille
    rig.emul.advance(10)
    imu.read()
    along = axis((imu.accel_x, imu.accel_y, imu.accel_z), cfg["along"], 0) / 16384.0
    assert along == pytest.approx(-math.sin(math.radians(-70.0)), abs=0.02)


def test_board_with_impossible_axes_is_refused():
    from simrig import load_board
    from simulator.plant import Plant
    board = load_board(ACTUATOR)
    board["imu"] = dict(board["imu"], pitch="-y")
    with pytest.raises(ValueError):
        Plant(board, None, 1)
