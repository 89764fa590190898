"""IMU axes to bed axes, as the board file's imu.along/normal/pitch say.

Usage::

    frame = BedFrame(imu, "+x", "+z", "+y")
    imu.read()
    frame.update()
    frame.along_mg, frame.normal_mg, frame.pitch_rate_mdeg_s

The board's axes (checked by boardcfg) are: along = along the bed toward the
head end, normal = out of the bed's lying surface, pitch = normal x along, so
a positive pitch rate turns the table head-down. At rest that gives
along_mg ~ -1000 sin(theta), normal_mg ~ 1000 cos(theta) and
pitch_rate_mdeg_s ~ d(theta)/dt.
"""
TYPE_CHECKING = False
if TYPE_CHECKING:
    from drivers.imu_parts import Imu

AXES = ("+x", "-x", "+y", "-y", "+z", "-z")


def parse_axis(axis):
    """'+x' -> (0, 1), '-z' -> (2, -1): index into x/y/z and sign."""
    if axis not in AXES:
        raise ValueError("axis must be one of %s, not %r" % (", ".join(AXES), axis))
    return "xyz".index(axis[1]), (1 if axis[0] == "+" else -1)


def pitch_axis(along, normal):
    """The pitch axis the convention above implies: normal x along."""
    along_index, along_sign = parse_axis(along)
    normal_index, normal_sign = parse_axis(normal)
    if along_index == normal_index:
        raise ValueError("along and normal must be different axes")
    # e_n x e_a is +e_k when (n, a, k) is a cyclic order of (x, y, z).
    sign = normal_sign * along_sign * (1 if (along_index - normal_index) % 3 == 1 else -1)
    return ("+" if sign > 0 else "-") + "xyz"[3 - along_index - normal_index]


class BedFrame:
    def __init__(self, imu: "Imu", along: str, normal: str, pitch: str) -> None:
        self._imu = imu
        # Parsed once here so update() is a few integer operations.
        self._along_index, self._along_sign = parse_axis(along)
        self._normal_index, self._normal_sign = parse_axis(normal)
        self._pitch_index, self._pitch_sign = parse_axis(pitch)
        if len(set((self._along_index, self._normal_index, self._pitch_index))) != 3:
            raise ValueError("along, normal and pitch must be three different axes")
        self.along_mg = 0
        self.normal_mg = 0
        self.pitch_rate_mdeg_s = 0

    def update(self):
        """Re-map the IMU's latest read(); call right after it, every tick."""
        imu = self._imu
        # The axis picked inline (0 = x, 1 = y, 2 = z): no helper calls per tick.
        i = self._along_index
        raw = imu.accel_x if i == 0 else (imu.accel_y if i == 1 else imu.accel_z)
        self.along_mg = self._along_sign * imu.accel_mg(raw)
        i = self._normal_index
        raw = imu.accel_x if i == 0 else (imu.accel_y if i == 1 else imu.accel_z)
        self.normal_mg = self._normal_sign * imu.accel_mg(raw)
        i = self._pitch_index
        raw = imu.gyro_x if i == 0 else (imu.gyro_y if i == 1 else imu.gyro_z)
        self.pitch_rate_mdeg_s = self._pitch_sign * imu.gyro_mdeg_s(raw)
