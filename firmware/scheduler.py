"""Run a tick at a fixed period, advanced by deadline.

The next deadline is the previous deadline plus the period, not "now plus
the period", so the loop keeps 100 Hz on average however long each tick
takes (pybricks' control loop does the same). A tick that overruns its slot
is counted; if the loop falls more than a whole period behind, it skips
ahead rather than running a burst of catch-up ticks with stale inputs.

`clock` is anything with MicroPython's time API: ticks_ms, ticks_add,
ticks_diff, sleep_ms (the `time` module on the board, a virtual clock in the
simulator).
"""


class Scheduler:
    def __init__(self, clock, period_ms):
        self.clock = clock
        self.period_ms = period_ms
        self.overruns = 0
        self.skipped = 0
        self.ticks = 0
        self._deadline = clock.ticks_add(clock.ticks_ms(), period_ms)

    def wait(self):
        """Sleep until the next deadline; returns the ms the tick covers."""
        clock = self.clock
        late = clock.ticks_diff(clock.ticks_ms(), self._deadline)
        if late < 0:
            clock.sleep_ms(-late)
            late = 0
        elif late > 0:
            self.overruns += 1
        dt_ms = self.period_ms
        if late >= self.period_ms:
            # Hopelessly behind (a flash write, a GC pause): re-anchor.
            missed = late // self.period_ms
            self.skipped += missed
            dt_ms += missed * self.period_ms
            self._deadline = clock.ticks_add(self._deadline, missed * self.period_ms)
        self._deadline = clock.ticks_add(self._deadline, self.period_ms)
        self.ticks += 1
        return dt_ms

    def run(self, tick, keep_going=None):
        """Call tick(dt_ms) every period until keep_going() returns False."""
        while keep_going is None or keep_going():
            tick(self.wait())
