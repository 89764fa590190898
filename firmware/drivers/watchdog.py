"""Hardware watchdog, fed only while the supervisor says all is well.

Usage::

    dog = Watchdog(machine.WDT(timeout=board["watchdog_ms"]), board["watchdog_ms"])
    dog.feed_if(supervisor_healthy)     # once per tick

Once machine.WDT is created it cannot be stopped or lengthened, so create it
only when the main loop is about to run (board_setup hands out a factory,
not a running watchdog). Recent ESP32 MicroPython takes timeouts down to
1 ms; older releases refused less than 1000 ms.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine


class Watchdog:
    def __init__(self, wdt: "machine.WDT", timeout_ms: int) -> None:
        self._wdt = wdt
        self.timeout_ms = timeout_ms
        self.unhealthy_ticks = 0

    def feed_if(self, healthy):
        """Feed when healthy; otherwise starve it so the board resets."""
        if healthy:
            self._wdt.feed()
            self.unhealthy_ticks = 0
            return True
        self.unhealthy_ticks += 1
        return False
