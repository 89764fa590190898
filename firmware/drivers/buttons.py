"""Buttons and the e-stop sense, polled once per tick and debounced.

Usage::

    stop = DebouncedInput(stop_pin, pressed_level(True, True), press_ms=0)
    buttons = Buttons(stop, start, up, down, attendant)
    buttons.update(now_ms)          # every tick
    buttons.stop.pressed, buttons.start.just_pressed, buttons.up.held_ms

Debounce is by stability: a change is accepted once the pin has read the new
level for press_ms (or release_ms) since it first did, so a one-tick glitch
never counts. ESP32 MicroPython cannot run hard interrupts for this, and a
tick-polled state needs no locking.

STOP is normally closed and uses press_ms=0: the first open reading (a press
or a cut wire, which the pull resistor reads the same) is a press on that
tick. Only its release is debounced, so contact bounce cannot end a stop.

The state at construction is read from the pin with no edge, so a button
held through power-up is pressed but never reports just_pressed.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

from drivers.ticks import ticks_diff

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

DEBOUNCE_MS = const(30)


def pressed_level(active_low, normally_closed):
    """Pin level that means pressed.

    active_low wiring has a pull-up and the contact to ground: a normally open
    button pressed reads 0, a normally closed one reads 0 at rest and 1 (the
    pull-up) when pressed or cut. Active-high wiring is the mirror image.
    """
    closed_level = 0 if active_low else 1
    return 1 - closed_level if normally_closed else closed_level


class DebouncedInput:
    def __init__(self, pin: "machine.Pin", pressed_level: int, press_ms: int = DEBOUNCE_MS,
                 release_ms: int = DEBOUNCE_MS, now_ms: int = 0) -> None:
        self._pin = pin
        self._pressed_level = pressed_level
        self._press_ms = press_ms
        self._release_ms = release_ms
        self.pressed = pin.value() == pressed_level
        self.just_pressed = False
        self.just_released = False
        self.held_ms = 0
        self._pressed_since_ms = now_ms
        self._changing = False
        self._change_since_ms = now_ms

    def update(self, now_ms):
        """Sample the pin; edges last exactly one update."""
        raw = self._pin.value() == self._pressed_level
        self.just_pressed = False
        self.just_released = False
        pressed = self.pressed
        if raw == pressed:
            self._changing = False
        else:
            if not self._changing:
                self._changing = True
                self._change_since_ms = now_ms
            wait_ms = self._press_ms if raw else self._release_ms
            if ticks_diff(now_ms, self._change_since_ms) >= wait_ms:
                self._changing = False
                self.pressed = pressed = raw
                if raw:
                    self.just_pressed = True
                    # Held time counts from the first pressed reading, not
                    # from when the debounce accepted it.
                    self._pressed_since_ms = self._change_since_ms
                else:
                    self.just_released = True
        if pressed:
            self.held_ms = ticks_diff(now_ms, self._pressed_since_ms)
        else:
            self.held_ms = 0


class EstopSense(DebouncedInput):
    """The actuator power rail behind the hardware e-stop, read through a divider.

    Pin high = rail powered (e-stop not pressed). Low = rail cut, by the
    e-stop or by a broken sense wire (the pin has a pull-down): both mean the
    firmware must not try to drive, so both read as active. Active is
    reported on the first low reading; the return to powered is debounced.
    """

    def __init__(self, pin: "machine.Pin", release_ms: int = DEBOUNCE_MS, now_ms: int = 0) -> None:
        DebouncedInput.__init__(self, pin, 0, 0, release_ms, now_ms)

    @property
    def active(self):
        return self.pressed


class Buttons:
    """The table's buttons, updated together; attendant may be None."""

    def __init__(self, stop: DebouncedInput, start: DebouncedInput, up: DebouncedInput,
                 down: DebouncedInput, attendant: "DebouncedInput | None" = None) -> None:
        self.stop = stop
        self.start = start
        self.up = up
        self.down = down
        self.attendant = attendant

    def update(self, now_ms):
        self.stop.update(now_ms)
        self.start.update(now_ms)
        self.up.update(now_ms)
        self.down.update(now_ms)
        if self.attendant is not None:
            self.attendant.update(now_ms)
