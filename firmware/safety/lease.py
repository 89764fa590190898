"""A drive command that expires unless renewed (Klipper's output leases).

The control tick grants the drive for a few ticks at a time. A timer outside
the tick checks the lease; if the loop has stalled and not renewed it, the
drive is dropped by the timer itself, so a hung loop cannot leave the motor
running. Allocation-free: safe to call from a soft timer callback.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

_LEASE_MS = const(30)


class DriveLease:
    def __init__(self):
        self.duty_permille = 0
        self.left_ms = 0
        self.expired_count = 0

    def grant(self, duty_permille, ms=_LEASE_MS):
        self.duty_permille = duty_permille
        self.left_ms = ms if duty_permille != 0 else 0

    def elapse(self, dt_ms):
        """Called by the watchdog timer. Returns the duty still allowed."""
        if self.left_ms <= 0:
            if self.duty_permille != 0:
                self.duty_permille = 0
                self.expired_count += 1
            return 0
        self.left_ms -= dt_ms
        return self.duty_permille
