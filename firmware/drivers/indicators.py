"""Buzzer and LED, each with an allocation-free pattern player.

Usage::

    buzzer = Buzzer(machine.PWM(machine.Pin(23), freq=2700, duty_u16=0))
    buzzer.play(ALARM, repeat=True)     # or buzzer.on() / buzzer.off()
    led = Led(machine.Pin(2, machine.Pin.OUT, value=0))
    led.play(BLINK_SLOW, repeat=True)
    buzzer.update(now_ms); led.update(now_ms)   # every tick

A pattern is a tuple of durations in ms, alternating on, off, on, ...,
starting with on. Patterns are built once (module constants or the caller's
own), so update() only indexes into them.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

from drivers.ticks import ticks_add, ticks_diff

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

TONE_HZ = const(2700)      # typical piezo resonance: loudest for the power
_DUTY_HALF_U16 = const(32768)

BEEP = (120,)
_DOUBLE_BEEP = const((120, 120, 120))
ALARM = (400, 200, 400, 200, 400, 1400)
_WARNING_TONE = const((250, 250))   # repeated for the boot-while-inverted warning
BLINK_SLOW = (500, 500)
BLINK_FAST = (100, 100)


class _PatternPlayer:
    def __init__(self):
        self._pattern = ()
        self._index = 0
        self._step_start_ms = 0
        self._repeat = False
        self._started = False
        self.playing = False

    def _drive(self, on):
        raise NotImplementedError

    def on(self):
        """Steady on; stops any pattern."""
        self.playing = False
        self._drive(True)

    def off(self):
        """Steady off; stops any pattern."""
        self.playing = False
        self._drive(False)

    def play(self, pattern, repeat=False):
        """Start pattern at the next update(); repeat loops it until off()."""
        for i in range(len(pattern)):
            if pattern[i] <= 0:
                # A zero step would spin update() forever on a repeat.
                raise ValueError("pattern steps must be > 0 ms")
        self._pattern = pattern
        self._index = 0
        self._repeat = repeat
        self._started = False
        self.playing = len(pattern) > 0

    def update(self, now_ms):
        if not self.playing:
            return
        if not self._started:
            self._started = True
            self._step_start_ms = now_ms
            self._drive(True)
        pattern = self._pattern
        # A late tick may cover several short steps; walk them all.
        while ticks_diff(now_ms, self._step_start_ms) >= pattern[self._index]:
            self._step_start_ms = ticks_add(self._step_start_ms, pattern[self._index])
            self._index += 1
            if self._index >= len(pattern):
                if not self._repeat:
                    self.off()
                    return
                self._index = 0
            # Even steps are on, odd steps off.
            self._drive(self._index % 2 == 0)


class Buzzer(_PatternPlayer):
    def __init__(self, pwm: "machine.PWM") -> None:
        _PatternPlayer.__init__(self)
        self._pwm = pwm
        self._drive(False)

    def _drive(self, on):
        self._pwm.duty_u16(_DUTY_HALF_U16 if on else 0)


class Led(_PatternPlayer):
    def __init__(self, pin: "machine.Pin") -> None:
        _PatternPlayer.__init__(self)
        self._pin = pin
        self._drive(False)

    def _drive(self, on):
        self._pin.value(1 if on else 0)
