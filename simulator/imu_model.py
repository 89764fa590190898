"""MPU-6050 register model behind an emulated I2C bus.

Usage::

    imu = Mpu6050(source, board["imu"], rng, clock)
    board_emul.add_i2c_device(0, 0x68, imu)

`source` is the plant: it has theta_deg, rate_deg_s and vib (0..1, motor
speed as a fraction of no-load speed). The model samples it lazily, when
the firmware reads a data register, so an unread IMU costs nothing.

Axis convention (the board's imu section, e.g. along "+x", normal "+z",
pitch "+y"; sensor axis with sign):
  along  - the sensor axis pointing along the bed toward the HEAD end;
  normal - the sensor axis pointing out of the lying surface;
  pitch  - normal x along (right-handed, as any real MPU mounting is; the
           model refuses a board whose pitch is not normal x along).
The accelerometer reports specific force (the reaction to gravity, +1 g on
the axis that points up), so at rest:

    along_g  = -sin(theta)       (theta = +30: along reads -0.5 g)
    normal_g = +cos(theta)
    pitch rate = +d(theta)/dt    (positive while turning head-down)

and the firmware estimator is theta = atan2(-along_mg, normal_mg).

Mounting: imu.level_offset_mdeg (board) is the sensor's tilt on the bed,
which the model applies (the sensor reads theta + offset) and the firmware
subtracts. The imu_bias fault adds `value` degrees the same way.

Registers: WHO_AM_I 0x75 = 0x68; PWR_MGMT_1 0x6B resets to 0x40 (SLEEP):
data registers read 0 until the part is woken, and the first sample
appears GYRO_STARTUP_US after waking. DEVICE_RESET (0x6B bit 7) restores
every register and self-clears. CONFIG 0x1A (DLPF_CFG, first-order low
pass at the datasheet bandwidth), SMPLRT_DIV 0x19 (new data at
1 kHz/(1+div) with the DLPF on, 8 kHz/(1+div) off), GYRO_CONFIG 0x1B and
ACCEL_CONFIG 0x1C (full scale; bits 7..5 enable self-test, which adds the
factory-trim response of SELF_TEST_X..A 0x0D-0x10 to the output, the Y gyro
response being negative as in the datasheet's formula), data 0x3B..0x48
big-endian int16: accel xyz, temperature, gyro xyz.

Noise (keys in the board's imu section override): accel white noise
400 ug/sqrt(Hz) over the DLPF bandwidth, per-axis zero-g offset
(accel_offset_mg_sigma 3 mg), gyro white noise 0.005 dps/sqrt(Hz), gyro
bias (gyro_bias_dps_sigma 1.0) with a random walk (gyro_bias_walk_dps_sqrt_s
0.002), vibration from the actuator proportional to motor speed
(vib_accel_mg 20, vib_gyro_dps 0.3 at full speed, before the DLPF).

Faults: freeze (data registers stop changing), spike (rate, default 0.05:
a sample gets a huge outlier on one accel and one gyro axis), bias (value
deg), bus_error (rate, default 1.0: transactions raise OSError(EIO)),
missing (OSError(ENODEV) on every access, absent from scan).
"""
import math
import struct

from .physics import DEG
from .noise import gauss_frames

EIO = 5
ENODEV = 19

WHO_AM_I_VALUE = 0x68
_SELF_TEST_X = 0x0D
_SELF_TEST_A = 0x10
_SMPLRT_DIV = 0x19
_CONFIG = 0x1A
_GYRO_CONFIG = 0x1B
_ACCEL_CONFIG = 0x1C
_INT_STATUS = 0x3A
_DATA = 0x3B
_DATA_END = 0x49
_PWR_MGMT_1 = 0x6B
_WHO_AM_I = 0x75
_SLEEP = 0x40
_DEVICE_RESET = 0x80

GYRO_STARTUP_US = 30000
# DLPF_CFG 0..7 -> accel / gyro bandwidth (Hz); 7 is reserved, treated as 0
_ACCEL_BW = (260, 184, 94, 44, 21, 10, 5, 260)
_GYRO_BW = (256, 188, 98, 42, 20, 10, 5, 256)
# factory trim codes (5 bits each) this simulated part was "made" with
_XA, _YA, _ZA = 15, 16, 17
_XG, _YG, _ZG = 14, 17, 15

_AXES = ("+x", "-x", "+y", "-y", "+z", "-z")
_PACK = struct.pack_into


def parse_axis(axis):
    if axis not in _AXES:
        raise ValueError("IMU axis must be one of +x -x +y -y +z -z, not %r" % (axis,))
    return "xyz".index(axis[1]), (1 if axis[0] == "+" else -1)


def cross_axis(normal, along):
    """The signed axis name of normal x along."""
    ni, ns = parse_axis(normal)
    ai, asg = parse_axis(along)
    if ni == ai:
        raise ValueError("along and normal must be different axes")
    sign = ns * asg * (1 if (ai - ni) % 3 == 1 else -1)
    return ("+" if sign > 0 else "-") + "xyz"[3 - ai - ni]


def accel_trim_lsb(code):
    """Datasheet factory trim, LSB at +-8 g (register map rev 4.2, 4.1)."""
    if code == 0:
        return 0.0
    return 4096 * 0.34 * (0.92 / 0.34) ** ((code - 1) / 30.0)


def gyro_trim_lsb(code):
    """Datasheet factory trim, LSB at +-250 dps."""
    if code == 0:
        return 0.0
    return 25 * 131 * 1.046 ** (code - 1)


def _get(cfg, key, default):
    v = cfg.get(key)
    return default if v is None else float(v)


class Mpu6050:
    def __init__(self, source, imu_cfg, rng, clock):
        self.src = source
        self.rng = rng
        self.clock = clock
        along = imu_cfg.get("along", "+x")
        normal = imu_cfg.get("normal", "+z")
        pitch = imu_cfg.get("pitch", cross_axis(normal, along))
        if pitch != cross_axis(normal, along):
            raise ValueError("imu pitch %s is not normal x along (%s): no real mounting gives that"
                             % (pitch, cross_axis(normal, along)))
        self.ia, self.sa = parse_axis(along)
        self.inn, self.sn = parse_axis(normal)
        self.ip, self.sp = parse_axis(pitch)
        self.level_offset_deg = _get(imu_cfg, "level_offset_mdeg", 0.0) / 1000.0
        self.accel_nd = _get(imu_cfg, "accel_noise_ug_sqrt_hz", 400.0) * 1e-6
        self.gyro_nd = _get(imu_cfg, "gyro_noise_dps_sqrt_hz", 0.005)
        self.vib_accel = _get(imu_cfg, "vib_accel_mg", 20.0) / 1000.0
        self.vib_gyro = _get(imu_cfg, "vib_gyro_dps", 0.3)
        self.bias_walk = _get(imu_cfg, "gyro_bias_walk_dps_sqrt_s", 0.002)
        off_sigma = _get(imu_cfg, "accel_offset_mg_sigma", 3.0) / 1000.0
        bias_sigma = _get(imu_cfg, "gyro_bias_dps_sigma", 1.0)
        g = rng.gauss
        self.accel_off = [off_sigma * g(), off_sigma * g(), off_sigma * g()]
        self.gyro_bias = [bias_sigma * g(), bias_sigma * g(), bias_sigma * g()]
        # faults
        self.missing = False
        self.bus_error_rate = 0.0
        self.freeze = False
        self.spike_rate = 0.0
        self.bias_deg = 0.0
        self._table = rng._table
        self._frames = gauss_frames(8)
        self._lcg = rng.next_u32()
        self.regs = bytearray(128)
        self.power_on_reset()

    # --- reset and configuration ------------------------------------------
    def power_on_reset(self):
        r = self.regs
        for i in range(128):
            r[i] = 0
        r[_PWR_MGMT_1] = _SLEEP
        r[_WHO_AM_I] = WHO_AM_I_VALUE
        r[_SELF_TEST_X] = ((_XA >> 2) << 5) | _XG
        r[_SELF_TEST_X + 1] = ((_YA >> 2) << 5) | _YG
        r[_SELF_TEST_X + 2] = ((_ZA >> 2) << 5) | _ZG
        r[_SELF_TEST_A] = ((_XA & 3) << 4) | ((_YA & 3) << 2) | (_ZA & 3)
        self.awake = False
        self.wake_us = 0
        self.last_k = -1
        self.last_us = 0
        self.fa = 0.0   # filtered along, normal (g) and pitch rate (dps)
        self.fn = 0.0
        self.fr = 0.0
        self._apply_config()

    def _apply_config(self):
        r = self.regs
        cfg = r[_CONFIG] & 7
        self.dlpf_on = 1 <= cfg <= 6
        base_us = 1000 if self.dlpf_on else 125
        self.period_us = base_us * (1 + r[_SMPLRT_DIV])
        abw = _ACCEL_BW[cfg]
        gbw = _GYRO_BW[cfg]
        self.tau_a = 1.0 / (2.0 * math.pi * abw)
        self.tau_g = 1.0 / (2.0 * math.pi * gbw)
        self._alpha_dt = -1
        gc = r[_GYRO_CONFIG]
        ac = r[_ACCEL_CONFIG]
        self.a_lsb = 16384.0 / (1 << ((ac >> 3) & 3))
        self.g_lsb = 131.0 / (1 << ((gc >> 3) & 3))
        # white noise and vibration over the DLPF bandwidth, in LSB
        self._sig_a = self.accel_nd * math.sqrt(abw) * self.a_lsb
        self._sig_g = self.gyro_nd * math.sqrt(gbw) * self.g_lsb
        self._vib_a = self.vib_accel * math.sqrt(abw / 260.0) * self.a_lsb
        self._vib_g = self.vib_gyro * math.sqrt(gbw / 256.0) * self.g_lsb
        st = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        trim = self._trim_codes()
        for i in range(3):
            if ac & (0x80 >> i):
                st[i] = accel_trim_lsb(trim[i]) / 4096.0
            if gc & (0x80 >> i):
                resp = gyro_trim_lsb(trim[3 + i]) / 131.0
                st[3 + i] = -resp if i == 1 else resp
        self.st = st
        self._prepare()

    def _trim_codes(self):
        r = self.regs
        a = r[_SELF_TEST_A]
        return (((r[_SELF_TEST_X] >> 3) & 0x1C) | ((a >> 4) & 3),
                ((r[_SELF_TEST_X + 1] >> 3) & 0x1C) | ((a >> 2) & 3),
                ((r[_SELF_TEST_X + 2] >> 3) & 0x1C) | (a & 3),
                r[_SELF_TEST_X] & 0x1F, r[_SELF_TEST_X + 1] & 0x1F, r[_SELF_TEST_X + 2] & 0x1F)

    # --- bus side -----------------------------------------------------------
    def present(self):
        return not self.missing

    def _bus_check(self):
        if self.missing:
            raise OSError(ENODEV)
        if self.bus_error_rate > 0.0 and self.rng.chance(self.bus_error_rate):
            raise OSError(EIO)

    def write(self, reg, data):
        self._bus_check()
        r = self.regs
        for i in range(len(data)):
            a = reg + i
            if a >= 128:
                break
            v = data[i]
            if a == _WHO_AM_I or _DATA <= a < _DATA_END or _SELF_TEST_X <= a <= _SELF_TEST_A:
                continue  # read-only (self-test trim is factory data)
            if a == _PWR_MGMT_1:
                if v & _DEVICE_RESET:
                    self.power_on_reset()
                    continue
                was = self.awake
                r[a] = v
                self.awake = not (v & _SLEEP)
                if self.awake and not was:
                    self.wake_us = self.clock.now_us
                    self.last_k = -1
                continue
            r[a] = v
        self._apply_config()

    def readinto(self, reg, buf):
        if self.missing or self.bus_error_rate > 0.0:
            self._bus_check()
        n = len(buf)
        if reg < _DATA_END and reg + n > _INT_STATUS and self.awake and not self.freeze:
            # a new sample is latched once per sample period, from the first
            # period boundary after the gyro has started
            now = self.clock.now_us
            since = now - self.wake_us - GYRO_STARTUP_US
            if since >= 0:
                k = since // self.period_us
                if k != self.last_k:
                    if self.last_k < 0:
                        # first sample since waking: the filters start settled
                        self._settle()
                        self.last_us = now - self.period_us
                    self.last_k = k
                    self._sample(now, k)
        r = self.regs
        end = reg + n
        if end <= 128:
            buf[0:n] = r[reg:end]
        else:
            for i in range(n):
                buf[i] = r[(reg + i) & 127]

    # --- the sensor ------------------------------------------------------------
    def _prepare(self):
        """Fold the axis mapping, scales, offsets and faults into constants.

        Sensor axis i reads (ca[i] along + cn[i] normal) g on the
        accelerometer and cp[i] x pitch rate on the gyro; everything is
        kept pre-multiplied by the LSB scale for _sample.
        """
        ca = [0.0, 0.0, 0.0]
        cn = [0.0, 0.0, 0.0]
        cp = [0.0, 0.0, 0.0]
        ca[self.ia] = float(self.sa)
        cn[self.inn] = float(self.sn)
        cp[self.ip] = float(self.sp)
        al = self.a_lsb
        gl = self.g_lsb
        st = self.st
        ao = self.accel_off
        # + 32768.5: int() truncates, so shift into the positive range and
        # round half up (the same on CPython and MicroPython)
        self._coef = (ca[0] * al, ca[1] * al, ca[2] * al,
                      cn[0] * al, cn[1] * al, cn[2] * al,
                      cp[0] * gl, cp[1] * gl, cp[2] * gl,
                      (ao[0] + st[0]) * al + 32768.5,
                      (ao[1] + st[1]) * al + 32768.5,
                      (ao[2] + st[2]) * al + 32768.5,
                      st[3] * gl + 32768.5, st[4] * gl + 32768.5, st[5] * gl + 32768.5, gl)
        self._th_off = self.level_offset_deg + self.bias_deg

    def _settle(self):
        th = (self.src.theta_deg + self._th_off) * DEG
        self.fa = -math.sin(th)
        self.fn = math.cos(th)
        self.fr = self.src.rate_deg_s

    def set_bias_deg(self, deg):
        self.bias_deg = deg
        self._th_off = self.level_offset_deg + deg

    def _sample(self, now, k):
        src = self.src
        th = (src.theta_deg + self._th_off) * DEG
        ta = -math.sin(th)
        tn = math.cos(th)
        tr = src.rate_deg_s
        dt = now - self.last_us
        if dt != self._alpha_dt:
            self._alpha_dt = dt
            self.ka = 1.0 - math.exp(-dt * 1e-6 / self.tau_a)
            self.kg = 1.0 - math.exp(-dt * 1e-6 / self.tau_g)
            self.kw = self.bias_walk * math.sqrt(dt * 16e-6)
        ka = self.ka
        fa = self.fa
        fn = self.fn
        fr = self.fr
        fa += (ta - fa) * ka
        fn += (tn - fn) * ka
        fr += (tr - fr) * self.kg
        self.fa = fa
        self.fn = fn
        self.fr = fr
        self.last_us = now
        vib = src.vib
        sa = self._sig_a + self._vib_a * vib
        sg = self._sig_g + self._vib_g * vib
        # one LCG step picks a frame of 8 independent normal draws
        x = (self._lcg * 1664525 + 1013904223) & 0xFFFFFFFF
        self._lcg = x
        nax, nay, naz, ngx, ngy, ngz, nt, nw = self._frames[x >> 22]
        gb = self.gyro_bias
        if k & 15 == 0:
            # gyro bias random walk, stepped every 16th sample
            table = self._table
            kw = self.kw
            gb[0] += kw * nw
            gb[1] += kw * table[(x >> 4) & 4095]
            gb[2] += kw * table[x & 4095]
        cax, cay, caz, cnx, cny, cnz, cpx, cpy, cpz, ox, oy, oz, gox, goy, goz, gl = self._coef
        gbx, gby, gbz = gb
        # Counts offset by +32768 (0..65535 when in range) until packed.
        qax = int(cax * fa + cnx * fn + ox + sa * nax)
        qay = int(cay * fa + cny * fn + oy + sa * nay)
        qaz = int(caz * fa + cnz * fn + oz + sa * naz)
        qgx = int(cpx * fr + gbx * gl + gox + sg * ngx)
        qgy = int(cpy * fr + gby * gl + goy + sg * ngy)
        qgz = int(cpz * fr + gbz * gl + goz + sg * ngz)
        qt = int(8.0 * nt + 28848.5) - 32768   # 25 C: (25 - 36.53) * 340
        if self.spike_rate > 0.0 and self.rng.chance(self.spike_rate):
            u = self.rng.next_u32()
            big = 24576 + ((u >> 8) & 8191)
            if u & 1:
                big = -big
            j = (u >> 1) % 3
            if j == 0:
                qax += big
            elif j == 1:
                qay += big
            else:
                qaz += big
            j = (u >> 3) % 3
            if j == 0:
                qgx -= big
            elif j == 1:
                qgy -= big
            else:
                qgz -= big
        # One test for all six: an offset count outside 0..65535 (negative,
        # or above 16 bits) leaves bits set under -65536 in the OR.
        if (qax | qay | qaz | qgx | qgy | qgz) & -65536:
            qax = _sat(qax)
            qay = _sat(qay)
            qaz = _sat(qaz)
            qgx = _sat(qgx)
            qgy = _sat(qgy)
            qgz = _sat(qgz)
        _PACK(">7h", self.regs, _DATA, qax - 32768, qay - 32768, qaz - 32768, qt,
              qgx - 32768, qgy - 32768, qgz - 32768)
        self.regs[_INT_STATUS] = 1


def _sat(q):
    """Saturate as the part does at full scale (q offset by +32768)."""
    if q > 65535:
        return 65535
    if q < 0:
        return 0
    return q
