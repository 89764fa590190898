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
_RESEAT_MS = const(200)
# At power-up the bed is braked and still: the first samples give the gyro's
# bias and the starting angle directly, instead of a slow convergence.
_BOOT_SAMPLES = const(50)
# Spike score: a gross outlier adds this, a clean sample takes one away.
# Three outliers within about a second, or a steady stream, mean a failing part.
_SPIKE_COST = const(34)
SPIKE_FAULT_SCORE = const(100)
# Accelerometer magnitudes outside 0.5 g .. 2 g are outliers, not vibration.
_MAG2_GROSS_MIN = const(250000)
_MAG2_GROSS_MAX = const(4000000)
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
        self.spike_score = 0
        self._boot_n = 0
        self._boot_rate_sum = 0
        self._boot_tilt_sum = 0
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

    def _boot_sample(self, tilt_mdeg, rate_mdeg_s):
        self._boot_n += 1
        self._boot_tilt_sum += tilt_mdeg
        self._boot_rate_sum += rate_mdeg_s
        self.theta_accel_mdeg = tilt_mdeg
        if self._boot_n >= _BOOT_SAMPLES:
            n = self._boot_n
            self.bias_udeg_s = self._boot_rate_sum * 1000 // n
            self.rate_mdeg_s = self._boot_rate_sum // n
            self.reseat(self._boot_tilt_sum // n)

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
        spike = False
        jump = rate_mdeg_s - self.rate_mdeg_s
        if (rate_mdeg_s > _RATE_LIMIT_MDEG_S or rate_mdeg_s < -_RATE_LIMIT_MDEG_S
                or jump > _RATE_JUMP_MDEG_S or jump < -_RATE_JUMP_MDEG_S):
            implausible = True
            spike = True
        else:
            self.rate_mdeg_s = rate_mdeg_s
        self.theta_udeg += (self.rate_mdeg_s * 1000 - self.bias_udeg_s) * dt_ms // 1000

        if along_mg > 8000 or along_mg < -8000 or normal_mg > 8000 or normal_mg < -8000:
            implausible = True
            spike = True
        else:
            mag2 = along_mg * along_mg + normal_mg * normal_mg
            if mag2 < _MAG2_MIN or mag2 > _MAG2_MAX:
                # Not only gravity: vibration or a knock. Skip the tilt.
                self.rejected_ms += dt_ms
                if mag2 < _MAG2_GROSS_MIN or mag2 > _MAG2_GROSS_MAX:
                    spike = True
            elif not self.seated:
                self._boot_sample(atan2_mdeg(-along_mg, normal_mg), rate_mdeg_s)
            else:
                tilt_mdeg = atan2_mdeg(-along_mg, normal_mg)
                self.theta_accel_mdeg = tilt_mdeg
                innov = tilt_mdeg * 1000 - self.theta_udeg
                if innov > _GATE_UDEG or innov < -_GATE_UDEG:
                    self.rejected_ms += dt_ms
                    spike = True
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
        if spike:
            self.spike_score += _SPIKE_COST
            if self.spike_score > 4 * SPIKE_FAULT_SCORE:
                self.spike_score = 4 * SPIKE_FAULT_SCORE
        elif self.spike_score > 0:
            self.spike_score -= 1
        if implausible:
            self.implausible_ms += dt_ms
        else:
            self.implausible_ms = 0
