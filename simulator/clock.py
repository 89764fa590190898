"""Virtual clock with the semantics of MicroPython's time.ticks_* functions.

Usage::

    clk = VirtualClock()
    t0 = clk.ticks_ms()
    clk.advance(10)                      # 10 ms of virtual time pass
    clk.ticks_diff(clk.ticks_ms(), t0)   # 10

Time is kept as an integer count of microseconds since the clock was made
(`now_us`, never wraps). The ticks values wrap like MicroPython's: they
live in [0, TICKS_PERIOD) with TICKS_PERIOD = 2**30 (the port's small-int
range), so ticks_us wraps after ~17.9 minutes of virtual time and
ticks_ms after ~12.4 days. Code that compares ticks with `<` or subtracts
them directly breaks at the wrap, as it would on the board; `start_ms`
lets a test put the wrap inside a scenario.

`hook`: when set (board_emul.Board sets it), advancing the clock hands the
target time to hook(target_us) instead of jumping there, so timers due on
the way fire at their own instants and the watchdog is checked. The hook
must leave now_us == target_us.
"""

TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALFPERIOD = TICKS_PERIOD >> 1


def ticks_add(ticks, delta):
    return (ticks + delta) & TICKS_MAX


def ticks_diff(new, old):
    # Signed difference in (-HALFPERIOD, HALFPERIOD], as py/modtime.c does.
    return ((new - old + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD


class VirtualClock:
    def __init__(self, start_ms=0):
        self.now_us = 0
        self._offset_us = start_ms * 1000
        self.hook = None

    # --- MicroPython time API -------------------------------------------
    def ticks_ms(self):
        return ((self.now_us + self._offset_us) // 1000) & TICKS_MAX

    def ticks_us(self):
        return (self.now_us + self._offset_us) & TICKS_MAX

    def ticks_cpu(self):
        return self.ticks_us()

    def ticks_add(self, ticks, delta):
        return (ticks + delta) & TICKS_MAX

    def ticks_diff(self, new, old):
        return ((new - old + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD

    def sleep_ms(self, ms):
        if ms > 0:
            self.advance_us(int(ms) * 1000)

    def sleep_us(self, us):
        if us > 0:
            self.advance_us(int(us))

    def sleep(self, seconds):
        if seconds > 0:
            self.advance_us(int(seconds * 1000000 + 0.5))

    # --- simulator side ---------------------------------------------------
    def advance(self, ms):
        self.advance_us(int(ms) * 1000)

    def advance_us(self, us):
        target = self.now_us + us
        if self.hook is None:
            self.now_us = target
        else:
            self.hook(target)

    def now_ms(self):
        """Unwrapped milliseconds since the clock was made."""
        return self.now_us // 1000

    def now_s(self):
        return self.now_us / 1000000.0
