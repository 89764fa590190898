"""Online jerk-limited (S-curve) setpoint generator.

Each tick it moves a setpoint (position, velocity, acceleration) one step
toward a target under rate, acceleration and jerk limits. Target and limits
may change on any tick: the generator replans from its current state, so a
STOP during an acceleration reverses the jerk on that very tick and the
acceleration then ramps smoothly toward home.

The plan is a cascade evaluated every tick:

1. the fastest speed from which the setpoint can still stop on the target
   (and, if a speed gate is set, slow to the gate's speed by the gate),
   computed from the jerk-limited braking distance;
2. the acceleration that closes the gap to that speed without overshooting
   it, given the jerk limit;
3. the jerk that moves the acceleration toward that, clamped to the limit.

The final step onto the target snaps exactly to it, so the setpoint never
passes its target.

Units: position in microdegrees (so one tick of motion at any rate is an
exact integer), velocity mdeg/s, acceleration mdeg/s^2, jerk mdeg/s^3,
time ms. Use: ::

    traj = Trajectory()
    traj.reset(position_mdeg)
    traj.set_limits(rate_mdeg_s, accel_mdeg_s2, jerk_mdeg_s3)
    traj.set_target(target_mdeg)
    every tick: traj.step(10); use traj.position_mdeg(), traj.velocity_mdeg_s
"""
from control.imath import isqrt

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# Velocity error (mdeg/s) is closed with at most this time constant once the
# error is small, which stops the square-root law from chattering at 100 Hz.
_TAU_MS = const(40)
# Snap onto the target when closer than this and slow: the remaining step is
# below what the actuator can resolve anyway.
_SNAP_UDEG = const(100)
_SNAP_MDEG_S = const(10)
# Passing the target slower than this is landing on it.
_LAND_MDEG_S = const(40)
# Braking is planned at these eighths of the acceleration and jerk limits.
_BRAKE_ACCEL_NUM = const(7)
_BRAKE_JERK_NUM = const(4)
# Below this speed toward the target the terminal ramp law applies; it also
# bounds 2 v^2 / 3 * 1000 below 2**30.
_TERMINAL_MDEG_S = const(1200)
# Speed gate: no gate.
_NO_GATE = const(-1)


class Trajectory:
    def __init__(self):
        self.pos_udeg = 0
        # Speed kept in udeg/s so that one tick of acceleration is an exact
        # integer: a slow final creep never rounds away to a standstill.
        self.vel_udeg_s = 0
        self.velocity_mdeg_s = 0
        self.accel_mdeg_s2 = 0
        self.target_udeg = 0
        self.rate_mdeg_s = 1000
        self.accel_limit_mdeg_s2 = 1000
        self.jerk_mdeg_s3 = 10000
        self._vc_mdeg_s = 100
        self._vc_loop = 100
        self._brake_accel = 1000
        self._brake_jerk = 10000
        # True once the braking constants come from set_limits' arguments
        # (the ones above are not derived from the defaults).
        self._planned = False
        # A point on the way (gate_udeg) that must be crossed no faster than
        # gate_rate_mdeg_s: the emergency return slows to the normal rate at
        # horizontal this way instead of braking hard after crossing it.
        self.gate_udeg = 0
        self.gate_rate_mdeg_s = _NO_GATE
        self.at_target = True

    def reset(self, position_mdeg):
        """Start at rest at the given position (boot, or after a halt)."""
        self.pos_udeg = position_mdeg * 1000
        self.target_udeg = self.pos_udeg
        self.vel_udeg_s = 0
        self.velocity_mdeg_s = 0
        self.accel_mdeg_s2 = 0
        self.at_target = True

    def set_limits(self, rate_mdeg_s, accel_mdeg_s2, jerk_mdeg_s3):
        if (self._planned and rate_mdeg_s == self.rate_mdeg_s
                and accel_mdeg_s2 == self.accel_limit_mdeg_s2
                and jerk_mdeg_s3 == self.jerk_mdeg_s3):
            # The core sets the same limits on most ticks: the constants
            # below would come out the same.
            return
        self.rate_mdeg_s = rate_mdeg_s
        self.accel_limit_mdeg_s2 = accel_mdeg_s2
        self.jerk_mdeg_s3 = jerk_mdeg_s3
        # The braking curve is planned with less than the real limits so the
        # acceleration loop, which lags the curve by its jerk ramp, always has
        # headroom to follow it to a smooth stop on the target.
        self._brake_accel = accel_mdeg_s2 * _BRAKE_ACCEL_NUM // 8
        self._brake_jerk = jerk_mdeg_s3 * _BRAKE_JERK_NUM // 8
        # Below this speed a planned stop never reaches full deceleration.
        self._vc_mdeg_s = self._brake_accel * self._brake_accel // self._brake_jerk
        self._vc_loop = accel_mdeg_s2 * accel_mdeg_s2 // jerk_mdeg_s3
        self._planned = True

    def set_target(self, target_mdeg):
        udeg = target_mdeg * 1000
        if udeg != self.target_udeg:
            self.target_udeg = udeg
            self.at_target = False

    def set_gate(self, gate_mdeg, gate_rate_mdeg_s):
        self.gate_udeg = gate_mdeg * 1000
        self.gate_rate_mdeg_s = gate_rate_mdeg_s

    def clear_gate(self):
        self.gate_rate_mdeg_s = _NO_GATE

    def position_mdeg(self):
        return self.pos_udeg // 1000

    def target_mdeg(self):
        return self.target_udeg // 1000

    # -- braking distances -------------------------------------------------

    def _change_ms(self, dv_mdeg_s):
        """Time to change speed by dv at rest-to-rest acceleration."""
        if dv_mdeg_s >= self._vc_mdeg_s:
            return (dv_mdeg_s * 1000 // self._brake_accel
                    + self._brake_accel * 1000 // self._brake_jerk)
        # Triangular acceleration: t = 2 sqrt(dv / J), computed in 0.1 ms^2 steps.
        return 2 * isqrt(dv_mdeg_s * 10000 // self._brake_jerk * 100)

    def _brake_udeg(self, v_from, v_to):
        """Distance to slow from v_from to v_to (both >= 0), symmetric S-curve."""
        return (v_from + v_to) * self._change_ms(v_from - v_to) // 2

    def stop_target_mdeg(self, tick_ms):
        """Where a jerk-limited stop begun now comes to rest: the acceleration
        still pushing the motion on ramps to zero first (a/J seconds, adding
        speed and distance), then the S-curve brakes from that speed; one
        tick of travel on top, as the stop starts on the next step."""
        v = self.velocity_mdeg_s
        if v == 0 and self.accel_mdeg_s2 == 0:
            return self.pos_udeg // 1000
        sign = 1 if v > 0 or (v == 0 and self.accel_mdeg_s2 > 0) else -1
        speed = v * sign
        a_along = self.accel_mdeg_s2 * sign
        dist_udeg = speed * tick_ms
        if a_along > 0:
            ramp_ms = a_along * 1000 // self.jerk_mdeg_s3
            dist_udeg += speed * ramp_ms + a_along * ramp_ms // 1000 * ramp_ms // 3
            speed += a_along * ramp_ms // 2000
        dist_udeg += self._brake_udeg(speed, 0)
        return (self.pos_udeg + sign * dist_udeg) // 1000

    def _max_speed_for(self, dist_udeg, v_end, v_cap):
        """Largest speed <= v_cap that can slow to v_end within dist_udeg."""
        if dist_udeg <= 0:
            return v_end
        if self._brake_udeg(v_cap, v_end) <= dist_udeg:
            return v_cap
        lo = v_end
        hi = v_cap
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if self._brake_udeg(mid, v_end) <= dist_udeg:
                lo = mid
            else:
                hi = mid
        return lo

    # -- the step ------------------------------------------------------------

    def step(self, dt_ms):
        """Advance the setpoint by dt_ms. Returns True once at the target."""
        p = self.pos_udeg
        v_fine = self.vel_udeg_s
        v = self.velocity_mdeg_s
        a = self.accel_mdeg_s2
        err = self.target_udeg - p
        if err == 0 and v_fine == 0 and a == 0:
            self.at_target = True
            return True
        self.at_target = False
        sign = 1 if err >= 0 else -1
        dist = err * sign
        v_along = v * sign      # speed toward the target (negative: away)
        a_along = a * sign
        amax = self.accel_limit_mdeg_s2
        jmax = self.jerk_mdeg_s3

        # While still accelerating toward the target, the acceleration must
        # first ramp down to zero (a/J seconds), adding speed and distance the
        # braking curve does not include: charge them now.
        lead_udeg = v_along * dt_ms if v_along > 0 else 0
        v_now = v_along
        if a_along > 0:
            ramp_ms = a_along * 1000 // jmax
            lead_udeg += v_along * ramp_ms + a_along * ramp_ms // 1000 * ramp_ms // 3
            v_now += a_along * ramp_ms // 2000
        v_cap = self.rate_mdeg_s
        v_des = self._max_speed_for(dist - lead_udeg, 0, v_cap)
        if self.gate_rate_mdeg_s >= 0:
            to_gate = (self.gate_udeg - p) * sign
            if to_gate >= 0 and to_gate < dist:
                # Aim 1 % under the gate's rate: the speed loop lags its aim.
                v_gate = self._max_speed_for(to_gate - lead_udeg,
                                             self.gate_rate_mdeg_s * 99 // 100, v_cap)
                if v_gate < v_des:
                    v_des = v_gate
        # Correct for the lead: the charged speed gain will still happen.
        v_des -= v_now - v_along

        dv = v_des - v_along
        mag = dv if dv >= 0 else -dv
        # Highest acceleration from which a jerk-limited ramp to zero closes
        # the speed gap exactly: sqrt(2 J dv). Past vc/2 it is simply amax,
        # which also keeps 2*J*dv below amax^2 (no overflow).
        if 2 * mag >= self._vc_loop:
            a_des = amax
        else:
            a_des = isqrt(2 * jmax * mag)
        lin = mag * 1000 // _TAU_MS
        if lin < a_des:
            a_des = lin
        if a_des > amax:
            a_des = amax
        if dv < 0:
            a_des = -a_des
            if v_along <= _TERMINAL_MDEG_S and dist > 0:
                # Last stretch: a jerk ramp from deceleration 2v^2/(3d) down to
                # zero ends exactly on the target at rest. Recomputed every
                # tick, it corrects its own rounding.
                a_des = -((2 * v_along * v_along // 3) * 1000 // dist)
                if a_des < -amax:
                    a_des = -amax
        a_des *= sign

        j_step = jmax * dt_ms // 1000
        da = a_des - a
        if da > j_step:
            da = j_step
        elif da < -j_step:
            da = -j_step
        a_new = a + da
        # Clamp to the limit only from within it: after the limit was lowered
        # the acceleration ramps down at the jerk limit instead of stepping.
        if a_new > amax and a <= amax:
            a_new = amax
        elif a_new < -amax and a >= -amax:
            a_new = -amax
        v_new_fine = v_fine + (a + a_new) * dt_ms // 2
        p_new = p + (v_fine + v_new_fine) * dt_ms // 2000
        v_new = v_new_fine // 1000 if v_new_fine >= 0 else -((-v_new_fine) // 1000)

        remaining = (self.target_udeg - p_new) * sign
        slow = v_new <= _SNAP_MDEG_S and v_new >= -_SNAP_MDEG_S
        landing = v_new <= _LAND_MDEG_S and v_new >= -_LAND_MDEG_S
        if (remaining <= 0 and landing) or (remaining <= _SNAP_UDEG and slow):
            # Arrived (or about to pass at a crawl): land exactly on the
            # target at rest. Faster than that, a target set too close to
            # stop for runs on past it and comes back, jerk-limited.
            self.pos_udeg = self.target_udeg
            self.vel_udeg_s = 0
            self.velocity_mdeg_s = 0
            self.accel_mdeg_s2 = 0
            self.at_target = True
            return True
        self.pos_udeg = p_new
        self.vel_udeg_s = v_new_fine
        self.velocity_mdeg_s = v_new
        self.accel_mdeg_s2 = a_new
        return False
