"""A light stand-in for MicroPython's `machine`, for heap_peak.py.

Small on purpose: heap_peak.py measures the firmware's heap, and everything
here counts against it. On the unix port a machine.py earlier on sys.path
replaces the built-in module, so the firmware's drivers import this one.

Wired for boards/esp32-devkitc-actuator.json (table.wire checks the pins it
relies on). The table is kinematic and in integer maths: with the H-bridge
enabled and the brake released the bed turns at duty * 12 mdeg/s per
permille (12 deg/s at full drive), head-down for a positive (extending)
command; otherwise it stands still (self-locking screw). The MPU-6050 is a
register file: WHO_AM_I, read-back of the configuration, a self-test that
adds the factory-trim response, and the 14-byte burst computed from the bed
angle (+-2 counts of dither, so it never looks frozen). The pot reads the
bed through the board's calibration; the current sense a steady load.
"""
import math

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_NPINS = 40
_level = bytearray(_NPINS)
_mode = bytearray(_NPINS)
_duty = [0] * _NPINS

# 100000 * sin(d degrees), d = 0..90; interpolated per mdeg below.
_SIN = [int(round(math.sin(math.radians(d)) * 100000)) for d in range(91)]


def _sin_mg(mdeg):
    mdeg %= 360000
    if mdeg > 180000:
        mdeg -= 360000
    neg = mdeg < 0
    if neg:
        mdeg = -mdeg
    if mdeg > 90000:
        mdeg = 180000 - mdeg
    i = mdeg // 1000
    v = _SIN[i]
    if i < 90:
        v += (_SIN[i + 1] - v) * (mdeg % 1000) // 1000
    v = (v + 50) // 100
    return -v if neg else v


class Table:
    def __init__(self):
        self.theta_udeg = -70000000
        self.rate_mdeg_s = 0
        self.regs = bytearray(128)
        self.regs[0x75] = 0x68
        # Factory-trim codes for the self-test (register map 4.1): non-zero.
        self.regs[0x0D] = 0x4D
        self.regs[0x0E] = 0x52
        self.regs[0x0F] = 0x6B
        self.regs[0x10] = 0x15
        self.trim = None
        self.cal = None
        self.seed = 12345
        self.uart_rx = bytearray(8)
        self.uart_len = 0

    def wire(self, board, theta_deg=-70):
        hb = board["hbridge"]
        assert (hb["pwm"], hb["dir"], hb["enable"], board["brake"]["pin"]) == (25, 26, 27, 32)
        assert board["imu"]["along"] == "+x" and board["imu"]["normal"] == "+z"
        assert board["position_sensor"]["adc"] == 34 and board["current_sense"]["adc"] == 35
        self.cal = board["position_sensor"]["cal"]
        from drivers.mpu6050 import _factory_trim
        self.trim = _factory_trim(self.regs[0x0D:0x11])
        self.theta_udeg = theta_deg * 1000000
        b = board["buttons"]
        _level[b["stop"]] = 0           # normally closed, active low: released
        for key in ("start", "up", "down", "attendant"):
            _level[b[key]] = 1
        _level[board["estop_sense"]] = 1

    def press(self, pin, pressed_level):
        _level[pin] = pressed_level

    def step(self, dt_ms):
        rate = 0
        if _level[27] and _level[32] == 1:
            duty = _duty[25] * 1000 // 65535
            rate = duty * 12 if _level[26] else -duty * 12
        self.rate_mdeg_s = rate
        self.theta_udeg += rate * dt_ms
        if self.theta_udeg < -72000000:
            self.theta_udeg = -72000000
        elif self.theta_udeg > 92000000:
            self.theta_udeg = 92000000

    def _noise(self):
        self.seed = (self.seed * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.seed >> 16) % 5 - 2

    def imu_read(self, reg, buf):
        # Allocation-free (heap_app.py runs it under heap_lock): integers only.
        if reg != 0x3B:
            for i in range(len(buf)):
                buf[i] = self.regs[reg + i]
            return
        theta = self.theta_udeg // 1000
        lsb = 16384 >> ((self.regs[0x1C] >> 3) & 3)
        st_a = self.regs[0x1C] & 0xE0
        st_g = self.regs[0x1B] & 0xE0
        t = self.trim
        self._put(buf, 0, -_sin_mg(theta) * lsb // 1000 + (t[0] if st_a else 0))
        self._put(buf, 1, t[1] if st_a else 0)
        self._put(buf, 2, _sin_mg(90000 - theta) * lsb // 1000 + (t[2] if st_a else 0))
        buf[6] = 0
        buf[7] = 0
        self._put(buf, 4, t[3] if st_g else 0)
        self._put(buf, 5, self.rate_mdeg_s * 131 // 1000 + (t[4] if st_g else 0))
        self._put(buf, 6, t[5] if st_g else 0)

    def _put(self, buf, word, value):
        w = (value + self._noise()) & 0xFFFF
        buf[2 * word] = w >> 8
        buf[2 * word + 1] = w & 255

    def imu_write(self, reg, value):
        if reg == 0x6B and value & 0x80:
            value = 0x40            # DEVICE_RESET: back to sleep
        self.regs[reg] = value

    def pot_raw(self):
        cal = self.cal
        mdeg = self.theta_udeg // 1000
        if mdeg <= cal[0][1]:
            return cal[0][0]
        i = 1
        while i < len(cal) - 1 and cal[i][1] < mdeg:
            i += 1
        lo = cal[i - 1]
        hi = cal[i]
        return lo[0] + (mdeg - lo[1]) * (hi[0] - lo[0]) // (hi[1] - lo[1])


table = Table()


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self._id = id
        if mode != -1:
            _mode[id] = mode
        if value is not None:
            _level[id] = value

    def value(self, v=None):
        if v is None:
            return _level[self._id]
        _level[self._id] = 1 if v else 0

    def on(self):
        _level[self._id] = 1

    def off(self):
        _level[self._id] = 0


class PWM:
    def __init__(self, pin, freq=5000, duty_u16=0):
        self._id = pin._id
        _duty[self._id] = duty_u16

    def duty_u16(self, d=None):
        if d is None:
            return _duty[self._id]
        _duty[self._id] = d

    def freq(self, f=None):
        return 20000

    def deinit(self):
        _duty[self._id] = 0


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self._id = pin._id

    def read_u16(self):
        if self._id == 34:
            raw = table.pot_raw()
        else:
            # The motor's current follows its load, not its speed: a steady
            # 1.5 A (4 mA per count) while driven, nothing at rest.
            raw = 375 if _level[27] and _duty[25] else 0
        return raw << 4


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000):
        pass

    def readfrom_mem_into(self, addr, reg, buf):
        if addr != 0x68:
            raise OSError(19)
        table.imu_read(reg, buf)

    def writeto_mem(self, addr, reg, buf):
        if addr != 0x68:
            raise OSError(19)
        table.imu_write(reg, buf[0])


class UART:
    def __init__(self, id, baudrate=115200, **kw):
        pass

    def any(self):
        return table.uart_len

    def readinto(self, buf, nbytes=-1):
        n = table.uart_len
        if nbytes >= 0 and nbytes < n:
            n = nbytes
        for i in range(n):
            buf[i] = table.uart_rx[i]
        table.uart_len = 0
        return n

    def write(self, data):
        return len(data)


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.fed = 0

    def feed(self):
        self.fed += 1


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0

    def __init__(self, id=0, **kw):
        pass

    def init(self, **kw):
        pass

    def deinit(self):
        pass


def reset_cause():
    return PWRON_RESET
