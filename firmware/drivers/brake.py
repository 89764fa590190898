"""Fail-safe electromagnetic brake: power releases it, no power holds.

Usage::

    brake = Brake(machine.Pin(32, machine.Pin.OUT, value=0), release_level=1)
    brake.release()
    brake.engage()
    brake.engaged   # True

Construction engages it. The pin should be created already at the engaging
level (board_setup does) so there is no release pulse at boot. engage_ms is
how long the brake takes to bite after it is de-energised; the controller
keeps the drive holding for that long before it lets go.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine


class Brake:
    def __init__(self, pin: "machine.Pin", release_level: int = 1, engage_ms: int = 0) -> None:
        self._pin = pin
        self._release_level = 1 if release_level else 0
        self.engage_ms = engage_ms
        self._engaged = True
        self.engage()

    def engage(self):
        self._pin.value(1 - self._release_level)
        self._engaged = True

    def release(self):
        self._pin.value(self._release_level)
        self._engaged = False

    @property
    def engaged(self):
        return self._engaged
