# Allocation proof for the control tick, on the MicroPython VM (unix port):
#
#     .venv/bin/micropython -X heapsize=1M tests/mpvm/heap_tick.py [session|buttons]
#
# A closed loop: the simulator's Plant and emulated machine (their own
# allocations do not count) drive the real App. Every tick App.tick reads the
# sensors and applies the outputs as usual, but Core.tick itself runs between
# micropython.heap_lock() and heap_unlock(): any allocation inside it raises
# MemoryError.
#   session: a program moving and holding, its normal return (dwell), a second
#            program and STOP pressed mid-motion while inverted (emergency).
#   buttons: hold-to-run jog UP and its release, START/PAUSE pause and resume
#            during a program, then a runaway and the halt.
# Prints the ticks per state and "ticks_locked=N alloc_failures=0"; on an
# allocation prints the tick, the state and the traceback and exits 1.
import json
import sys

import micropython


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


HERE = _dirname(sys.argv[0])
REPO = HERE + "/../.."
sys.path.insert(0, REPO + "/firmware")
sys.path.insert(0, REPO)
SCENARIO = sys.argv[1] if len(sys.argv) > 1 else "session"

from simulator.plant import Plant  # noqa: E402
from simulator import machine as sim_machine  # noqa: E402

with open(REPO + "/boards/esp32-devkitc-actuator.json") as f:
    BOARD = json.load(f)
plant = Plant(BOARD, None, 3)
sim_machine.install(plant.emul)

from drivers.board_setup import setup_board  # noqa: E402
from app import App  # noqa: E402

dev = setup_board(BOARD)
app = App(BOARD, dev, {"level": 3, "preferred_angle": 60, "hold_s": 20, "dwell_s": 10})
core = app.core
real_tick = core.tick
counts = {}
locked = [0]
failure = [None]


def locked_tick(dt_ms):
    micropython.heap_lock()
    try:
        real_tick(dt_ms)
    except MemoryError as exc:
        micropython.heap_unlock()
        failure[0] = exc
        return
    micropython.heap_unlock()
    locked[0] += 1


# App.tick reads every sensor, calls core.tick (now locked_tick), then drives
# the H-bridge, brake, buzzer and LED: only the core runs under the lock.
core.tick = locked_tick
tick_no = [0]


def step():
    plant.step(10)
    plant.emul.advance(10)
    if tick_no[0] % 25 == 0:
        app.heartbeat("host")
    app.tick(10)
    tick_no[0] += 1
    if failure[0] is not None:
        print("ALLOCATION inside Core.tick at tick", tick_no[0], "state", core.state,
              "theta", core.theta_mdeg)
        sys.print_exception(failure[0])
        sys.exit(1)
    s = core.state
    counts[s] = counts.get(s, 0) + 1


def steps(n):
    for _ in range(n):
        step()


def run_until(cond, max_ticks, what):
    for _ in range(max_ticks):
        step()
        if cond():
            return
    print("FAIL: never reached", what, "state", core.state, "theta", core.theta_mdeg)
    sys.exit(1)


def start(name):
    """Choose the program, then press START on the table (it arms, START runs)."""
    ok, why = app.start_program(name)
    if not ok:
        print("FAIL: start_program", name, why)
        sys.exit(1)
    plant.press("start")
    steps(6)
    plant.release("start")
    run_until(lambda: core.state != "idle", 10, "program " + name + " running")


def lock_works():
    """The build's heap lock really refuses allocation (not a no-op)."""
    micropython.heap_lock()
    try:
        junk = [0] * 8  # noqa: F841
        refused = False
    except MemoryError:
        refused = True
    micropython.heap_unlock()
    return refused


def session():
    start("decompression")
    # Swings 0..20 (moving), the 60-degree hold (holding), the normal return.
    run_until(lambda: core.state == "holding" and core.theta_mdeg > 55000, 20000, "the 60 hold")
    run_until(lambda: core.state == "returning", 5000, "the return")
    run_until(lambda: core.state == "idle", 10000, "home")
    # Second program; STOP while moving head-down and inverted.
    start("beginner")
    run_until(lambda: core.state == "moving" and core.theta_mdeg > 12000, 5000, "inverted")
    plant.press("stop")
    run_until(lambda: core.state == "emergency_return", 1, "the emergency return")
    run_until(lambda: core.state == "idle", 5000, "home after STOP")
    plant.release("stop")
    steps(10)                           # the release is debounced (30 ms)
    core.acknowledge()                  # the host acknowledges the STOP alarm
    steps(300)
    return ("moving", "holding", "emergency_return", "returning")


def buttons():
    # Hold-to-run jog up from home, then let go.
    plant.press("up")
    steps(500)
    plant.release("up")
    run_until(lambda: core.state == "idle", 300, "jog stop")
    # START/PAUSE during a program, and again to resume.
    start("beginner")
    steps(300)
    plant.press("start")
    run_until(lambda: core.state == "paused", 20, "paused")
    plant.release("start")
    steps(200)
    plant.press("start")
    run_until(lambda: core.state != "paused", 20, "resumed")
    plant.release("start")
    steps(200)
    # Motion nobody commanded (the actuator retracts while driven to extend):
    # the runaway halt, and staying halted.
    plant.inject_fault("actuator_runaway", duty=-0.6)
    run_until(lambda: core.state == "halted", 50, "halted")
    steps(300)
    return ("jog", "paused", "halted")


def main():
    if not lock_works():
        print("FAIL: micropython.heap_lock() does not stop allocation on this build")
        sys.exit(1)
    run_until(lambda: core.state == "idle", 100, "ready")
    if SCENARIO == "session":
        needs = session()
        least = 1000
    elif SCENARIO == "buttons":
        needs = buttons()
        least = 100
    else:
        print("FAIL: unknown scenario", SCENARIO)
        sys.exit(2)
    print("ticks by state: " + ", ".join("%s=%d" % (n, counts[n]) for n in sorted(counts)))
    for need in needs:
        if counts.get(need, 0) < least:
            print("FAIL: only", counts.get(need, 0), "ticks", need)
            sys.exit(1)
    print("ticks_locked=%d alloc_failures=0" % locked[0])


main()
