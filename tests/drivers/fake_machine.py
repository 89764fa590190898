"""A minimal stand-in for MicroPython's machine module, for the driver tests.

Runs on CPython and on the MicroPython unix port (installed as
sys.modules["machine"]). The world outside the chip is module state that a
test sets before or after the board is built:

    external[4] = 0         # something drives GPIO 4 low (a closed contact)
    del external[4]         # the wire is cut: the pin reads its pull
    analog[34] = 2048       # 12-bit level on an ADC pin
    i2c_devices[0x68] = FakeMPU6050()

Reads never allocate, so the drivers can be run under micropython.heap_lock().
Set recording = True to log output writes in events (allocates).
"""

external = {}
analog = {}
i2c_devices = {}
pins = {}
uarts = {}
created = []      # (kind, id, mode_or_freq, value) in creation order
events = []       # ("pin", id, value) / ("pwm", id, duty) when recording
recording = False
watchdogs = []


def reset():
    external.clear()
    analog.clear()
    i2c_devices.clear()
    pins.clear()
    uarts.clear()
    del created[:]
    del events[:]
    del watchdogs[:]
    global recording
    recording = False


def _pin_id(pin):
    return pin.id if isinstance(pin, Pin) else pin


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self.level = 0 if value is None else (1 if value else 0)
        pins[id] = self
        created.append(("Pin", id, mode, value))

    def value(self, x=None):
        if x is None:
            if self.mode == Pin.OUT:
                return self.level
            level = external.get(self.id)
            if level is not None:
                return level
            return 1 if self.pull == Pin.PULL_UP else 0
        self.level = 1 if x else 0
        if recording:
            events.append(("pin", self.id, self.level))

    def __call__(self, x=None):
        return self.value(x)


class PWM:
    def __init__(self, dest, freq=0, duty_u16=0):
        self.pin = dest
        self.id = _pin_id(dest)
        self._freq = freq
        self.duty = duty_u16
        created.append(("PWM", self.id, freq, duty_u16))

    def duty_u16(self, value=None):
        if value is None:
            return self.duty
        if not 0 <= value <= 65535:
            raise ValueError("duty_u16 out of range")
        self.duty = value
        if recording:
            events.append(("pwm", self.id, value))

    def freq(self, value=None):
        if value is None:
            return self._freq
        self._freq = value


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.id = _pin_id(pin)
        self.atten = atten
        created.append(("ADC", self.id, atten, None))

    def read_u16(self):
        # The ESP32 port scales its 12-bit result up to 16 bits.
        return analog.get(self.id, 0) << 4


class I2C:
    def __init__(self, id, scl=None, sda=None, freq=400000):
        self.bus_id = id
        self.scl = scl
        self.sda = sda
        self.freq = freq
        created.append(("I2C", id, freq, None))

    def _device(self, addr):
        device = i2c_devices.get(addr)
        if device is None:
            raise OSError(19)  # ENODEV: nobody acked the address
        return device

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._device(addr).read_into(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes):
        buf = bytearray(nbytes)
        self._device(addr).read_into(memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._device(addr).write(memaddr, buf)


class UART:
    def __init__(self, id, baudrate=9600, **kwargs):
        self.uart_id = id
        self.baudrate = baudrate
        self.kwargs = kwargs
        self.rx = bytearray()
        self.rx_index = 0
        self.tx = bytearray()
        self.tx_room = 1 << 20
        uarts[id] = self
        created.append(("UART", id, baudrate, None))

    def feed(self, data):
        """Test hook: bytes arrive from the host."""
        self.rx.extend(data)

    def any(self):
        return len(self.rx) - self.rx_index

    def readinto(self, buf, nbytes=None):
        if nbytes is None:
            nbytes = len(buf)
        count = 0
        while count < nbytes and self.rx_index < len(self.rx):
            buf[count] = self.rx[self.rx_index]
            self.rx_index += 1
            count += 1
        return count if count else None

    def write(self, data):
        taken = len(data) if len(data) <= self.tx_room else self.tx_room
        self.tx.extend(data[:taken])
        self.tx_room -= taken
        return taken


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        watchdogs.append(self)

    def feed(self):
        self.feeds += 1


# --- An MPU-6050 on the fake I2C bus ------------------------------------------

_ST_REGS = 0x0D
_GYRO_CONFIG = 0x1B
_ACCEL_CONFIG = 0x1C
_DATA = 0x3B
_PWR_MGMT_1 = 0x6B
_WHO_AM_I = 0x75


def _trim_accel(code):
    # Register map rev 4.2, section 4.1 (accel, at +-8 g).
    if code == 0:
        return 0
    return 4096 * 0.34 * (0.92 / 0.34) ** ((code - 1) / (2 ** 5 - 2))


def _trim_gyro(code, negative):
    if code == 0:
        return 0
    value = 25 * 131 * 1.046 ** (code - 1)
    return -value if negative else value


class FakeMPU6050:
    """Register map with chosen outputs; self-test adds the factory-trim response."""

    def __init__(self, who_am_i=0x68):
        self.regs = bytearray(128)
        self.regs[_WHO_AM_I] = who_am_i
        self.regs[_PWR_MGMT_1] = 0x40  # asleep after power-up
        self.accel = [0, 0, 16384]
        self.gyro = [0, 0, 0]
        self.temp = 0
        self.self_test_scale = 1.0      # 1.0 = a healthy part
        self.set_trim(accel=(16, 16, 16), gyro=(16, 16, 16))

    def set_trim(self, accel, gyro):
        """5-bit factory trim codes per axis, packed as the part stores them."""
        regs = self.regs
        for axis in range(3):
            regs[_ST_REGS + axis] = ((accel[axis] >> 2) << 5) | (gyro[axis] & 0x1F)
        regs[_ST_REGS + 3] = ((accel[0] & 3) << 4) | ((accel[1] & 3) << 2) | (accel[2] & 3)
        self._trim_codes = (accel, gyro)
        self._refresh()

    def set_accel(self, x, y, z):
        self.accel = [x, y, z]
        self._refresh()

    def set_gyro(self, x, y, z):
        self.gyro = [x, y, z]
        self._refresh()

    def _refresh(self):
        accel_codes, gyro_codes = self._trim_codes
        accel_st = self.regs[_ACCEL_CONFIG] & 0xE0
        gyro_st = self.regs[_GYRO_CONFIG] & 0xE0
        values = []
        for axis in range(3):
            value = self.accel[axis]
            if accel_st & (0x80 >> axis):
                value += int(_trim_accel(accel_codes[axis]) * self.self_test_scale)
            values.append(value)
        values.append(self.temp)
        for axis in range(3):
            value = self.gyro[axis]
            if gyro_st & (0x80 >> axis):
                value += int(_trim_gyro(gyro_codes[axis], axis == 1) * self.self_test_scale)
            values.append(value)
        for i in range(7):
            word = max(-32768, min(32767, values[i])) & 0xFFFF
            self.regs[_DATA + 2 * i] = word >> 8
            self.regs[_DATA + 2 * i + 1] = word & 0xFF

    def read_into(self, memaddr, buf):
        regs = self.regs
        for i in range(len(buf)):
            buf[i] = regs[memaddr + i]

    def write(self, memaddr, buf):
        for i in range(len(buf)):
            self.regs[memaddr + i] = buf[i]
        if memaddr == _PWR_MGMT_1 and buf[0] & 0x80:
            who = self.regs[_WHO_AM_I]
            trims = bytes(self.regs[_ST_REGS:_ST_REGS + 4])
            for i in range(len(self.regs)):
                self.regs[i] = 0
            self.regs[_WHO_AM_I] = who
            self.regs[_ST_REGS:_ST_REGS + 4] = trims
            self.regs[_PWR_MGMT_1] = 0x40
        self._refresh()
