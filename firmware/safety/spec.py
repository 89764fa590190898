"""The numbers of SPEC.md, in the firmware's integer units.

Every ceiling and default lives here and nowhere else. "CEILING" and "HARD"
values may never be exceeded by any profile, setting or command; "DEFAULT"
values are what a fresh board uses.

Units: angles in millidegrees (mdeg), rates in mdeg/s, accelerations in
mdeg/s^2, jerks in mdeg/s^3, times in milliseconds.
"""
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

TICK_MS = const(10)

# R1: angle caps. Level caps index by progression level 0-4.
HARD_CAP_MDEG = const(90000)
_DEFAULT_CAP_MDEG = const(60000)
FULL_INVERSION_ABOVE_MDEG = const(60000)
LEVEL_CAPS_MDEG = (30000, 40000, 50000, 60000, 90000)
FULL_INVERSION_LEVEL = const(4)
CAP_TOLERANCE_MDEG = const(1000)

# R2: hold ceilings per continuous hold, by band upper edge (band is (prev, edge]).
HOLD_BAND_EDGES_MDEG = (30000, 60000, 90000)
HOLD_CEILINGS_MS = (300000, 180000, 120000)
SESSION_INVERTED_CEILING_MS = const(600000)
BEGINNER_HOLD_MS = const(120000)
BEGINNER_SESSION_MS = const(300000)
DWELL_DEFAULT_MS = const(30000)
DWELL_MAX_MS = const(180000)

# R4: motion limits. The jerk values are ours (the spec only asks for no step in
# acceleration): 40 deg/s^3 ramps to full acceleration in 1/8 s, smooth to the
# person yet short enough that a jog stops within its 0.5 s.
RATE_CEILING_MDEG_S = const(6000)
BEGINNER_RATE_MDEG_S = const(3000)
ACCEL_CEILING_MDEG_S2 = const(5000)
JERK_MDEG_S3 = const(40000)
JOG_RATE_MDEG_S = const(1200)
_JOG_STOP_MS = const(500)
REVERSAL_DEAD_MS = const(200)

# R5: emergency return while theta > 0.
EMERGENCY_RATE_MDEG_S = const(10000)
EMERGENCY_ACCEL_MDEG_S2 = const(10000)
EMERGENCY_JERK_MDEG_S3 = const(80000)
_EMERGENCY_EXTRA_MS = const(2000)
ALARM_REPEAT_MS = const(30000)
# Pinch or stall during a return: stop, wait (1 s, doubling with each
# retry), then retry this slowly.
RETRY_WAIT_MS = const(1000)
RETRY_RATE_MDEG_S = const(1500)
RETRY_LIMIT = const(4)

# R6: heartbeat.
HEARTBEAT_DEFAULT_MS = const(1000)
HEARTBEAT_MIN_MS = const(200)
HEARTBEAT_MAX_MS = const(5000)

# R7: a pause at home longer than this restarts the program.
PAUSE_RESTART_MS = const(300000)

# R10: faults are acted on within this time unless said otherwise.
_FAULT_DETECT_MS = const(300)
DISAGREE_LIMIT_MDEG = const(5000)
BOOT_WARNING_MS = const(3000)
BOOT_RETURN_RATE_MDEG_S = const(2000)
RATED_MASS_DEFAULT_KG = const(136)
