"""The `time` module the firmware sees in the simulator.

machine.install(board) binds it to the board's VirtualClock and puts it in
sys.modules as `time` and `utime`. It is one module object for the whole
process: firmware modules imported during an earlier run keep working when
a later run binds another clock.

On CPython anything MicroPython's time does not have (perf_counter,
monotonic, strftime ...) is looked up on the real time module, so a
library imported after install still finds it. time()/time_ns()/
localtime()/gmtime() follow the virtual clock, starting at EPOCH_S.

Sleeping advances virtual time; if the watchdog (or machine.reset())
reset the board meanwhile, the sleep raises machine.MachineReset, so a
firmware stuck in a sleep loop is unwound as the chip would be.
"""
try:
    import time as _real
except ImportError:  # pragma: no cover
    _real = None
if _real is not None and _real.__name__ not in ("time", "utime"):
    # Imported again after install() put this very module in as `time`.
    _real = None

from .clock import VirtualClock, TICKS_MAX, TICKS_HALFPERIOD

# 2026-01-01 00:00:00 UTC, in seconds since 1970 (what time.time() counts on
# a MicroPython port with the Unix epoch).
EPOCH_S = 1767225600

_clk = VirtualClock()
_sleeper = None


def bind(clock, sleeper=None):
    """Point the module at `clock`; sleeps go through sleeper(us) when given
    (board_emul.Board.fw_sleep_us: runs timers, raises on a reset)."""
    global _clk, _sleeper
    _clk = clock
    _sleeper = sleeper


def clock():
    return _clk


def ticks_ms():
    c = _clk
    return ((c.now_us + c._offset_us) // 1000) & TICKS_MAX


def ticks_us():
    c = _clk
    return (c.now_us + c._offset_us) & TICKS_MAX


def ticks_cpu():
    return ticks_us()


def ticks_add(ticks, delta):
    return (ticks + delta) & TICKS_MAX


def ticks_diff(new, old):
    return ((new - old + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD


def sleep_ms(ms):
    if _sleeper is None:
        _clk.sleep_ms(ms)
    elif ms > 0:
        _sleeper(int(ms) * 1000)


def sleep_us(us):
    if _sleeper is None:
        _clk.sleep_us(us)
    elif us > 0:
        _sleeper(int(us))


def sleep(seconds):
    if _sleeper is None:
        _clk.sleep(seconds)
    elif seconds > 0:
        _sleeper(int(seconds * 1000000 + 0.5))


def time():
    return EPOCH_S + _clk.now_us // 1000000


def time_ns():
    return (EPOCH_S * 1000000 + _clk.now_us) * 1000


def _civil(seconds):
    # Days-from-civil inverse (H. Hinnant), so no host time zone leaks in.
    days = seconds // 86400
    rem = seconds - days * 86400
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    wday = (days + 3) % 7  # 1970-01-01 was a Thursday; MicroPython: Monday = 0
    jan1 = _days_from_civil(y, 1, 1)
    return (y, m, d, rem // 3600, (rem // 60) % 60, rem % 60, wday, days - jan1 + 1)


def _days_from_civil(y, m, d):
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def gmtime(seconds=None):
    return _civil(time() if seconds is None else int(seconds))


def localtime(seconds=None):
    return gmtime(seconds)


def mktime(tup):
    y, m, d, hh, mm, ss = tup[0], tup[1], tup[2], tup[3], tup[4], tup[5]
    return _days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss


def __getattr__(name):
    if _real is not None and name[:2] != "__":
        return getattr(_real, name)
    raise AttributeError(name)
