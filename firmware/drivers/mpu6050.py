"""InvenSense MPU-6050 accelerometer + gyro on I2C.

Usage::

    imu = MPU6050(machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21)))
    imu.check()          # OSError if the part is missing or is not an MPU-6050
    imu.configure()      # awake, 1 kHz / 10 = 100 Hz, DLPF 44 Hz, +-2 g, +-250 dps
    if not imu.self_test():
        ...              # refuse to move: the sensor is not trustworthy
    imu.read()           # once per tick: one 14-byte burst, no allocation
    imu.accel_mg(imu.accel_x), imu.gyro_mdeg_s(imu.gyro_y)

IMU interface (a second part gets its own file with the same names, and one
line in imu_parts.py): check(), configure(), self_test() -> bool, read(),
accel_mg(raw), gyro_mdeg_s(raw), and after read() the signed raw counts
accel_x, accel_y, accel_z, gyro_x, gyro_y, gyro_z, temp_raw.

Only WHO_AM_I 0x68 is accepted. Register-compatible look-alikes (MPU-6500
0x70, clones reading 0x72 or 0x98) share the data registers but not this
self-test's factory-trim layout, so their self-test would prove nothing.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

_SELF_TEST_X = const(0x0D)  # 0x0D-0x10: factory trim codes for self-test
_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_XOUT_H = const(0x3B)  # 0x3B-0x48: accel xyz, temp, gyro xyz, big-endian
_PWR_MGMT_1 = const(0x6B)
_WHO_AM_I = const(0x75)

_DEFAULT_ADDR = const(0x68)
_WHO_AM_I_MPU6050 = const(0x68)
_DEVICE_RESET = const(0x80)
_CLKSEL_PLL_GYRO_X = const(0x01)  # the gyro PLL is far more stable than the 8 MHz RC
_GYRO_FS_250DPS = const(0x00)
_ACCEL_FS_2G = const(0x00)
_ACCEL_FS_8G = const(0x10)        # the self-test is specified at +-8 g
_SELF_TEST_BITS = const(0xE0)     # XA_ST/YA_ST/ZA_ST or XG_ST/YG_ST/ZG_ST
_GYRO_RATE_DLPF_HZ = const(1000)  # gyro output rate while the DLPF is on

_ACCEL_LSB_PER_G = const(16384)    # at +-2 g
_GYRO_LSB_PER_DPS = const(131)     # at +-250 deg/s
_ACCEL_HALF_LSB = const(8192)     # _ACCEL_LSB_PER_G // 2, for rounding
_GYRO_HALF_LSB = const(65)        # _GYRO_LSB_PER_DPS // 2

_RESET_MS = const(100)
_SELF_TEST_SETTLE_MS = const(60)   # a few DLPF time constants at 44 Hz
_SELF_TEST_SAMPLES = const(16)
_SELF_TEST_TOLERANCE_PERMILLE = const(140)  # datasheet: within +-14 % of trim


def _sleep_ms(ms):
    # time.sleep_ms on the board; CPython (simulator, tests) has only sleep().
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def _div_round(num, den):
    # Round half away from zero so +x and -x convert symmetrically.
    if num >= 0:
        return (num + den // 2) // den
    return -((-num + den // 2) // den)


class MPU6050:
    def __init__(self, i2c: "machine.I2C", address: int = _DEFAULT_ADDR) -> None:
        self._i2c = i2c
        self._address = address
        self._buf14 = bytearray(14)
        self._buf1 = bytearray(1)
        self._dlpf_cfg = 3
        self._smplrt_div = 9
        self.who_am_i = 0
        self.accel_x = 0
        self.accel_y = 0
        self.accel_z = 0
        self.temp_raw = 0
        self.gyro_x = 0
        self.gyro_y = 0
        self.gyro_z = 0
        # Per axis (ax, ay, az, gx, gy, gz), for the fault log.
        self.self_test_deviation_permille = [0, 0, 0, 0, 0, 0]

    def _write(self, reg, value):
        self._buf1[0] = value
        self._i2c.writeto_mem(self._address, reg, self._buf1)

    def _read(self, reg):
        self._i2c.readfrom_mem_into(self._address, reg, self._buf1)
        return self._buf1[0]

    def check(self):
        """Raise OSError unless an MPU-6050 answers at the address."""
        try:
            self.who_am_i = self._read(_WHO_AM_I)
        except OSError as exc:
            raise OSError("MPU-6050 not answering at I2C 0x%02x (%s)" % (self._address, exc))
        if self.who_am_i != _WHO_AM_I_MPU6050:
            raise OSError("I2C 0x%02x: WHO_AM_I 0x%02x, not an MPU-6050 (0x68)"
                          % (self._address, self.who_am_i))

    def configure(self, dlpf_cfg=3, sample_rate_hz=100):
        """Reset, wake, and set filter, rate and full scales; verify by reading back."""
        if not 1 <= dlpf_cfg <= 6:
            # 0 and 7 switch the gyro to 8 kHz with no filter: too noisy to tilt a person by.
            raise ValueError("dlpf_cfg must be 1..6")
        if not 4 <= sample_rate_hz <= _GYRO_RATE_DLPF_HZ:
            raise ValueError("sample_rate_hz must be 4..1000")
        self._dlpf_cfg = dlpf_cfg
        self._smplrt_div = _GYRO_RATE_DLPF_HZ // sample_rate_hz - 1
        self._write(_PWR_MGMT_1, _DEVICE_RESET)
        _sleep_ms(_RESET_MS)
        self._write(_PWR_MGMT_1, _CLKSEL_PLL_GYRO_X)
        self._apply(_GYRO_FS_250DPS, _ACCEL_FS_2G)

    def _apply(self, gyro_config, accel_config):
        settings = (
            (_SMPLRT_DIV, self._smplrt_div),
            (_CONFIG, self._dlpf_cfg),
            (_GYRO_CONFIG, gyro_config),
            (_ACCEL_CONFIG, accel_config),
            (_PWR_MGMT_1, _CLKSEL_PLL_GYRO_X),
        )
        for reg, value in settings:
            self._write(reg, value)
        # A part that acks but does not keep its settings would report the
        # wrong scale; read back rather than trust the bus.
        for reg, value in settings:
            got = self._read(reg)
            if got != value:
                raise OSError("MPU-6050 register 0x%02x reads 0x%02x, wrote 0x%02x"
                              % (reg, got, value))

    def read(self):
        """One burst read of accel, temperature and gyro into the raw attributes."""
        buf = self._buf14
        self._i2c.readfrom_mem_into(self._address, _ACCEL_XOUT_H, buf)
        # Big-endian int16 pairs decoded inline (a helper call per value
        # would be most of this method's time): v - ((v & 0x8000) << 1)
        # subtracts 0x10000 when the sign bit is set.
        v = (buf[0] << 8) | buf[1]
        self.accel_x = v - ((v & 0x8000) << 1)
        v = (buf[2] << 8) | buf[3]
        self.accel_y = v - ((v & 0x8000) << 1)
        v = (buf[4] << 8) | buf[5]
        self.accel_z = v - ((v & 0x8000) << 1)
        v = (buf[6] << 8) | buf[7]
        self.temp_raw = v - ((v & 0x8000) << 1)
        v = (buf[8] << 8) | buf[9]
        self.gyro_x = v - ((v & 0x8000) << 1)
        v = (buf[10] << 8) | buf[11]
        self.gyro_y = v - ((v & 0x8000) << 1)
        v = (buf[12] << 8) | buf[13]
        self.gyro_z = v - ((v & 0x8000) << 1)

    def accel_mg(self, raw):
        # _div_round(raw * 1000, _ACCEL_LSB_PER_G) written out (three calls a
        # tick). |raw| <= 32768, so raw * 1000 stays a small int on the ESP32.
        num = raw * 1000
        if num >= 0:
            return (num + _ACCEL_HALF_LSB) // _ACCEL_LSB_PER_G
        return -((_ACCEL_HALF_LSB - num) // _ACCEL_LSB_PER_G)

    def gyro_mdeg_s(self, raw):
        # _div_round(raw * 1000, _GYRO_LSB_PER_DPS) written out.
        num = raw * 1000
        if num >= 0:
            return (num + _GYRO_HALF_LSB) // _GYRO_LSB_PER_DPS
        return -((_GYRO_HALF_LSB - num) // _GYRO_LSB_PER_DPS)

    def _average(self):
        sums = [0, 0, 0, 0, 0, 0]
        for _ in range(_SELF_TEST_SAMPLES):
            self.read()
            sums[0] += self.accel_x
            sums[1] += self.accel_y
            sums[2] += self.accel_z
            sums[3] += self.gyro_x
            sums[4] += self.gyro_y
            sums[5] += self.gyro_z
            _sleep_ms(1000 // (_GYRO_RATE_DLPF_HZ // (self._smplrt_div + 1)))
        return [s // _SELF_TEST_SAMPLES for s in sums]

    def self_test(self):
        """Datasheet self-test: response must be within 14 % of the factory trim.

        Run at boot with the table braked: motion during the test adds to the
        response. Leaves the part configured as configure() did.
        """
        self._apply(_GYRO_FS_250DPS, _ACCEL_FS_8G)
        _sleep_ms(_SELF_TEST_SETTLE_MS)
        off = self._average()
        self._apply(_GYRO_FS_250DPS | _SELF_TEST_BITS, _ACCEL_FS_8G | _SELF_TEST_BITS)
        _sleep_ms(_SELF_TEST_SETTLE_MS)
        on = self._average()
        self._apply(_GYRO_FS_250DPS, _ACCEL_FS_2G)
        trim = bytearray(4)
        self._i2c.readfrom_mem_into(self._address, _SELF_TEST_X, trim)
        factory = _factory_trim(trim)
        passed = True
        for i in range(6):
            ft = factory[i]
            if ft == 0:
                # Trim code 0 means "no trim stored": nothing to compare against.
                self.self_test_deviation_permille[i] = 1000
                passed = False
                continue
            deviation = _div_round((on[i] - off[i] - ft) * 1000, abs(ft))
            self.self_test_deviation_permille[i] = deviation
            if abs(deviation) > _SELF_TEST_TOLERANCE_PERMILLE:
                passed = False
        _sleep_ms(_SELF_TEST_SETTLE_MS)
        return passed


def _factory_trim(trim):
    """Factory-trim self-test responses in counts (register map rev 4.2, 4.1).

    Floats are fine here: this runs once at boot, never in the tick.
    """
    accel_codes = (
        ((trim[0] >> 3) & 0x1C) | ((trim[3] >> 4) & 0x03),
        ((trim[1] >> 3) & 0x1C) | ((trim[3] >> 2) & 0x03),
        ((trim[2] >> 3) & 0x1C) | (trim[3] & 0x03),
    )
    result = []
    for code in accel_codes:
        if code == 0:
            result.append(0)
        else:
            result.append(int(4096 * 0.34 * (0.92 / 0.34) ** ((code - 1) / 30)))
    for axis in range(3):
        code = trim[axis] & 0x1F
        if code == 0:
            result.append(0)
            continue
        ft = int(25 * 131 * 1.046 ** (code - 1))
        # The datasheet's Y gyro trim is negative: its self-test deflects the other way.
        result.append(-ft if axis == 1 else ft)
    return result
