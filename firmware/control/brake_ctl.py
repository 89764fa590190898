"""Speed and position governor for a gravity-balanced table with only a brake.

The firmware cannot push such a table; the person's arms tilt it and the
fail-safe brake can only stop it. So the setpoint from the trajectory is used
as a moving limit: the brake is released only while the bed is behind the
setpoint in the direction of travel and turning that way no faster than the
allowed rate, and engaged the moment it gets ahead, turns the wrong way or
arrives. The trajectory therefore governs the speed, as the actuator's
controller does on the other board.

A minimum time in each brake state stops the brake chattering at 100 Hz,
which would wear it and shake the person.

Use: ::

    ctl = BrakeController(engage_ms)
    release = ctl.update(sp_mdeg, sp_rate_mdeg_s, target_mdeg, theta_mdeg,
                         rate_mdeg_s, dt_ms)
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# Arrived when this close to the target.
_ARRIVE_MDEG = const(300)
# Turning the wrong way faster than this, or this far, engages the brake.
_WRONG_WAY_MDEG_S = const(300)
_WRONG_WAY_MDEG = const(150)
# Progress toward the target that shows the person is now helping.
_PROGRESS_MDEG = const(500)
# Wait before releasing again after turning the wrong way: doubles each time.
_BACKOFF_MIN_MS = const(500)
_BACKOFF_MAX_MS = const(4000)
# The bed may lead the setpoint by the distance it covers while the brake
# engages; the margin is added on top.
_LEAD_MARGIN_MDEG = const(150)
_MIN_STATE_MS = const(60)
# Allowed overspeed over the setpoint's rate before the brake bites.
_OVERSPEED_MDEG_S = const(500)


class BrakeController:
    def __init__(self, engage_ms):
        self.engage_ms = engage_ms
        self.release = False
        # Set when the bed turned away from the target while released: the
        # person's arms are pushing the other way (cue them to move their arms).
        self.wrong_way = False
        self._state_ms = _MIN_STATE_MS
        self._backoff_ms = _BACKOFF_MIN_MS
        self._wait_ms = 0
        self._released_at_mdeg = 0

    def reset(self):
        self.release = False
        self.wrong_way = False
        self._state_ms = 0
        self._backoff_ms = _BACKOFF_MIN_MS
        self._wait_ms = 0

    def update(self, sp_mdeg, sp_rate_mdeg_s, target_mdeg, theta_mdeg, rate_mdeg_s, dt_ms):
        self._state_ms += dt_ms
        if self._wait_ms > 0:
            self._wait_ms -= dt_ms
        to_go = target_mdeg - theta_mdeg
        sign = 1 if to_go > 0 else -1
        v_along = rate_mdeg_s * sign
        want = True
        if -_ARRIVE_MDEG < to_go < _ARRIVE_MDEG:
            want = False
        else:
            # Where the bed will be once a brake command takes effect.
            ahead = (theta_mdeg - sp_mdeg) * sign + v_along * self.engage_ms // 1000
            limit_rate = sp_rate_mdeg_s * sign
            if limit_rate < 0:
                limit_rate = 0
            if ahead > _LEAD_MARGIN_MDEG:
                want = False
            elif v_along > limit_rate + _OVERSPEED_MDEG_S:
                want = False
            elif self.release:
                lost = (self._released_at_mdeg - theta_mdeg) * sign
                if lost > _WRONG_WAY_MDEG or v_along < -_WRONG_WAY_MDEG_S:
                    # Turning away from the target: stop it, and try again
                    # later, waiting longer each time it happens again.
                    want = False
                    self.wrong_way = True
                    self._wait_ms = self._backoff_ms
                    if self._backoff_ms < _BACKOFF_MAX_MS:
                        self._backoff_ms *= 2
                elif -lost > _PROGRESS_MDEG:
                    self.wrong_way = False
                    self._backoff_ms = _BACKOFF_MIN_MS
            elif self._wait_ms > 0:
                want = False
        if want != self.release:
            # Engaging is never delayed; releasing waits out the minimum
            # engaged time.
            if not want or self._state_ms >= _MIN_STATE_MS:
                self.release = want
                self._state_ms = 0
                if want:
                    self._released_at_mdeg = theta_mdeg
        return self.release
