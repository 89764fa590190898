"""Emulated `machine` module: the firmware's drivers import it unchanged.

Usage (simulator side)::

    from simulator import machine as sim_machine
    from simulator.board_emul import Board
    emul = Board(board_dict)
    sim_machine.install(emul)   # sys.modules['machine'/'umachine'/'time'/'utime']
    import firmware_main        # its `import machine` gets this module
    ...
    sim_machine.uninstall()     # put the previous modules back

install() binds this one module object (and simulator.vtime, installed as
`time`) to a board; a later run calls install() again with its own board.
Objects (Pin, PWM, ...) bind to the board current when they are made, so
firmware modules that create hardware objects at import time must be
re-imported for each run (drop them from sys.modules). When `micropython`
cannot be imported (CPython) a small stand-in (const, heap_lock, schedule
...) is installed too, unless install(..., micropython_stub=False).

Implemented (ESP32 port behaviour): Pin(id, mode, pull, value=) with
value/on/off/__call__/init/irq/mode/pull, Pin.IN/OUT/OPEN_DRAIN,
PULL_UP/PULL_DOWN, IRQ_RISING/IRQ_FALLING; Signal; PWM(pin, freq=,
duty_u16=, duty_ns=, duty=) with duty_u16/duty/duty_ns/freq/deinit;
ADC(pin, atten=) with read_u16/read/read_uv/atten/width, ATTN_*DB, and a
reading that saturates early unless atten is ATTN_11DB (the sources are
11 dB counts); I2C/SoftI2C(id, scl=, sda=, freq=) with readfrom_mem(_into),
writeto_mem, readfrom(_into), writeto, scan (a missing device raises
OSError(ENODEV=19)); WDT(id=0, timeout=ms).feed(); UART(id, baudrate, ...)
with any/read/readinto/readline/write/txdone/init/deinit; Timer(id) with
init(mode=, period=, freq=, callback=)/deinit, PERIODIC/ONE_SHOT; RTC;
reset_cause/reset/soft_reset/unique_id/freq/idle/lightsleep/deepsleep/
disable_irq/enable_irq and the reset-cause constants.

machine.reset() and a watchdog expiry end the running firmware by raising
MachineReset (a BaseException, so `except Exception` in the firmware does
not swallow it) and leave board.reset_pending set; the runner decides what
the reset means (see board_emul).
"""
import sys

from . import vtime
from .board_emul import (PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET,  # noqa: F401
                         SOFT_RESET, ADC_FULL_SCALE_MV, ATTN_11DB, MachineReset)

PIN_WAKE = 2
EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
TOUCHPAD_WAKE = 5
ULP_WAKE = 6
SLEEP = 2
DEEPSLEEP = 4

_board = None
_saved = None


def current_board():
    """The board emulation install() bound, or None."""
    return _board


def install(board, patch_time=True, micropython_stub=True):
    """Make `import machine` (and `time`) in firmware code use this board."""
    global _board, _saved
    _board = board
    vtime.bind(board.clock, board.fw_sleep_us)
    me = sys.modules[__name__]
    names = ["machine", "umachine", "utime"] + (["time"] if patch_time else [])
    if _saved is None:
        _saved = {}
        for n in names + ["micropython"]:
            _saved[n] = sys.modules.get(n)
    sys.modules["machine"] = me
    sys.modules["umachine"] = me
    sys.modules["utime"] = vtime
    if patch_time:
        sys.modules["time"] = vtime
    if micropython_stub and "micropython" not in sys.modules:
        try:
            import micropython  # noqa: F401
        except ImportError:
            from . import micropython_stub as stub
            sys.modules["micropython"] = stub
    return me


def uninstall():
    """Restore the modules install() replaced."""
    global _board, _saved
    if _saved is not None:
        for n, mod in _saved.items():
            if mod is None:
                if n in sys.modules:
                    del sys.modules[n]
            else:
                sys.modules[n] = mod
    _saved = None
    _board = None


def _need_board():
    if _board is None:
        raise RuntimeError("simulator.machine: install(board) first")
    return _board


def _pin_id(p):
    if isinstance(p, Pin):
        return p._id
    if isinstance(p, int):
        return p
    raise TypeError("expecting a pin")


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    PULL_HOLD = 4
    IRQ_RISING = 1
    IRQ_FALLING = 2
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=-1, pull=-1, value=None, drive=None, hold=None):
        b = _need_board()
        b.check_pin(id)
        self._b = b
        self._id = id
        self._lv = b.level
        self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None, drive=None, hold=None):
        b = self._b
        n = self._id
        if value is not None and mode in (Pin.OUT, Pin.OPEN_DRAIN):
            # the output latch is set before the driver turns on: no glitch
            b.mode[n] = mode
            b.write_pin(n, value)
        b.configure_pin(n, None if mode == -1 else mode, None if pull == -1 else pull)
        if value is not None:
            b.write_pin(n, value)

    def value(self, v=None):
        if v is None:
            return self._lv[self._id]
        self._b.write_pin(self._id, v)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self._b.write_pin(self._id, 1)

    def off(self):
        self._b.write_pin(self._id, 0)

    def toggle(self):
        self._b.write_pin(self._id, 1 - self._lv[self._id])

    def drive(self, d=None):
        return Pin.DRIVE_2 if d is None else None

    def mode(self, m=None):
        if m is None:
            return self._b.mode[self._id]
        self.init(m)

    def pull(self, p=None):
        if p is None:
            return self._b.pull[self._id]
        self.init(-1, p)

    def irq(self, handler=None, trigger=3, wake=None, hard=False):
        if handler is None:
            self._b.irq[self._id] = None
        else:
            self._b.irq[self._id] = (handler, trigger, self)
        return None

    def __repr__(self):
        return "Pin(%d)" % self._id


class Signal:
    def __init__(self, pin, *args, invert=False, **kw):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kw)
        self._inv = 1 if invert else 0

    def value(self, v=None):
        if v is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if v else 0) ^ self._inv)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class PWM:
    def __init__(self, dest, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False):
        b = _need_board()
        n = _pin_id(dest)
        b.check_pin(n)
        if n in b.input_only:
            raise ValueError("pin can only be input")
        self._b = b
        self._id = n
        if b.mode[n] is None:
            b.mode[n] = Pin.OUT
        if freq is None:
            freq = b.pwm_freq[n] if b.pwm_on[n] else 5000
        b.set_pwm(n, freq, b.pwm_duty[n])
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False):
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        elif duty_ns is not None:
            self.duty_ns(duty_ns)
        elif duty is not None:
            self.duty(duty)

    def freq(self, f=None):
        if f is None:
            return self._b.pwm_freq[self._id]
        if not 1 <= f <= 40000000:
            raise ValueError("frequency must be from 1Hz to 40MHz")
        self._b.set_pwm(self._id, int(f), None)

    def duty_u16(self, d=None):
        b = self._b
        n = self._id
        if d is None:
            return b.pwm_duty[n]
        # Board.set_pwm(n, None, d) inlined: the drivers set a duty every tick.
        d = int(d)
        if d < 0:
            d = 0
        elif d > 65535:
            d = 65535
        b.pwm_on[n] = True
        b.pwm_duty[n] = d
        b.drive[n] = d

    def duty(self, d=None):
        if d is None:
            return self._b.pwm_duty[self._id] * 1023 // 65535
        self._b.set_pwm(self._id, None, int(d) * 65535 // 1023)

    def duty_ns(self, ns=None):
        f = self._b.pwm_freq[self._id] or 1
        if ns is None:
            return self._b.pwm_duty[self._id] * 1000000000 // (65535 * f)
        self._b.set_pwm(self._id, None, int(ns) * f * 65535 // 1000000000)

    def deinit(self):
        self._b.stop_pwm(self._id)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12

    def __init__(self, pin, atten=None):
        b = _need_board()
        n = _pin_id(pin)
        if n not in b.adc_pins:
            raise ValueError("invalid Pin for ADC")
        self._b = b
        self._id = n
        self._width = 12
        if atten is not None:
            self.atten(atten)

    def init(self, atten=None):
        if atten is not None:
            self.atten(atten)

    def deinit(self):
        pass

    def atten(self, a):
        if a not in (0, 1, 2, 3):
            raise ValueError("invalid attenuation")
        self._b.adc_atten[self._id] = a

    def width(self, w):
        if w not in (9, 10, 11, 12):
            raise ValueError("invalid width")
        self._width = w

    def read(self):
        return self._b.adc_read12(self._id) >> (12 - self._width)

    def read_u16(self):
        # Board.adc_read12 inlined (read every tick); the ESP32 port scales
        # the 12-bit reading to 16 bits.
        b = self._b
        n = self._id
        src = b.adc_source.get(n)
        raw = src() if src is not None else 0
        atten = b.adc_atten[n]
        if atten != ATTN_11DB:
            raw = raw * ADC_FULL_SCALE_MV[ATTN_11DB] // ADC_FULL_SCALE_MV[atten]
            if raw > 4095:
                raw = 4095
        return raw * 65535 // 4095

    def read_uv(self):
        a = self._b.adc_atten[self._id]
        return self._b.adc_read12(self._id) * ADC_FULL_SCALE_MV[a] * 1000 // 4095


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000, timeout=50000):
        b = _need_board()
        self._b = b
        self._id = id
        self._freq = freq
        self._ptr = {}
        # the bus's live device map; a device reports its own absence
        # (present() False: ENODEV) once found here
        if id not in b.i2c_devices:
            b.i2c_devices[id] = {}
        self._devs = b.i2c_devices[id]
        if scl is not None:
            b.check_pin(_pin_id(scl))
        if sda is not None:
            b.check_pin(_pin_id(sda))

    def init(self, scl=None, sda=None, freq=400000, timeout=50000):
        self._freq = freq

    def deinit(self):
        pass

    def scan(self):
        return self._b.i2c_scan(self._id)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        dev = self._devs.get(addr)
        if dev is None:
            raise OSError(19)
        dev.readinto(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        buf = bytearray(nbytes)
        self._b.i2c_device(self._id, addr).readinto(memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._b.i2c_device(self._id, addr).write(memaddr, buf)

    def writeto(self, addr, buf, stop=True):
        dev = self._b.i2c_device(self._id, addr)
        if len(buf):
            self._ptr[addr] = buf[0]
            if len(buf) > 1:
                dev.write(buf[0], buf[1:])
        return 1  # acks counted the way the port counts them: not relied upon

    def readfrom_into(self, addr, buf, stop=True):
        self._b.i2c_device(self._id, addr).readinto(self._ptr.get(addr, 0), buf)

    def readfrom(self, addr, nbytes, stop=True):
        buf = bytearray(nbytes)
        self.readfrom_into(addr, buf, stop)
        return bytes(buf)


SoftI2C = I2C


class WDT:
    def __init__(self, id=0, timeout=5000):
        b = _need_board()
        if timeout < 1:
            raise ValueError("WDT timeout too short")
        self._b = b
        b.wdt_start(timeout)

    def feed(self):
        # Board.wdt_feed inlined: fed after every tick
        b = self._b
        b.wdt_last_feed_us = b.clock.now_us


class UART:
    INV_TX = 1
    INV_RX = 2
    INV_RTS = 4
    INV_CTS = 8
    RTS = 1
    CTS = 2

    def __init__(self, id, baudrate=115200, *args, **kw):
        b = _need_board()
        self._b = b
        self._id = id
        self._ch = b.uart(id, baudrate)
        self.init(baudrate, **kw)

    def init(self, baudrate=None, bits=8, parity=None, stop=1, tx=None, rx=None,
             txbuf=None, rxbuf=None, timeout=0, timeout_char=0, **kw):
        ch = self._ch
        if baudrate:
            ch.baudrate = baudrate
        if txbuf:
            ch.txbuf = txbuf
        if rxbuf:
            ch.rxbuf = rxbuf

    def deinit(self):
        pass

    def any(self):
        return self._ch.any()

    def read(self, nbytes=-1):
        return self._ch.read(nbytes)

    def readinto(self, buf, nbytes=-1):
        return self._ch.readinto(buf, nbytes)

    def readline(self):
        return self._ch.readline()

    def write(self, buf):
        return self._ch.write(buf)

    def txdone(self):
        return self._ch.txdone()

    def flush(self):
        pass

    def sendbreak(self):
        pass


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=0, **kw):
        b = _need_board()
        self._b = b
        self._t = b.timer(id)
        self._t.handle = self
        if kw:
            self.init(**kw)

    def init(self, mode=PERIODIC, period=-1, freq=-1, callback=None, tick_hz=1000):
        if freq is not None and freq > 0:
            period_us = int(1000000 / freq)
        elif period is not None and period > 0:
            period_us = int(period * 1000000 / tick_hz)
        else:
            raise ValueError("period or freq required")
        self._b.start_timer(self._t, period_us, mode == Timer.PERIODIC, callback)

    def deinit(self):
        self._b.stop_timer(self._t)

    def value(self):
        t = self._t
        if not t.active:
            return 0
        return (t.period_us - (t.due_us - self._b.clock.now_us)) // 1000


class RTC:
    def __init__(self, id=0):
        self._b = _need_board()

    def datetime(self, dt=None):
        if dt is not None:
            return None
        y, mo, d, hh, mm, ss, wd, yd = vtime.gmtime()
        return (y, mo, d, wd, hh, mm, ss, (self._b.clock.now_us % 1000000))

    def init(self, dt=None):
        pass


def reset_cause():
    return _need_board().reset_cause


def reset():
    _need_board().request_reset(HARD_RESET)
    raise MachineReset(HARD_RESET)


def soft_reset():
    _need_board().request_reset(SOFT_RESET)
    raise MachineReset(SOFT_RESET)


def deepsleep(ms=0):
    _need_board().request_reset(DEEPSLEEP_RESET)
    raise MachineReset(DEEPSLEEP_RESET)


def lightsleep(ms=0):
    vtime.sleep_ms(ms if ms > 0 else 1)


def idle():
    # waits for the next interrupt on the chip: the 1 ms tick at the latest
    vtime.sleep_ms(1)


def unique_id():
    b = _need_board()
    h = 2166136261
    for ch in b.name:
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return bytes((0x24, 0x6F, 0x28, (h >> 16) & 255, (h >> 8) & 255, h & 255))


def freq(hz=None):
    b = _need_board()
    if hz is None:
        return b.cpu_hz
    if hz not in (20000000, 40000000, 80000000, 160000000, 240000000):
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    b.cpu_hz = hz


def wake_reason():
    return 0


def time_pulse_us(pin, pulse_level, timeout_us=1000000):
    return -2


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def bootloader():
    reset()
