"""The 100 Hz loop keeps its period by deadline, on the simulator's clock."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (ROOT, os.path.join(ROOT, "firmware")):
    if p not in sys.path:
        sys.path.insert(0, p)

from simulator.clock import VirtualClock  # noqa: E402
from scheduler import Scheduler  # noqa: E402


def _run(work_ms_of_tick, ticks):
    clock = VirtualClock()
    sched = Scheduler(clock, 10)
    starts = []
    count = [0]

    def tick(dt_ms):
        starts.append(clock.ticks_ms())
        clock.advance(work_ms_of_tick(count[0]))
        count[0] += 1

    sched.run(tick, lambda: count[0] < ticks)
    return clock, sched, starts


def test_period_is_kept_by_deadline_not_by_sleeping_a_constant():
    # Each tick costs 3 ms; a loop that slept 10 ms after each would drift to 13.
    clock, sched, starts = _run(lambda k: 3, 1000)
    assert starts[-1] - starts[0] == 999 * 10
    assert sched.overruns == 0


def test_jittery_ticks_still_average_the_period():
    clock, sched, starts = _run(lambda k: (k * 7) % 10, 500)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert sum(gaps) == 499 * 10
    assert min(gaps) >= 1


def test_a_long_stall_is_skipped_not_replayed_as_a_burst():
    clock, sched, starts = _run(lambda k: 35 if k == 100 else 1, 200)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # After the 35 ms tick: one late tick at once, then back on the original
    # 10 ms grid; not a burst of back-to-back catch-up ticks.
    assert sched.skipped == 2
    assert sum(1 for g in gaps[100:] if g < 10) == 1
    assert all((t - starts[0]) % 10 == 0 for t in starts[102:])
