"""The board's own calibration, stored atomically: IMU level offset and the
position sensor's raw-to-angle table.

The board file carries a nominal table; a calibration measured on the real
table replaces it. Each is checked before it is stored or used: a table must
rise with the raw reading and stay monotonic in angle, or the position
sensor's cross-check of the IMU would be meaningless.
"""
import json

RECORD = "calibration"
# The IMU is mounted on the bed by hand: a few degrees at most. A larger
# "offset" means the bed was not level when the calibration was asked for.
LEVEL_OFFSET_LIMIT_MDEG = 5000
ADC_MAX = 4095


class CalibrationError(ValueError):
    pass


def check_table(table, mech_min_mdeg, mech_max_mdeg):
    """A position table [[raw, mdeg], ...], sorted by raw; raises CalibrationError."""
    if not isinstance(table, list) or len(table) < 2:
        raise CalibrationError("position table: need at least 2 points")
    prev = None
    rising = None
    for i, point in enumerate(table):
        if not isinstance(point, list) or len(point) != 2:
            raise CalibrationError("position table[%d]: expected [raw, mdeg]" % i)
        raw, mdeg = point
        if not isinstance(raw, int) or not isinstance(mdeg, int):
            raise CalibrationError("position table[%d]: integers expected" % i)
        if raw < 0 or raw > ADC_MAX:
            raise CalibrationError("position table[%d]: raw %d outside 0..%d" % (i, raw, ADC_MAX))
        if mdeg < mech_min_mdeg - 5000 or mdeg > mech_max_mdeg + 5000:
            raise CalibrationError("position table[%d]: angle %d mdeg outside the travel" % (i, mdeg))
        if prev is not None:
            if raw <= prev[0]:
                raise CalibrationError("position table[%d]: raw readings must rise" % i)
            up = mdeg > prev[1]
            if mdeg == prev[1] or (rising is not None and up != rising):
                raise CalibrationError("position table[%d]: angle must change monotonically" % i)
            rising = up
        prev = point
    return table


def load(storage):
    """(calibration dict, note). Missing or corrupt: {} (the board file's values)."""
    if storage is None:
        return {}, ""
    payload, status = storage.read(RECORD)
    if payload is None:
        return {}, "" if status == "missing" else "calibration " + status + ": board defaults"
    try:
        cal = json.loads(payload)
    except ValueError:
        return {}, "calibration unreadable: board defaults"
    if not isinstance(cal, dict):
        return {}, "calibration unreadable: board defaults"
    return cal, ""


def save(storage, cal):
    if storage is not None:
        storage.write(RECORD, json.dumps(cal).encode())
