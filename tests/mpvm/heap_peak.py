# The firmware's heap on the MicroPython VM, over a whole session:
#
#     .venv/bin/micropython -X heapsize=64K tests/mpvm/heap_peak.py
#
# No simulator here (its plant is far bigger than the firmware): machine.py
# next to this script is a light stand-in board with an integer kinematic
# table. Everything in this process shares the one heap, so the figures are
# upper bounds for the firmware: interpreter state, this script and the
# stand-in all count, and the firmware is compiled from source in the VM
# (frozen or .mpy modules on the board skip the compiler's transient use).
# The unix port is 64-bit: its objects are up to twice the ESP32's size.
#
# Session: boot (board file, drivers, IMU check and self-test, App), START of
# "decompression" (swings, then the 60-degree hold) with host heartbeats over
# the UART, STOP pressed while inverted about 2.5 minutes in, the emergency
# return, release, then "beginner" to its end and the normal return with its
# dwell: about 5.5 virtual minutes.
#
# Prints the live heap (gc.mem_alloc() right after gc.collect(), every 0.5 s
# of virtual time) and "peak_live=<bytes> (<KiB> KiB) heap=<KiB> KiB"; the
# run itself completing proves the whole session, transients included, fits
# in the heap given with -X heapsize. micropython.mem_peak() is printed too
# but is not a high-water mark: it counts every allocation since start and
# is only decreased by explicit frees, never by the garbage collector.
import gc
import sys

import micropython

# Optional: a ROMFS image (a path ending in .romfs, from tests/mpvm/heap_modes.py
# or `mpremote romfs build`) holding the firmware as .mpy and the stand-in
# machine.mpy, mounted at /rom with vfs.VfsRom: its .mpy run in place, as
# frozen modules or a ROMFS partition do on a board. The image's bytes stand
# in for flash: they are read into the heap before the baseline is taken, so
# they count in "interpreter + stand-in", never in the firmware's figures.
import romfs_mount  # noqa: E402

romfs_mount.mount_from_argv()

gc.collect()
BASE = gc.mem_alloc()


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


HERE = _dirname(sys.argv[0])
REPO = HERE + "/../.."
# Optional: a folder with the firmware precompiled by mpy-cross (.mpy), as
# it would be deployed; default: the source in firmware/.
FIRMWARE = sys.argv[1] if len(sys.argv) > 1 else REPO + "/firmware"
# FIRMWARE first (a precompiled stand-in may sit there too), then HERE:
# machine.py there replaces the built-in module.
sys.path.insert(0, HERE)
sys.path.insert(0, FIRMWARE)

import machine  # noqa: E402

if not hasattr(machine, "table"):
    print("FAIL: the built-in machine module was imported, not the stand-in")
    sys.exit(1)
table = machine.table
peak = [0]
first = [0]


def sample(label=None):
    gc.collect()
    used = gc.mem_alloc()
    if used > peak[0]:
        peak[0] = used
    if not first[0]:
        first[0] = used
    if label:
        print("live %-28s %6d bytes" % (label, used))
    return used


sample("interpreter + stand-in")

import boardcfg  # noqa: E402

board = boardcfg.load_board(REPO + "/boards/esp32-devkitc-actuator.json")
# As main.py does: the validator is dropped once the board file is checked.
del boardcfg
del sys.modules["boardcfg"]
table.wire(board)
from drivers.board_setup import setup_board  # noqa: E402
from app import App  # noqa: E402

try:
    import scheduler  # noqa: E402,F401  (main.py's loop timing; resident on the board)
except ImportError:
    pass

sample("firmware imported, board")
dev = setup_board(board)
app = App(board, dev, {"level": 3, "preferred_angle": 60})
if not app.core.inputs.selfcheck_ok:
    print("FAIL: IMU self-check failed on the stand-in")
    sys.exit(1)
dog = dev.start_watchdog()
core = app.core
after_boot = sample("App built")
# The interned-string pool only grows (a new pool, twice the last, when one
# is full), so where its growth falls depends on how many names the firmware
# interned before: the test discounts it from the leak check and bounds it.
print("qstr App built:")
micropython.qstr_info()

STOP_PIN = board["buttons"]["stop"]
START_PIN = board["buttons"]["start"]


now = [0]


def tick():
    """What main.py's loop and the lease timer do each 10 ms (App.tick polls
    the host link itself: a b"HB" line arrives every 250 ms)."""
    table.step(10)
    if now[0] % 250 == 0:
        table.uart_rx[0] = 72       # b"HB\n"
        table.uart_rx[1] = 66
        table.uart_rx[2] = 10
        table.uart_len = 3
    app.tick(10)
    dog.feed_if(True)
    app.lease_check(10)
    now[0] += 10
    if now[0] % 500 == 0:
        sample()


def run_until(cond, max_s, what):
    for _ in range(max_s * 100):
        tick()
        if cond():
            return
    print("FAIL: never reached", what, "state", core.state, "theta", core.theta_mdeg)
    sys.exit(1)


def run_s(seconds):
    for _ in range(seconds * 100):
        tick()


run_until(lambda: core.state == "idle", 2, "ready")


def start(name):
    """Choose the program, then press START on the table (it arms, START runs)."""
    ok, why = app.start_program(name)
    if not ok:
        print("FAIL:", name, why)
        sys.exit(1)
    table.press(START_PIN, 0)
    for _ in range(6):
        tick()
    table.press(START_PIN, 1)
    run_until(lambda: core.state != "idle", 1, "program running")


start("decompression")
run_until(lambda: core.state == "holding" and core.theta_mdeg > 55000, 200, "the 60 hold")
sample("holding at 60")
run_s(30)
table.press(STOP_PIN, 1)
run_until(lambda: core.state == "emergency_return", 1, "emergency return")
run_until(lambda: core.state == "idle", 40, "home after STOP")
sample("home after STOP")
table.press(STOP_PIN, 0)
run_s(1)
core.acknowledge()
run_s(5)
start("beginner")
run_until(lambda: core.state == "returning", 150, "the end of the program")
run_until(lambda: core.state == "idle", 80, "home")
sample("home, session over")
print("qstr home, session over:")
micropython.qstr_info()
print("virtual time %d s, ticks %d" % (now[0] // 1000, now[0] // 10))
print("firmware live after boot: %d bytes over the interpreter baseline"
      % (after_boot - first[0]))
print("mem_peak (cumulative, not a high-water mark): %d" % micropython.mem_peak())
print("peak_live=%d (%.1f KiB) heap=%d KiB" % (peak[0], peak[0] / 1024,
                                               (gc.mem_alloc() + gc.mem_free()) // 1024))
