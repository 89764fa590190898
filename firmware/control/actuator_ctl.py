"""Position control of the linear actuator: feed-forward plus PI feedback.

duty = feed-forward of the setpoint speed (the actuator's speed per unit
duty at this angle) + KP * error + integral, in permille of full drive,
positive = head-down.

- Anti-windup: the integral is bounded and stops growing while the output
  is saturated in the direction it would push.
- Deadband: with the setpoint at rest and the bed within 0.15 degree of it,
  the drive is off; the self-locking lead screw holds the bed, and the motor
  does not hunt.
- Reversal dead time (SPEC R4): the output never changes sign without
  REVERSAL_DEAD_MS at zero in between, which spares the H-bridge and the
  gearbox a shoot-through and a torque reversal.
- Leaving a hold: a bed that settled a little ahead of the setpoint is not
  pulled back when the next move starts that way, so the drive turns with
  the setpoint from its first tick.
- Speed governor: the bed's own speed is held to rate_limit_mdeg_s (the
  rate in force, set by the core each tick), so a bed that broke away late
  does not catch up faster than R4 allows.
- Stall: drive pushed to its limit while the bed barely turns, for longer
  than STALL_MS, or over-current for longer than 100 ms.

Use: ::

    ctl = ActuatorController(ff_table_permille_per_deg_s)
    duty = ctl.update(sp_mdeg, sp_rate_mdeg_s, theta_mdeg, rate_mdeg_s,
                      current_ma, current_limit_ma, dt_ms)
"""
from safety.spec import REVERSAL_DEAD_MS

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

DUTY_MAX = const(1000)
# KP: 150 permille per degree of error (about 1.8 deg/s of correction).
_KP_NUM = const(15)
_KP_DIV = const(100)
# KI: 0.5 permille per mdeg per second.
_KI_NUM = const(50)
_KI_DIV = const(100000)
_INTEG_LIMIT = const(700)
_DEADBAND_MDEG = const(150)
_RESETTLE_MDEG = const(600)
_SETTLE_GIVE_UP_MS = const(1500)
# Minimum drive that moves the actuator at all under load; smaller commands
# are rounded up (or to zero inside the deadband) so the motor never sits
# energized without turning.
_MIN_DUTY = const(40)
STALL_DUTY = const(850)
_STALL_RATE_MDEG_S = const(300)
STALL_MS = const(300)
_OVERCURRENT_MS = const(100)
# Pinch: the current jumps this far above what this motion has been drawing.
# The baseline follows slow changes (the lever arm, the person shifting) with
# a time constant of about 2 s, and is learnt over the first 300 ms of each
# motion, during which only the absolute limit applies.
_PINCH_RISE_MA = const(2000)
_BASELINE_DIV = const(200)
_BASELINE_LEARN_MS = const(300)
# Feed-forward table: one entry per 2 degrees from -90 degrees.
_FF_STEP_MDEG = const(2000)
_FF_ORIGIN_MDEG = const(-90000)


class ActuatorController:
    def __init__(self, ff_table):
        self._ff = ff_table
        self.integ_permille = 0
        self.duty_permille = 0
        self._last_sign = 0
        self._zero_ms = REVERSAL_DEAD_MS
        self._stall_ms = 0
        self._overcurrent_ms = 0
        self._drive_ms = 0
        self.baseline_ma = 0
        self.stalled = False
        self.settled = False
        self._rest_ms = 0
        self.reversal_blocked = False
        self._leaving = False
        # The rate in force (mdeg/s) the bed's own speed is held to; 0: none.
        self.rate_limit_mdeg_s = 0

    def reset(self):
        """Forget the integral and any stall (a new motion, or after a halt)."""
        self.integ_permille = 0
        self._stall_ms = 0
        self._overcurrent_ms = 0
        self._drive_ms = 0
        self.stalled = False
        self._leaving = False

    def ff_permille_per_deg_s(self, angle_mdeg):
        i = (angle_mdeg - _FF_ORIGIN_MDEG) // _FF_STEP_MDEG
        if i < 0:
            i = 0
        elif i >= len(self._ff):
            i = len(self._ff) - 1
        return self._ff[i]

    def update(self, sp_mdeg, sp_rate_mdeg_s, theta_mdeg, rate_mdeg_s,
               current_ma, current_limit_ma, dt_ms):
        err = sp_mdeg - theta_mdeg
        gain = self.ff_permille_per_deg_s(sp_mdeg)
        ff = sp_rate_mdeg_s * gain // 1000
        if self.settled and sp_rate_mdeg_s != 0:
            # What is left of the integral pushed toward the old setpoint.
            self._leaving = True
            self.integ_permille = 0
        if self._leaving:
            if (sp_rate_mdeg_s > 0 and err < 0) or (sp_rate_mdeg_s < 0 and err > 0):
                # A move starting from a hold that settled with the bed a
                # little ahead of the setpoint (inside the deadband, or the
                # stiction allowance): not pulled back, so the drive follows
                # the setpoint's direction from its first tick (a STOP's turn
                # toward home, for one) until the setpoint has caught up.
                err = 0
            else:
                self._leaving = False
        p_term = err * _KP_NUM // _KP_DIV
        if sp_rate_mdeg_s != 0:
            self.settled = False
            self._rest_ms = 0
        elif -_DEADBAND_MDEG < err < _DEADBAND_MDEG:
            self.settled = True
        elif self._rest_ms >= _SETTLE_GIVE_UP_MS and -_RESETTLE_MDEG < err < _RESETTLE_MDEG:
            # Stiction near the ends of travel can hold the bed a little off
            # the setpoint; after a while that is close enough, and pushing on
            # would only heat the motor.
            self.settled = True
        elif err > _RESETTLE_MDEG or err < -_RESETTLE_MDEG:
            self.settled = False
        if sp_rate_mdeg_s == 0:
            self._rest_ms += dt_ms
        if self.settled:
            # Holding and close enough: let the screw hold; bleed the integral.
            # Only a clear drift (not sensor noise) starts a correction.
            self.integ_permille -= self.integ_permille // 8
            duty = 0
        else:
            duty = ff + p_term + self.integ_permille
            growing = err * _KI_NUM * dt_ms // _KI_DIV
            # Speed governor: a bed that broke away late (a load to lift at
            # the start of a move) would otherwise catch up faster than the
            # rate in force. Past it, the excess speed is taken off the
            # drive and the integral stops growing that way.
            lim = self.rate_limit_mdeg_s
            over = 0
            if lim > 0:
                if rate_mdeg_s > lim and duty > 0:
                    over = rate_mdeg_s - lim
                elif rate_mdeg_s < -lim and duty < 0:
                    over = rate_mdeg_s + lim
            if over != 0:
                # Taken down toward the feed-forward of the setpoint's own
                # speed (inside the limit), never below it.
                governed = duty - over * gain // 1000
                if duty > 0:
                    duty = max(governed, min(ff, duty))
                else:
                    duty = min(governed, max(ff, duty))
                if (growing > 0) == (over > 0):
                    growing = 0
            # Anti-windup: integrate only if that does not push further into
            # saturation.
            if not ((duty >= DUTY_MAX and growing > 0) or (duty <= -DUTY_MAX and growing < 0)):
                integ = self.integ_permille + growing
                if integ > _INTEG_LIMIT:
                    integ = _INTEG_LIMIT
                elif integ < -_INTEG_LIMIT:
                    integ = -_INTEG_LIMIT
                duty += integ - self.integ_permille
                self.integ_permille = integ
            if duty > DUTY_MAX:
                duty = DUTY_MAX
            elif duty < -DUTY_MAX:
                duty = -DUTY_MAX
            elif 0 < duty < _MIN_DUTY:
                # Raised to the least drive that moves the bed, but never
                # against a setpoint that is moving the other way: that would
                # push the wrong way, then hold the turn back for the
                # reversal dead time (a STOP's turn toward home, for one).
                duty = _MIN_DUTY if sp_rate_mdeg_s >= 0 else 0
            elif -_MIN_DUTY < duty < 0:
                duty = -_MIN_DUTY if sp_rate_mdeg_s <= 0 else 0
        duty = self._reversal_guard(duty, dt_ms)
        self._watch_stall(duty, rate_mdeg_s, current_ma, current_limit_ma, dt_ms)
        self.duty_permille = duty
        return duty

    def _reversal_guard(self, duty, dt_ms):
        sign = 1 if duty > 0 else (-1 if duty < 0 else 0)
        self.reversal_blocked = False
        if sign == 0:
            self._zero_ms += dt_ms
            return 0
        if sign != self._last_sign and self._last_sign != 0 and self._zero_ms < REVERSAL_DEAD_MS:
            # Count this tick as zero drive; reverse only once the wait is over.
            self._zero_ms += dt_ms
            self.reversal_blocked = True
            return 0
        self._last_sign = sign
        self._zero_ms = 0
        return duty

    def _watch_stall(self, duty, rate_mdeg_s, current_ma, current_limit_ma, dt_ms):
        pushing = duty >= STALL_DUTY or duty <= -STALL_DUTY
        still = -_STALL_RATE_MDEG_S < rate_mdeg_s < _STALL_RATE_MDEG_S
        if pushing and still:
            self._stall_ms += dt_ms
        else:
            self._stall_ms = 0
        over = current_limit_ma > 0 and current_ma > current_limit_ma
        if duty == 0:
            self._drive_ms = 0
        else:
            self._drive_ms += dt_ms
            if self._drive_ms <= _BASELINE_LEARN_MS:
                # Average of the first samples of this motion.
                n = self._drive_ms // dt_ms
                self.baseline_ma += (current_ma - self.baseline_ma) // n
            elif current_ma - self.baseline_ma > _PINCH_RISE_MA:
                over = True
            else:
                self.baseline_ma += (current_ma - self.baseline_ma) // _BASELINE_DIV
        if over:
            self._overcurrent_ms += dt_ms
        else:
            self._overcurrent_ms = 0
        if self._stall_ms >= STALL_MS or self._overcurrent_ms >= _OVERCURRENT_MS:
            self.stalled = True


def build_ff_table(cal, rate_deg_s_full_duty):
    """Feed-forward gain (permille of duty per deg/s) every 2 degrees.

    The actuator's stroke speed is roughly constant at a given duty, but the
    lever arm changes with the angle, so the bed's speed per unit duty does
    too. The position sensor's calibration table (raw counts, linear in
    stroke, against angle) gives the local slope; the board's nominal rate
    fixes the scale at the steepest-lever (slowest) part of the range.
    Called once at start-up; allocates.
    """
    n = (92000 - _FF_ORIGIN_MDEG) // _FF_STEP_MDEG + 1
    table = [1000 * 1000 // int(rate_deg_s_full_duty * 1000)] * n
    if not cal or len(cal) < 2:
        return table
    # Slope in counts per degree on each calibration segment.
    slopes = []
    for k in range(len(cal) - 1):
        d_raw = cal[k + 1][0] - cal[k][0]
        d_mdeg = cal[k + 1][1] - cal[k][1]
        slopes.append(d_raw * 1000000 // d_mdeg if d_mdeg else 0)
    slope_max = max(slopes)
    nominal_mdeg_s = int(rate_deg_s_full_duty * 1000)
    for i in range(n):
        angle = _FF_ORIGIN_MDEG + i * _FF_STEP_MDEG + _FF_STEP_MDEG // 2
        k = 0
        while k < len(slopes) - 1 and cal[k + 1][1] <= angle:
            k += 1
        slope = slopes[k] if slopes[k] > 0 else slope_max
        # Fewer counts per degree here means the bed turns faster per duty.
        rate_here = nominal_mdeg_s * slope_max // slope
        table[i] = 1000000 // rate_here
    return table
