"""Actuator position sensor and current sense on the ESP32 ADC.

Usage::

    position = PositionSensor(adc, [[400, -72000], [3700, 92000]])
    position.read()
    if position.ok: use(position.angle_mdeg)
    current = CurrentSense(adc, ma_per_count=4, offset_counts=0)
    current.read(); current.current_ma

Counts are 12-bit, 0..4095, read as adc.read_u16() >> 4 on every port (the
ADC is built with atten=ADC.ATTN_11DB for a 0-3.1 V span). read_u16 is the
portable call; the board file's calibration raws are in these 12-bit counts.

A potentiometer with a broken lead reads at a rail: ground or supply lead
cut pulls the wiper to the other rail. For an open wiper to do the same the
wiring needs a high-value pull-down on the wiper (e.g. 1 Mohm). Readings
within RAIL_MARGIN_COUNTS of either rail set ok False and keep the last good
angle, so nothing downstream mistakes a broken wire for a position.
"""
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]
        return x

import array

TYPE_CHECKING = False
if TYPE_CHECKING:
    import machine

ADC_MAX_COUNTS = const(4095)
# The ESP32 ADC at 11 dB flattens out within ~100 mV of either rail, so real
# positions are never calibrated that close; there it means a broken wire.
RAIL_MARGIN_COUNTS = const(100)


class PositionSensor:
    def __init__(self, adc: "machine.ADC", cal: list,
                 rail_margin_counts: int = RAIL_MARGIN_COUNTS) -> None:
        """cal: [[raw, angle_mdeg], ...], raw strictly increasing (boardcfg checks)."""
        if len(cal) < 2:
            raise ValueError("position calibration needs at least 2 points")
        self._adc = adc
        # Typed arrays: the interpolation reads them without creating objects.
        self._cal_raw = array.array("i", [point[0] for point in cal])
        self._cal_mdeg = array.array("i", [point[1] for point in cal])
        for i in range(1, len(cal)):
            if self._cal_raw[i] <= self._cal_raw[i - 1]:
                raise ValueError("calibration raw counts must increase")
        self._low_counts = rail_margin_counts
        self._high_counts = ADC_MAX_COUNTS - rail_margin_counts
        self.raw = 0
        self.angle_mdeg = self._cal_mdeg[0]
        self.ok = False
        # Upper end of the table segment the last reading fell in.
        self._segment = 1

    def set_cal(self, cal):
        """Replace the calibration table (a measured one; see session/calibration.py)."""
        self._cal_raw = array.array("i", [point[0] for point in cal])
        self._cal_mdeg = array.array("i", [point[1] for point in cal])
        self._segment = 1

    def read(self):
        """Sample once; update raw, ok and (if ok) angle_mdeg."""
        raw = self._adc.read_u16() >> 4
        self.raw = raw
        if raw < self._low_counts or raw > self._high_counts:
            self.ok = False
            return
        self.ok = True
        self.angle_mdeg = self.angle_of(raw)

    def angle_of(self, raw):
        """Piecewise-linear calibration; clamped to the table's end angles."""
        cal_raw = self._cal_raw
        cal_mdeg = self._cal_mdeg
        last = len(cal_raw) - 1
        if raw <= cal_raw[0]:
            return cal_mdeg[0]
        if raw >= cal_raw[last]:
            return cal_mdeg[last]
        # The segment with cal_raw[i - 1] < raw <= cal_raw[i], searched from
        # the last reading's: the bed moves little between ticks, and a
        # board table has dozens of points.
        i = self._segment
        while cal_raw[i] < raw:
            i += 1
        while cal_raw[i - 1] >= raw:
            i -= 1
        self._segment = i
        raw0 = cal_raw[i - 1]
        mdeg0 = cal_mdeg[i - 1]
        # (raw - raw0) <= 4095 and |mdeg step| <= 185000: product < 2**30.
        return mdeg0 + (raw - raw0) * (cal_mdeg[i] - mdeg0) // (cal_raw[i] - raw0)


class CurrentSense:
    def __init__(self, adc: "machine.ADC", ma_per_count: int, offset_counts: int = 0) -> None:
        self._adc = adc
        self._ma_per_count = ma_per_count
        self._offset_counts = offset_counts
        self.raw = 0
        self.current_ma = 0

    def read(self):
        """Sample once; current_ma is signed for a bidirectional sensor."""
        raw = self._adc.read_u16() >> 4
        self.raw = raw
        self.current_ma = (raw - self._offset_counts) * self._ma_per_count
