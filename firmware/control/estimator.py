"""Bed angle from the IMU: a complementary filter with gyro-bias tracking.

The gyro is integrated for the short term (smooth, immune to the actuator's
vibration); the accelerometer's tilt pulls the estimate back over seconds and
also learns the gyro's bias, so the estimate neither drifts nor shakes:

    theta' = (gyro - bias) + KP * (theta_accel - theta)
    bias'  = -KI * (theta_accel - theta)

KP = 0.4/s and KI = 0.04/s^2 (critically damped at 0.2 rad/s) put the
accelerometer's noise and vibration far below the 1 degree the caps allow.

Bed frame (see drivers/bedframe.py): `along` points toward the head end,
`normal` out of the bed surface, and the accelerometer reads the reaction to
gravity, so at rest along = -1000 sin(theta), normal = 1000 cos(theta) mg and
theta = atan2(-along, normal). The pitch rate is +d(theta)/dt.

Samples are gated before use: an accelerometer reading whose magnitude is not
close to 1 g (vibration, a bump, a spike), or whose tilt jumps far from the
estimate, is skipped; a gyro reading that is implausibly fast or jumps
between ticks is replaced by the last good one. The health counters say how
long each problem has lasted; the supervisor decides what that means.

Units: angles in microdegrees internally, mdeg out; rates mdeg/s; time ms.
"""
from control.imath import atan2_mdeg

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# KP * dt = 0.4/s * 10 ms = 1/250 per tick, KI * dt = 1/2500 per tick.
_KP_DIV = const(250)
_KI_DIV = const(2500)
# Accelerometer magnitude accepted as "only gravity": 0.85 g .. 1.15 g.
_MAG2_MIN = const(722500)
_MAG2_MAX = const(1322500)
# An accelerometer tilt this far from the estimate is a spike...
_GATE_UDEG = const(5000000)
# ...unless it persists this long, when the estimate is re-seated on it.
_RESEAT_MS = const(500)
# The table cannot turn faster than this, nor change rate this much per tick.
_RATE_LIMIT_MDEG_S = const(60000)
_RATE_JUMP_MDEG_S = const(20000)
# Learned gyro bias is bounded (the part's own zero-rate offset spec is 20 deg/s
# worst case; a larger learned value means something else is wrong).
_BIAS_LIMIT_UDEG_S = const(20000000)


class AngleEstimator:
    def __init__(self):
        self.theta_udeg = 0
        self.bias_udeg_s = 0
        self.rate_mdeg_s = 0
        # Gyro rate less the learned bias: the bed's turning speed.
        self.bed_rate_mdeg_s = 0
        self.theta_accel_mdeg = 0
        self.seated = False
        # Health, each the time (ms) the condition has lasted without a break.
        self.no_data_ms = 0
        self.frozen_ms = 0
        self.implausible_ms = 0
        self.rejected_ms = 0
        self._last_along = 0
        self._last_normal = 0
        self._last_rate = 0

    def theta_mdeg(self):
        return self.theta_udeg // 1000

    def reseat(self, theta_mdeg):
        self.theta_udeg = theta_mdeg * 1000
        self.seated = True

    def update(self, ok, along_mg, normal_mg, rate_mdeg_s, dt_ms):
        """Fold in one IMU sample (ok False: the read failed this tick)."""
        if not ok:
            self.no_data_ms += dt_ms
            # Coast on the last good rate for the moment; the supervisor
            # acts on no_data_ms long before the coasting matters.
            self.theta_udeg += (self.rate_mdeg_s * 1000 - self.bias_udeg_s) * dt_ms // 1000
            return
        self.no_data_ms = 0

        # Real sensor noise changes every sample; identical samples mean the
        # part or the bus stopped updating.
        if (along_mg == self._last_along and normal_mg == self._last_normal
                and rate_mdeg_s == self._last_rate):
            self.frozen_ms += dt_ms
        else:
            self.frozen_ms = 0
        self._last_along = along_mg
        self._last_normal = normal_mg
        self._last_rate = rate_mdeg_s

        implausible = False
        jump = rate_mdeg_s - self.rate_mdeg_s
        if (rate_mdeg_s > _RATE_LIMIT_MDEG_S or rate_mdeg_s < -_RATE_LIMIT_MDEG_S
                or jump > _RATE_JUMP_MDEG_S or jump < -_RATE_JUMP_MDEG_S):
            implausible = True
        else:
            self.rate_mdeg_s = rate_mdeg_s
        self.theta_udeg += (self.rate_mdeg_s * 1000 - self.bias_udeg_s) * dt_ms // 1000

        if along_mg > 8000 or along_mg < -8000 or normal_mg > 8000 or normal_mg < -8000:
            implausible = True
        else:
            mag2 = along_mg * along_mg + normal_mg * normal_mg
            if mag2 < _MAG2_MIN or mag2 > _MAG2_MAX:
                # Not only gravity: vibration or a knock. Skip the tilt.
                self.rejected_ms += dt_ms
            else:
                tilt_mdeg = atan2_mdeg(-along_mg, normal_mg)
                self.theta_accel_mdeg = tilt_mdeg
                if not self.seated:
                    self.reseat(tilt_mdeg)
                innov = tilt_mdeg * 1000 - self.theta_udeg
                if innov > _GATE_UDEG or innov < -_GATE_UDEG:
                    self.rejected_ms += dt_ms
                    if self.rejected_ms >= _RESEAT_MS:
                        # Persistent, so not a spike: the estimate was wrong.
                        self.reseat(tilt_mdeg)
                        self.rejected_ms = 0
                else:
                    self.rejected_ms = 0
                    self.theta_udeg += innov // _KP_DIV
                    bias = self.bias_udeg_s - innov // _KI_DIV
                    if bias > _BIAS_LIMIT_UDEG_S:
                        bias = _BIAS_LIMIT_UDEG_S
                    elif bias < -_BIAS_LIMIT_UDEG_S:
                        bias = -_BIAS_LIMIT_UDEG_S
                    self.bias_udeg_s = bias
        self.bed_rate_mdeg_s = self.rate_mdeg_s - self.bias_udeg_s // 1000
        if implausible:
            self.implausible_ms += dt_ms
        else:
            self.implausible_ms = 0
