# Where the firmware's code heap goes, module by module, on the MicroPython VM:
#
#     .venv/bin/micropython -X heapsize=1M tests/mpvm/heap_breakdown.py [DIR | IMAGE.romfs]
#
# DIR: the firmware as source (default firmware/) or as .mpy; IMAGE.romfs: a
# ROMFS image of the .mpy (tests/mpvm/heap_modes.py --keep DIR makes both),
# mounted at /rom as heap_peak.py does. Imports the modules one by one in
# dependency order (a module's own imports already done), so each line is
# what that module alone adds: the live heap after gc.collect(), the qstrs it
# interns (micropython.qstr_info() is printed after each import; "qstrs"
# below is its n_qstr difference), and what it defines: functions, classes,
# methods (functions, static and class methods in class bodies) and the
# globals left in its dict (names of other modules' imports included).
import gc
import sys

import micropython

import romfs_mount  # noqa: E402

romfs_mount.mount_from_argv()

HERE = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
FIRMWARE = sys.argv[1] if len(sys.argv) > 1 else HERE + "/../../firmware"
sys.path.insert(0, HERE)
sys.path.insert(0, FIRMWARE)

ORDER = (
    "machine",
    "drivers", "drivers.ticks", "drivers.imu_parts", "drivers.analog", "drivers.bedframe",
    "safety", "safety.spec", "safety.limits", "safety.lease",
    "control", "control.imath", "control.estimator", "control.trajectory",
    "control.actuator_ctl", "control.brake_ctl", "control.sequencer",
    "safety.supervisor", "core",
    "drivers.brake", "drivers.buttons", "drivers.hbridge", "drivers.hostlink",
    "drivers.indicators", "drivers.watchdog", "drivers.mpu6050", "drivers.board_setup",
    "session", "session.programs", "session.profiles", "session.progression",
    "session.calibration", "session.log",
    "link", "link.frame", "link.auth", "link.telemetry", "link.server",
    "app", "scheduler", "session.storage",
    # Validators that main.py and session/profiles.py drop after use.
    "boardcfg", "profile_schema",
)



def _f():
    pass


class _C:
    pass


FUNC = type(_f)
TYPE = type(_C)
seen = set()  # ids of the objects in the modules imported before


def _count(mod):
    """Functions, classes and their methods defined by mod (not imported),
    and all its globals."""
    funcs = classes = meths = glob = 0
    for name in dir(mod):
        if name.startswith("__"):
            continue
        glob += 1
        v = getattr(mod, name)
        if id(v) in seen:
            continue
        seen.add(id(v))
        t = type(v)
        if t is FUNC:
            funcs += 1
        elif t is TYPE:
            classes += 1
            for m in v.__dict__.values():
                if type(m) in (FUNC, staticmethod, classmethod, property):
                    meths += 1
    return funcs, classes, meths, glob


gc.collect()
start = gc.mem_alloc()
micropython.qstr_info()
total = 0
print("%-22s %7s %5s %5s %5s %5s" % ("module", "bytes", "funcs", "class", "meths", "globs"))
for name in ORDER:
    gc.collect()
    before = gc.mem_alloc()
    __import__(name)
    mod = sys.modules[name]
    gc.collect()
    used = gc.mem_alloc() - before
    total += used
    print("%-22s %7d %5d %5d %5d %5d" % ((name, used) + _count(mod)))
    micropython.qstr_info()
print("%-22s %7d" % ("total", total))
