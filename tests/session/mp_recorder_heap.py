# The SessionRecorder behind the real App and Core, on the MicroPython VM:
#
#     .venv/bin/micropython -X heapsize=2M tests/session/mp_recorder_heap.py
#
# A closed loop on the simulator's plant (as tests/mpvm/heap_tick.py): a
# decompression program to its end and normal return, then a second program
# stopped with STOP while inverted. After every App.tick the recorder's tick
# runs under micropython.heap_lock(); only its event methods (a session
# opening or closing, a trigger, a fault, a write at rest) unlock the heap,
# so any allocation anywhere else in the per-tick path raises MemoryError.
# Prints "quiet_ticks=N event_calls=M" and the log, or "FAIL ...", exit 1.
import json
import sys

import micropython


def _dirname(path):
    return path.rsplit("/", 1)[0] if "/" in path else "."


HERE = _dirname(sys.argv[0])
REPO = HERE + "/../.."
sys.path.insert(0, REPO + "/firmware")
sys.path.insert(0, REPO)

from simulator.plant import Plant  # noqa: E402
from simulator import machine as sim_machine  # noqa: E402
from simulator.flash import FlashFs  # noqa: E402

with open(REPO + "/boards/esp32-devkitc-actuator.json") as f:
    BOARD = json.load(f)
plant = Plant(BOARD, None, 3)
sim_machine.install(plant.emul)

from drivers.board_setup import setup_board  # noqa: E402
from app import App  # noqa: E402
from session.storage import Storage  # noqa: E402
from session.log import Log, SessionRecorder  # noqa: E402

event_calls = [0]


class LockedRecorder(SessionRecorder):
    """The event methods unlock the heap (fixed arities: *args would
    allocate a tuple before the unlock). Nested calls (flush from _at_rest)
    leave the heap to the outermost one."""

    depth = 0

    def _start(self, core, now_s, st):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder._start(self, core, now_s, st)
        self.depth -= 1
        if outer:
            micropython.heap_lock()

    def _trigger(self, core, now_s, reason):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder._trigger(self, core, now_s, reason)
        self.depth -= 1
        if outer:
            micropython.heap_lock()

    def _fault_changed(self, core, now_s):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder._fault_changed(self, core, now_s)
        self.depth -= 1
        if outer:
            micropython.heap_lock()

    def _end(self, core, now_s):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder._end(self, core, now_s)
        self.depth -= 1
        if outer:
            micropython.heap_lock()

    def flush(self):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder.flush(self)
        self.depth -= 1
        if outer:
            micropython.heap_lock()

    def _at_rest(self):
        outer = self.depth == 0
        if outer:
            micropython.heap_unlock()
            event_calls[0] += 1
        self.depth += 1
        SessionRecorder._at_rest(self)
        self.depth -= 1
        if outer:
            micropython.heap_lock()


ended = []
recorder = LockedRecorder(Log(Storage(FlashFs(0))), ended.append)
app = App(BOARD, setup_board(BOARD), {"level": 3, "preferred_angle": 60,
                                      "dwell_s": 10})
core = app.core
WALL_S = 1767225600
quiet = [0]


def step():
    plant.step(10)
    plant.emul.advance(10)
    app.heartbeat("host")
    app.tick(10)
    micropython.heap_lock()
    try:
        recorder.tick(core, 10, WALL_S)
    except MemoryError as exc:
        micropython.heap_unlock()
        print("FAIL allocation in SessionRecorder.tick: state", core.state, "theta",
              core.theta_mdeg, "event", repr(core.event))
        sys.print_exception(exc)
        sys.exit(1)
    micropython.heap_unlock()
    quiet[0] += 1


def run_until(cond, max_ticks, what):
    for _ in range(max_ticks):
        step()
        if cond():
            return
    print("FAIL never reached", what, "state", core.state, "theta", core.theta_mdeg)
    sys.exit(1)


def start(name):
    ok, why = app.start_program(name)
    if not ok:
        print("FAIL start_program", name, why)
        sys.exit(1)
    recorder.note_program(name, core.sequencer.steps or [])
    plant.press("start")
    for _ in range(6):
        step()
    plant.release("start")
    run_until(lambda: core.state not in ("idle", "boot"), 50, name + " running")


run_until(lambda: core.state == "idle", 200, "ready")
start("decompression")
run_until(lambda: core.state == "returning", 30000, "the return")
run_until(lambda: core.state == "idle", 10000, "home")
for _ in range(50):
    step()
start("beginner")
run_until(lambda: core.state == "moving" and core.theta_mdeg > 12000, 5000, "inverted")
plant.press("stop")
run_until(lambda: core.state == "idle" and core.theta_mdeg < 0 and core.brake_engaged, 8000,
          "home after STOP")
plant.release("stop")
for _ in range(100):
    step()
outcomes = [s["outcome"] for s in ended]
if outcomes != ["completed", "symptom_stop"]:
    print("FAIL outcomes", outcomes)
    for line in recorder.log.lines():
        print(line)
    sys.exit(1)
for line in recorder.log.lines():
    print(line)
print("quiet_ticks=%d event_calls=%d" % (quiet[0], event_calls[0]))
