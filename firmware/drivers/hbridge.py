"""H-bridge for the linear actuator, with its independent enable line.

Usage::

    bridge = PwmDirBridge(pwm, dir_pin, enable_pin, positive_duty_extends=True)
    bridge.enable(True)
    bridge.set_duty(-350)   # 35 % the other way
    bridge.off()            # zero drive and enable low: the fail-safe state

Both wirings share this method set:
  PwmDirBridge(pwm, dir_pin, enable_pin, positive_duty_extends)  one PWM + DIR
  In1In2Bridge(in1_pwm, in2_pwm, enable_pin, positive_duty_extends)  PWM on IN1 or IN2

duty_permille is signed, -1000..1000, in the bridge's own sense: positive
drives DIR high (or PWM on IN1). positive_duty_extends (from the board) says
whether that extends the actuator; the controller maps extend/retract to a
sign with it. Construction leaves zero drive and enable low; the pins should
already have been created low (board_setup does) so nothing glitches.
Reversal dead time (SPEC R4) is the controller's job, not this driver's.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

_DUTY_MAX_PERMILLE = const(1000)
_U16_MAX = const(65535)


# set_duty runs every tick: the clamp and the scaling to the PWM register
# (magnitude * _U16_MAX // _DUTY_MAX_PERMILLE; 1000 * 65535 fits a small int)
# are written out in it rather than called.


class _EnableLine:
    """The independent power-enable line both bridge wirings share."""

    def __init__(self, enable_pin: "machine.Pin") -> None:
        self._enable = enable_pin
        self.enabled = False

    def enable(self, on):
        """Raise or drop the independent power-enable line."""
        if on:
            self._enable.value(1)
            self.enabled = True
        else:
            self._enable.value(0)
            self.enabled = False


class PwmDirBridge(_EnableLine):
    def __init__(self, pwm: "machine.PWM", dir_pin: "machine.Pin",
                 enable_pin: "machine.Pin", positive_duty_extends: bool = True) -> None:
        self._pwm = pwm
        self._dir = dir_pin
        _EnableLine.__init__(self, enable_pin)
        self.positive_duty_extends = positive_duty_extends
        self.duty_permille = 0
        self.off()
        self._dir_level = 0
        self._dir.value(0)

    def set_duty(self, duty_permille):
        """Drive at duty_permille (clamped to +-1000); the sign picks DIR."""
        if duty_permille > _DUTY_MAX_PERMILLE:
            duty_permille = _DUTY_MAX_PERMILLE
        elif duty_permille < -_DUTY_MAX_PERMILLE:
            duty_permille = -_DUTY_MAX_PERMILLE
        if duty_permille > 0:
            level = 1
            magnitude = duty_permille
        else:
            level = 0
            magnitude = -duty_permille
        if duty_permille != 0 and level != self._dir_level:
            # Never flip DIR under drive: drop to zero first.
            self._pwm.duty_u16(0)
            self._dir.value(level)
            self._dir_level = level
        self._pwm.duty_u16(magnitude * _U16_MAX // _DUTY_MAX_PERMILLE)
        self.duty_permille = duty_permille

    def off(self):
        self._pwm.duty_u16(0)
        self.duty_permille = 0
        self.enable(False)


class In1In2Bridge(_EnableLine):
    def __init__(self, in1_pwm: "machine.PWM", in2_pwm: "machine.PWM",
                 enable_pin: "machine.Pin", positive_duty_extends: bool = True) -> None:
        self._in1 = in1_pwm
        self._in2 = in2_pwm
        _EnableLine.__init__(self, enable_pin)
        self.positive_duty_extends = positive_duty_extends
        self.duty_permille = 0
        self.off()

    def set_duty(self, duty_permille):
        """Drive at duty_permille (clamped to +-1000): PWM on IN1 if positive, IN2 if negative."""
        if duty_permille > _DUTY_MAX_PERMILLE:
            duty_permille = _DUTY_MAX_PERMILLE
        elif duty_permille < -_DUTY_MAX_PERMILLE:
            duty_permille = -_DUTY_MAX_PERMILLE
        # The idle input goes low before the other is driven, so both are
        # never high together (that would short-brake the motor mid-move).
        if duty_permille >= 0:
            self._in2.duty_u16(0)
            self._in1.duty_u16(duty_permille * _U16_MAX // _DUTY_MAX_PERMILLE)
        else:
            self._in1.duty_u16(0)
            self._in2.duty_u16(-duty_permille * _U16_MAX // _DUTY_MAX_PERMILLE)
        self.duty_permille = duty_permille

    def off(self):
        self._in1.duty_u16(0)
        self._in2.duty_u16(0)
        self.duty_permille = 0
        self.enable(False)
